"""Logistics' forms on the order page, under `/orders/<id>/` in the `orders` URL namespace (mounted by
`orderdesk/urls.py`)."""

from django.urls import path

from logistics import views

urlpatterns = [
    path("orders/<int:pk>/shipments/", views.shipment_add, name="shipment_add"),
    path("orders/<int:pk>/shipments/<int:item>/events/", views.shipment_event_add, name="shipment_event_add"),
]
