"""Supervision and assessment (R6): review desk, dashboards, KPIs, the manager's periodic check."""
from django.urls import path

from supervision import views

app_name = "supervision"

urlpatterns = [
    path("review/", views.review_queue, name="review_queue"),
    path("review/approve/", views.bulk_approve, name="bulk_approve"),
    path("review/<int:pk>/", views.review_detail, name="review_detail"),
    path("review/<int:pk>/signoff/", views.signoff, name="signoff"),
    path("review/<int:pk>/<str:name>/", views.review_action, name="review_action"),
    path("signoffs/", views.signoff_queue, name="signoff_queue"),
    path("team/", views.team, name="team"),
    path("kpis/", views.kpi_page, name="kpis"),
    path("kpis/export.csv", views.kpi_export, name="kpi_export"),
    path("audit/", views.audit, name="audit"),
    path("complaints/", views.complaints, name="complaints"),
    path("violations/", views.violations, name="violations"),
    path("losses/", views.losses, name="losses"),
    path("losses/<int:pk>/decide/", views.loss_decide, name="loss_decide"),
    path("checks/", views.checks, name="checks"),
    path("checks/<int:pk>/", views.check_detail, name="check_detail"),
    path("checks/<int:pk>/items/<int:item_id>/", views.check_outcome, name="check_outcome"),
]
