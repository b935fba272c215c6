"""Small template helpers of the pages."""

import datetime
from decimal import Decimal, InvalidOperation

from django import template
from django.template.defaultfilters import date as date_filter, floatformat
from django.utils.formats import number_format
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext

from orderdesk import pages, roles
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
    if isinstance(value, Decimal) and value and value.is_finite() and value.as_tuple().exponent == -2:
        # an amount as the database holds it (two places): what floatformat gives it, without its rounding steps
        return mark_safe(number_format(str(value), 2, use_l10n=True, force_grouping=True))  # noqa: S308 (digits)
    return floatformat(value, "2g")


@register.filter(expects_localtime=True)
def ymd(value) -> str:
    """``|date:"Y-m-d"`` (2026-05-17), a date written the one way every page writes it, without Django's format
    machinery (a list writes one per row)."""
    if isinstance(value, datetime.date):
        return f"{value.year:04d}-{value.month:02d}-{value.day:02d}"
    return date_filter(value, "Y-m-d")


@register.filter(expects_localtime=True)
def ymd_hm(value) -> str:
    """``|date:"Y-m-d H:i"`` (2026-05-17 09:05) for a moment, in the active time zone, as :func:`ymd`."""
    if isinstance(value, datetime.datetime):
        return f"{value.year:04d}-{value.month:02d}-{value.day:02d} {value.hour:02d}:{value.minute:02d}"
    return date_filter(value, "Y-m-d H:i")


@register.filter(expects_localtime=True)
def day_or_moment(value) -> str:
    """A moment as :func:`ymd_hm` writes it, a plain date (a promised date) as :func:`ymd`: a list that holds
    both (the violation report) writes each as what it is (``|date:"Y-m-d H:i"`` refuses a date: a 500)."""
    if isinstance(value, datetime.datetime):
        return ymd_hm(value)
    if isinstance(value, datetime.date):
        return ymd(value)
    return "" if value is None else str(value)


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


@register.filter
def id_url(pk, viewname: str) -> str:
    """``{{ order.pk|id_url:"supervision:review_detail" }}``: ``{% url viewname pk %}`` for a view taking one id,
    without a reverse per row (:func:`orderdesk.pages.id_url`)."""
    return pages.id_url(viewname, pk)


@register.simple_tag
def field_row(field, wide=False):
    """``{% field_row form.name %}`` (``wide=True``: across the form's grid): one form field as every form on the
    pages shows it — its label (a mark when required; a checkbox inside its label), the widget, the help text and
    the errors. Written here rather than as an included template: a page with a dozen forms spent a tenth of its time
    including one per field."""
    if not hasattr(field, "field"):  # a field the form does not have (for this role): nothing to show
        return ""
    errors = field.errors
    checkbox = getattr(field.field.widget, "input_type", None) == "checkbox"
    classes = "field" + (" has-error" if errors else "") + (" checkbox" if checkbox else "") + (" wide" if wide else "")
    if checkbox:
        body = format_html('<label for="{}">{} <span>{}</span></label>', field.id_for_label, field, field.label)
    else:
        mark = format_html(' <span class="required-mark" title="{}">*</span>', gettext("required")) \
            if field.field.required else ""
        body = format_html('<label for="{}">{}{}</label>\n  {}', field.id_for_label, field.label, mark, field)
    help_text = format_html('\n  <div class="help">{}</div>', field.help_text) if field.help_text else ""
    return format_html('<div class="{}">\n  {}{}{}\n</div>', classes, body, help_text,
                       format_html("\n  {}", errors) if errors else "")
