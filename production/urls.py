"""Production's forms on the order page, under `/orders/<id>/` in the `orders` URL namespace (mounted by
`orderdesk/urls.py`, so `orders` itself knows no department)."""

from django.urls import path

from production import views

urlpatterns = [
    path("orders/<int:pk>/plan/", views.plan_save, name="plan_save"),
    path("orders/<int:pk>/plan/readiness/", views.readiness_update, name="readiness_update"),
    path("orders/<int:pk>/progress/", views.progress_add, name="progress_add"),
    path("orders/<int:pk>/issues/", views.issue_add, name="issue_add"),
    path("orders/<int:pk>/issues/<int:item>/resolve/", views.issue_resolve, name="issue_resolve"),
    path("orders/<int:pk>/issues/<int:item>/message/", views.issue_message, name="issue_message"),
    path("orders/<int:pk>/handover/", views.handover_save, name="handover_save"),
]
