"""The logistics workspace (`/logistics/`, namespace `logistics`), mounted by `orderdesk/urls.py`."""

from django.urls import path

from logistics import workspace

app_name = "logistics"

urlpatterns = [
    path("", workspace.workspace, name="workspace"),
    path("<str:name>.csv", workspace.workspace_export, name="export"),
]
