"""The order page's panels contributed by other apps (issue 8: each department owns its part of the page).

`orders` owns the order page but knows no department: production, logistics, finance and feedback each
register a :class:`Panel` in their ``AppConfig.ready()``. A panel names its template, the column it shows
in, a ``context(order=, user=, forms=)`` function returning what its template reads (merged into the
page's context; only reads, scoped by the caller's role, the forms offered only where the department's
rule allows them) and, optionally, ``timeline(order=, user=)`` entries the page merges into its timeline
(each a dict with ``at``, ``key`` and ``template``). ``forms`` carries the bound forms of a failed POST
(by context key) and ``"open"``: the key of the form to show unfolded.
"""

from __future__ import annotations

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


_panels: dict[str, Panel] = {}


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
