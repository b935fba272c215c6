"""Finance's forms and documents on the order page, under `/orders/<id>/` in the `orders` URL namespace
(mounted by `orderdesk/urls.py`)."""

from django.urls import path, re_path

from finance import views

urlpatterns = [
    path("orders/<int:pk>/invoices/", views.invoice_add, name="invoice_add"),
    path("orders/<int:pk>/payments/", views.payment_add, name="payment_add"),
    path("orders/<int:pk>/credit-notes/", views.credit_note_add, name="credit_note_add"),
    path("orders/<int:pk>/payment-terms/", views.order_terms, name="order_terms"),
    path("orders/<int:pk>/deposit-waiver/", views.deposit_waive, name="deposit_waive"),
    path("orders/<int:pk>/follow-ups/", views.follow_up_add, name="follow_up_add"),
    re_path(
        r"^orders/(?P<pk>\d+)/documents/(?P<kind>confirmation|delivery-note)\.pdf$", views.document, name="document"
    ),
]
