"""The production workspace's pages (issue 10), mounted at `/production/` by the project's URLconf."""

from django.urls import path

from production import workspace

app_name = "production"

urlpatterns = [
    path("", workspace.workspace, name="workspace"),
    path("my/", workspace.my, name="my"),
    path("orders/<int:pk>/", workspace.plan, name="plan"),
    path("orders/<int:pk>/move/", workspace.move, name="move"),
    path("orders/<int:pk>/preparations/", workspace.preparation_add, name="preparation_add"),
    path("orders/<int:pk>/schedule/", workspace.schedule, name="schedule"),
    path("preparations/<int:task_id>/ready/", workspace.preparation_ready, name="preparation_ready"),
    path("milestones/<int:milestone_id>/complete/", workspace.milestone_complete, name="milestone_complete"),
    path("milestones/<int:milestone_id>/report/", workspace.milestone_report, name="milestone_report"),
]
