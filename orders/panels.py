"""The order page's panels contributed by other apps (issue 8: each department owns its part of the page).

`orders` owns the order page but knows no department: production, logistics, finance and feedback each
register a :class:`Panel` in their ``AppConfig.ready()``. A panel names its template, the column it shows
in, a ``context(order=, user=, forms=)`` function returning what its template reads (merged into the
page's context; only reads, scoped by the caller's role, the forms offered only where the department's
rule allows them) and, optionally, ``timeline(order=, user=)`` entries the page merges into its timeline
(each a dict with ``at``, ``key`` and ``template``). ``forms`` carries the bound forms of a failed POST
(by context key) and ``"open"``: the key of the form to show unfolded.

A panel names the order's records it lists in ``reads`` (reverse relations of the order, e.g. ``"shipments"``).
The page asks once, in one query, which of those (and of its own, :data:`PAGE_READS`) have any row
(:func:`has_rows`), and reads only those: most orders have no shipment, invoice or complaint yet, and an empty
list costs a query like a full one (issue 14).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass

MAIN = "main"  # the wide column, after the order's lines
ASIDE = "aside"  # the narrow column, after the communication log


@dataclass(frozen=True)
class Panel:
    key: str
    template: str
    context: Callable[..., dict]
    column: str = MAIN
    position: int = 100
    timeline: Callable[..., Iterable[dict]] | None = None
    reads: tuple[str, ...] = ()


_panels: dict[str, Panel] = {}

#: The order page's own lists (reverse relations of the order; ``state_log``: its transitions, django-fsm-log).
PAGE_READS = ("signoffs", "changes", "communications", "clarifications", "escalations", "notifications",
              "state_log")


def register(panel: Panel) -> None:
    """Add (or, by its key, replace) a panel; called from an app's ``ready()``."""
    _panels[panel.key] = panel


def panels(column: str | None = None) -> list[Panel]:
    return sorted((p for p in _panels.values() if column is None or p.column == column),
                  key=lambda p: (p.position, p.key))


def page_context(*, order, user, forms: dict) -> dict:
    """Every panel's context, and the panels of each column for the template to include."""
    context: dict = {"department_open": forms.get("open", ""),
                     "main_panels": panels(MAIN), "aside_panels": panels(ASIDE)}
    for panel in panels():
        context.update(panel.context(order=order, user=user, forms=forms))
    return context


def timeline_entries(*, order, user) -> list[dict]:
    entries: list[dict] = []
    for panel in panels():
        if panel.timeline is not None:
            entries.extend(panel.timeline(order=order, user=user))
    return entries


def has_rows(order, name: str) -> bool:
    """Whether ``order`` has any row in its reverse relation ``name`` (one of :data:`PAGE_READS` or of a panel's
    ``reads``). The first call asks for all of them in one query (``EXISTS`` per relation) and keeps the answer on
    the order object, which lives for one request; a name nobody declared is always read (True)."""
    flags = order.__dict__.get("_page_rows")
    if flags is None:
        names = _declared_reads()
        flags = order.__dict__["_page_rows"] = dict(zip(names, _exists(order.pk, names), strict=True))
    return flags.get(name, True)


def _declared_reads() -> tuple[str, ...]:
    names = dict.fromkeys(PAGE_READS)
    for panel in panels():
        names.update(dict.fromkeys(panel.reads))
    return tuple(names)


def _exists(order_id, names: tuple[str, ...]) -> tuple[bool, ...]:
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection

    from orders.models import Order

    sql, params = _exists_sql(names)
    values = {"order": order_id}
    if "content_type" in params:
        values["content_type"] = ContentType.objects.get_for_model(Order).pk  # Django's cache: no query
    with connection.cursor() as cursor:
        cursor.execute(sql, [values[p] for p in params])
        return tuple(bool(flag) for flag in cursor.fetchone())


@functools.lru_cache(maxsize=8)
def _exists_sql(names: tuple[str, ...]) -> tuple[str, tuple]:
    """``SELECT EXISTS(SELECT 1 FROM <table> WHERE <order column> = %s), ...`` for the relations, built once, with
    what each parameter is ("order": the order's id, "content_type": the order model's content type)."""
    from django.db import connection
    from django_fsm_log.models import StateLog

    from orders.models import Order

    quote = connection.ops.quote_name
    parts, params = [], []
    for name in names:
        if name == "state_log":  # a generic relation: the order's content type and id
            kind, column = (StateLog._meta.get_field(f).column for f in ("content_type", "object_id"))
            parts.append(f"EXISTS(SELECT 1 FROM {quote(StateLog._meta.db_table)} "
                         f"WHERE {quote(kind)} = %s AND {quote(column)} = %s)")
            params += ["content_type", "order"]
            continue
        relation = Order._meta.get_field(name)
        if relation.concrete or not (relation.one_to_many or relation.one_to_one):
            raise ValueError(f"{name!r} is not a reverse relation of the order")
        table, column = relation.related_model._meta.db_table, relation.field.column
        parts.append(f"EXISTS(SELECT 1 FROM {quote(table)} WHERE {quote(column)} = %s)")
        params.append("order")
    return "SELECT " + ", ".join(parts), tuple(params)
