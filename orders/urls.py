"""The order desk's pages. The departments' forms on the order page (`plan/`, `shipments/`, `invoices/`,
`complaints/` … under `/orders/<id>/`) are in the same `orders` namespace but in the departments' own
URLconfs: the project's URLconf (`orderdesk/urls.py`) mounts them beside these."""

from django.urls import path

from orders import views

app_name = "orders"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("orders/", views.order_list, name="list"),
    path("orders/new/", views.order_create, name="create"),
    path("orders/<int:pk>/", views.order_detail, name="detail"),
    path("orders/<int:pk>/transitions/<str:name>/", views.order_transition, name="transition"),
    path("orders/new/check/", views.intake_check, name="intake_check"),
    path("orders/<int:pk>/edit/", views.order_edit, name="edit"),
    path("orders/<int:pk>/communications/", views.communication_add, name="communication_add"),
    path("orders/<int:pk>/clarifications/", views.clarification_add, name="clarification_add"),
    path("orders/<int:pk>/clarifications/<int:item>/resolve/", views.clarification_resolve,
         name="clarification_resolve"),
    path("orders/<int:pk>/escalations/", views.escalation_add, name="escalation_add"),
    path("orders/<int:pk>/escalations/<int:item>/resolve/", views.escalation_resolve, name="escalation_resolve"),
    path("orders/import/", views.import_start, name="import"),
    path("orders/import/template.<str:kind>", views.import_template, name="import_template"),
    path("orders/import/<int:pk>/", views.import_detail, name="import_detail"),
    path("orders/import/<int:pk>/status/", views.import_status, name="import_status"),
    path("orders/import/<int:pk>/commit/", views.import_commit, name="import_commit"),
]
