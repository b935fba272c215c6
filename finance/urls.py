"""Finance's forms on the order page, under `/orders/<id>/` in the `orders` URL namespace (mounted by
`orderdesk/urls.py`)."""

from django.urls import path

from finance import views

urlpatterns = [
    path("orders/<int:pk>/invoices/", views.invoice_add, name="invoice_add"),
    path("orders/<int:pk>/payments/", views.payment_add, name="payment_add"),
]
