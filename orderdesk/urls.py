from django.contrib import admin
from django.urls import include, path

from feedback import urls as feedback_urls, views as feedback_views
from finance import urls as finance_urls
from logistics import urls as logistics_urls
from notifications import views as notification_views
from orderdesk import health, media
from orders import urls as order_urls
from orders.views import track as tracking
from production import urls as production_urls

# The order desk's pages and, in the same `orders` namespace and under the same `/orders/<id>/` paths, the
# departments' forms on the order page: each app owns its views and URLconf, this root puts them together.
order_pages = [
    *order_urls.urlpatterns,
    *production_urls.urlpatterns,
    *logistics_urls.urlpatterns,
    *finance_urls.urlpatterns,
    *feedback_urls.urlpatterns,
]

urlpatterns = [
    path("healthz/", health.healthz, name="healthz"),
    path("readyz/", health.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    # The language switch also stores a signed-in user's language (their e-mails follow it).
    path("i18n/setlang/", notification_views.set_language, name="set_language"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include("orderdesk.api_urls")),
    path("track/<str:token>/", tracking.track, name="track"),
    *feedback_urls.track_urlpatterns,
    path("survey/<str:token>/", feedback_views.survey, name="survey"),
    path("supervision/", include("supervision.urls")),
    path("production/", include("production.workspace_urls")),
    path("logistics/", include("logistics.workspace_urls")),
    path("finance/", include("finance.workspace_urls")),
    path("notifications/", include("notifications.urls")),
    path("", include((order_pages, order_urls.app_name))),
]
# Uploads (receipt scans, import sheets) through a permission check, DEBUG on or off (orderdesk.media).
urlpatterns.insert(2, path("media/<path:name>", media.serve, name="media"))
