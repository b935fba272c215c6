"""Small template helpers of the pages."""

from django import template

from orderdesk import roles
from orderdesk.roles import Role

register = template.Library()


@register.filter
def role_label(name: str) -> str:
    """The translated label of a role (group) name."""
    try:
        return str(Role(name).label)
    except ValueError:
        return name


@register.filter
def who(user) -> str:
    """A person as the pages name them: full name, else username."""
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


@register.filter
def may(user, action: str) -> bool:
    """`{% if user|may:"order.create" %}`: whether the user's role allows the action (orderdesk.roles)."""
    return roles.may(user, action)
