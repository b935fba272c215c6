from django.urls import path

from finance import views as finance_views
from logistics import views as logistics_views
from orders import views
from production import views as production_views

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
    # the departments' forms on the order page (R4.3–R4.5)
    path("orders/<int:pk>/plan/", production_views.plan_save, name="plan_save"),
    path("orders/<int:pk>/plan/readiness/", production_views.readiness_update, name="readiness_update"),
    path("orders/<int:pk>/progress/", production_views.progress_add, name="progress_add"),
    path("orders/<int:pk>/issues/", production_views.issue_add, name="issue_add"),
    path("orders/<int:pk>/issues/<int:item>/resolve/", production_views.issue_resolve, name="issue_resolve"),
    path("orders/<int:pk>/shipments/", logistics_views.shipment_add, name="shipment_add"),
    path("orders/<int:pk>/shipments/<int:item>/events/", logistics_views.shipment_event_add,
         name="shipment_event_add"),
    path("orders/<int:pk>/invoices/", finance_views.invoice_add, name="invoice_add"),
    path("orders/<int:pk>/payments/", finance_views.payment_add, name="payment_add"),
    path("orders/<int:pk>/complaints/", views.complaint_add, name="complaint_add"),
    path("orders/<int:pk>/complaints/<int:item>/", views.complaint_handle, name="complaint_handle"),
    path("orders/import/", views.import_start, name="import"),
    path("orders/import/template.<str:kind>", views.import_template, name="import_template"),
    path("orders/import/<int:pk>/", views.import_detail, name="import_detail"),
    path("orders/import/<int:pk>/status/", views.import_status, name="import_status"),
    path("orders/import/<int:pk>/commit/", views.import_commit, name="import_commit"),
]
