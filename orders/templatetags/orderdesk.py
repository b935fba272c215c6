"""Small template helpers of the pages."""

from decimal import Decimal, InvalidOperation

from django import template
from django.template.defaultfilters import floatformat

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


@register.filter
def money(value) -> str:
    """An amount as every page shows it: two decimals, grouped in thousands (1,500,000.00), per locale."""
    if value is None or value == "":
        return "—"
    return floatformat(value, "2g")


@register.filter
def qty(value, unit: str = "") -> str:
    """A quantity as every page shows it: no trailing zeros, grouped, with its unit ("10 台", "2.5 kg")."""
    if value is None or value == "":
        return "—"
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value)
    places = min(3, max(0, -number.normalize().as_tuple().exponent)) if number.is_finite() else 0
    text = floatformat(number, f"{places}g")
    return f"{text} {unit}" if unit else text


@register.simple_tag
def colon() -> str:
    """The colon after a label, per language: ": " in English, the full-width "：" in Chinese."""
    from django.utils.translation import pgettext

    return pgettext("label separator", ": ")
