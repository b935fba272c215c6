"""Finance's workspace under `/finance/` (namespace `finance`, mounted by `orderdesk/urls.py`)."""

from django.urls import path

from finance import views

app_name = "finance"

urlpatterns = [
    path("", views.workspace, name="workspace"),
    path("receivables/", views.receivables_page, name="receivables"),
    path("export/<slug:what>.csv", views.export, name="export"),
    path("invoices/<int:pk>.pdf", views.invoice_pdf, name="invoice_pdf"),
]
