"""Reads of the notification system."""

from __future__ import annotations

from django.db.models import QuerySet

from notifications.models import Notification


def notifications_of(user) -> QuerySet:
    """The user's own notifications, newest first (nobody reads another's)."""
    return Notification.objects.filter(user=user).select_related("order").order_by("-created_at", "-id")
