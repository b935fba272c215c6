"""Helpers shared by the server-rendered pages of every app (issue 8: shared page helpers live in the
project package, which imports no app)."""

from __future__ import annotations

import datetime

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


def parse_date(value) -> datetime.date | None:
    """An ISO date typed into a filter, or None when it is empty or not a date."""
    try:
        return datetime.date.fromisoformat((value or "").strip())
    except ValueError:
        return None
