from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path

from feedback import views as feedback_views
from orderdesk import health
from orders import views as order_views

urlpatterns = [
    path("healthz/", health.healthz, name="healthz"),
    path("readyz/", health.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include("orderdesk.api_urls")),
    path("track/<str:token>/", order_views.track, name="track"),
    path("survey/<str:token>/", feedback_views.survey, name="survey"),
    path("supervision/", include("supervision.urls")),
    path("notifications/", include("notifications.urls")),
    path("", include("orders.urls")),
]
if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
