from django.contrib import admin
from django.urls import include, path

from feedback import views as feedback_views
from notifications import views as notification_views
from orderdesk import health, media
from orders import views as order_views

urlpatterns = [
    path("healthz/", health.healthz, name="healthz"),
    path("readyz/", health.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    # The language switch also stores a signed-in user's language (their e-mails follow it).
    path("i18n/setlang/", notification_views.set_language, name="set_language"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include("orderdesk.api_urls")),
    path("track/<str:token>/", order_views.track, name="track"),
    path("survey/<str:token>/", feedback_views.survey, name="survey"),
    path("supervision/", include("supervision.urls")),
    path("notifications/", include("notifications.urls")),
    path("", include("orders.urls")),
]
# Uploads (receipt scans, import sheets) through a permission check, DEBUG on or off (orderdesk.media).
urlpatterns.insert(2, path("media/<path:name>", media.serve, name="media"))
