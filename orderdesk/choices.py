"""Choice labels made strings once per language (issue 14).

Django's ``get_<field>_display()`` rebuilds the field's choice dict on every call and, to hash it, turns every
lazy label into a string: a notification's kind translates its 32 labels to show one, a page with ten
notifications 320 times. :class:`ChoiceLabelsMixin` keeps the labels of each field as a plain dict per language
instead; what it returns is what Django's own method returns (an unknown value is given back as it is).
"""

from __future__ import annotations

from django.utils.encoding import force_str
from django.utils.translation import get_language

_labels: dict[tuple, dict] = {}


def choice_labels(field) -> dict | None:
    """The field's ``{value: label}`` in the active language, or None when its choices are not a fixed list."""
    if not isinstance(field.choices, (list, tuple)):
        return None
    key = (field, get_language())
    labels = _labels.get(key)
    if labels is None:
        labels = _labels[key] = {value: force_str(label) for value, label in field.flatchoices}
    return labels


class ChoiceLabelsMixin:
    """A model whose ``get_<field>_display()`` reads :func:`choice_labels`."""

    def _get_FIELD_display(self, field):
        labels = choice_labels(field)
        value = getattr(self, field.attname)
        if labels is None or not isinstance(value, (str, int)):
            return super()._get_FIELD_display(field)
        return labels.get(value, value)
