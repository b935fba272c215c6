"""The base of the API's view sets (kept apart from :mod:`orderdesk.api`, which DRF's settings import)."""

from rest_framework import viewsets

from orderdesk.api import API_PERMISSIONS


class APIViewSet(viewsets.GenericViewSet):
    """Authenticated callers only; read-only roles (the auditor) get 403 on any write."""

    permission_classes = API_PERMISSIONS
