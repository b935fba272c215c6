"""The assistant's desk on the order page (R4.2, R5.1): communications, clarifications, escalations."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from orderdesk.errors import Conflict, Forbidden, NotFound, ServiceError
from orders import services
from orders.views.detail import detail_context, get_order


def desk_write(request, pk: int, *, form_key: str, form, call):
    """Run a desk service from a posted form; on bad input show the order again with the errors (400)."""
    order = get_order(request.user, pk)
    if form is not None and not form.is_valid():
        context = detail_context(request, order, forms={form_key: form})
        context["desk_error"] = _("Please correct the errors below; nothing was saved.")
        return render(request, "orders/order_detail.html", context, status=400)
    try:
        message = call(order, form.cleaned_data if form is not None else None)
    except NotFound:
        raise Http404 from None
    except Forbidden as exc:
        return render(request, "403.html", {"exception": str(exc.detail)}, status=403)
    except ServiceError as exc:
        if form is not None:
            for field, problems in (exc.errors or {}).items():
                for problem in problems:
                    form.add_error(field if field in form.fields else None, str(problem))
        context = detail_context(request, order, forms={form_key: form} if form is not None else {})
        context["desk_error"] = str(exc.detail) if not exc.errors else _(
            "Please correct the errors below; nothing was saved.")
        if form_key.endswith("_resolution"):
            context["resolution_errors"] = {form_key: [str(p) for ps in exc.errors.values() for p in ps]}
        return render(request, "orders/order_detail.html", context, status=409 if isinstance(exc, Conflict) else 400)
    messages.success(request, message)
    return redirect(order)


@login_required
@require_POST
def communication_add(request, pk: int):
    from orders.forms import CommunicationForm

    def call(order, data):
        services.log_communication(user=request.user, order_id=order.pk, channel=data["channel"], at=data["at"],
                                   with_whom=data["with_whom"], summary=data["summary"])
        return _("The communication was recorded.")

    return desk_write(request, pk, form_key="communication", form=CommunicationForm(request.POST), call=call)


@login_required
@require_POST
def clarification_add(request, pk: int):
    from orders.forms import ClarificationForm

    def call(order, data):
        services.open_clarification(user=request.user, order_id=order.pk, question=data["question"])
        return _("The clarification is open; resolve it before submitting.")

    return desk_write(request, pk, form_key="clarification", form=ClarificationForm(request.POST), call=call)


def _resolve_item(request, pk: int, item: int, *, model, key: str, resolve, done_message):
    """Resolve a clarification or an escalation of order `pk` with the posted resolution."""
    from orders.forms import ResolutionForm

    if not model.objects.filter(pk=item, order_id=pk).exists():
        raise Http404

    def call(order, data):
        resolve(data["resolution"])
        return done_message

    form = ResolutionForm(request.POST)
    if not form.is_valid():
        order = get_order(request.user, pk)
        context = detail_context(request, order)
        context["resolution_errors"] = {f"{key}-{item}": [e for es in form.errors.values() for e in es]}
        context["desk_error"] = _("Please correct the errors below; nothing was saved.")
        return render(request, "orders/order_detail.html", context, status=400)
    return desk_write(request, pk, form_key=f"{key}_resolution", form=form, call=call)


@login_required
@require_POST
def clarification_resolve(request, pk: int, item: int):
    from orders.models import Clarification

    return _resolve_item(
        request, pk, item, model=Clarification, key="clarification",
        resolve=lambda text: services.resolve_clarification(user=request.user, clarification_id=item,
                                                            resolution=text),
        done_message=_("The clarification is resolved."),
    )


@login_required
@require_POST
def escalation_add(request, pk: int):
    from orders.forms import EscalationForm

    def call(order, data):
        services.raise_escalation(user=request.user, order_id=order.pk, reason=data["reason"])
        return _("The problem was escalated to the sales managers.")

    return desk_write(request, pk, form_key="escalation", form=EscalationForm(request.POST), call=call)


@login_required
@require_POST
def escalation_resolve(request, pk: int, item: int):
    from orders.models import Escalation

    return _resolve_item(
        request, pk, item, model=Escalation, key="escalation",
        resolve=lambda text: services.resolve_escalation(user=request.user, escalation_id=item, resolution=text),
        done_message=_("The escalation is resolved."),
    )
