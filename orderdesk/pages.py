"""Helpers shared by the server-rendered pages of every app (issue 8: shared page helpers live in the
project package, which imports no app)."""

from __future__ import annotations

import datetime
import functools

from django.forms.models import ModelChoiceIterator
from django.utils.translation import gettext as _


def who(user) -> str:
    """A person as the pages and the timeline name them: full name, else username; nobody is the system."""
    if user is None:
        return _("system")
    return user.get_full_name() or user.get_username()


def person_label(user) -> str:
    """A user as a picker offers them: the person's full name, else the username (like :func:`who`)."""
    return user.get_full_name() or user.get_username()


def person_choices(field):
    """Make a ModelChoiceField of users label each option with the person's name (:func:`person_label`)."""
    field.label_from_instance = person_label
    return field


def listed_choices(field):
    """Make a ModelChoiceField read its options as one plain query (:class:`ListedChoiceIterator`)."""
    field.iterator = ListedChoiceIterator
    field.widget.choices = field.choices
    return field


class ListedChoiceIterator(ModelChoiceIterator):
    """A model choice field's options as one plain query. Django reads them with ``QuerySet.iterator()``, which on
    PostgreSQL is a server-side cursor: three round trips (DECLARE, FETCH, CLOSE) for a short list of people."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for obj in self.queryset.all():  # read afresh each time, as Django's iterator does
            yield self.choice(obj)


def parse_date(value) -> datetime.date | None:
    """An ISO date typed into a filter, or None when it is empty or not a date."""
    try:
        return datetime.date.fromisoformat((value or "").strip())
    except ValueError:
        return None


def id_url(viewname: str, pk) -> str:
    """``reverse(viewname, args=[pk])`` for a view whose URL takes one integer, reversed once per URLconf and
    script prefix and filled in per call (a page lists many orders: the same answer, without a reverse per row)."""
    from django.urls import get_script_prefix, get_urlconf, reverse

    if not isinstance(pk, int) or isinstance(pk, bool):
        return reverse(viewname, args=[pk])
    head, tail = _id_url_parts(viewname, get_script_prefix(), get_urlconf())
    return f"{head}{pk}{tail}"


_MARKER = 918273645


@functools.lru_cache(maxsize=64)
def _id_url_parts(viewname: str, script_prefix: str, urlconf) -> tuple[str, str]:
    from django.urls import reverse

    head, _marker, tail = reverse(viewname, args=[_MARKER], urlconf=urlconf).rpartition(str(_MARKER))
    return head, tail
