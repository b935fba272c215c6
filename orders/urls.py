"""The order desk's pages. The departments' forms on the order page (`plan/`, `shipments/`, `invoices/`,
`complaints/` … under `/orders/<id>/`) are in the same `orders` namespace but in the departments' own
URLconfs: the project's URLconf (`orderdesk/urls.py`) mounts them beside these."""

from django.urls import path

from orders.views import dashboard, desk, detail, imports as import_views, intake, list as listing, promise, track

app_name = "orders"

urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("orders/", listing.order_list, name="list"),
    path("orders/new/", intake.order_create, name="create"),
    path("orders/<int:pk>/", detail.order_detail, name="detail"),
    path("orders/<int:pk>/transitions/<str:name>/", detail.order_transition, name="transition"),
    path("orders/<int:pk>/withdraw/", detail.withdraw_submission, name="withdraw"),
    path("orders/<int:pk>/reassign/", detail.reassign, name="reassign"),
    path("orders/new/check/", intake.intake_check, name="intake_check"),
    path("orders/<int:pk>/edit/", intake.order_edit, name="edit"),
    path("orders/<int:pk>/tracking-link/", track.issue_link, name="tracking_link"),
    path("orders/<int:pk>/promise/", promise.promise_revise, name="promise"),
    path("orders/<int:pk>/communications/", desk.communication_add, name="communication_add"),
    path("orders/<int:pk>/clarifications/", desk.clarification_add, name="clarification_add"),
    path("orders/<int:pk>/clarifications/<int:item>/resolve/", desk.clarification_resolve,
         name="clarification_resolve"),
    path("orders/<int:pk>/escalations/", desk.escalation_add, name="escalation_add"),
    path("orders/<int:pk>/escalations/<int:item>/resolve/", desk.escalation_resolve, name="escalation_resolve"),
    path("orders/import/", import_views.import_start, name="import"),
    path("orders/import/template.<str:kind>", import_views.import_template, name="import_template"),
    path("orders/import/<int:pk>/", import_views.import_detail, name="import_detail"),
    path("orders/import/<int:pk>/status/", import_views.import_status, name="import_status"),
    path("orders/import/<int:pk>/commit/", import_views.import_commit, name="import_commit"),
]
