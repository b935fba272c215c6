"""The promise on the order page (R5.3): the promised date's revisions with their reasons, and the form to
revise it where :func:`orders.services.check_promise` passes. Registered in :meth:`orders.apps.OrdersConfig.ready`
like the departments' panels."""

from __future__ import annotations

from orders import services
from orders.forms import PromiseForm
from orders.panels import ASIDE, Panel, has_rows


def context(*, order, user, forms: dict) -> dict:
    ctx: dict = {
        "promise_changes": list(order.promise_changes.select_related("changed_by"))
        if has_rows(order, "promise_changes") else [],
        "may_revise_promise": services.may_revise_promise(user, order),
    }
    if ctx["may_revise_promise"]:
        ctx["promise_form"] = forms.get("promise") or PromiseForm()
    return ctx


PANEL = Panel(key="promise", template="orders/_promise_panel.html", context=context, column=ASIDE, position=5,
              reads=("promise_changes",))
