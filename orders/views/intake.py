"""Intake (R4.1, `/orders/new/`, the live check `/orders/new/check/`) and editing while received
(`/orders/<id>/edit/`), through :func:`orders.services.create_order` / ``update_order``."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from orderdesk import roles
from orderdesk.errors import Forbidden, NotFound, ServiceError
from orders import selectors, services
from orders.forms import (
    LINES_PREFIX,
    OrderForm,
    OrderLineFormSet,
)
from orders.models import State
from orders.views.detail import get_order


def _service_errors_to_form(exc: ServiceError, form, top_errors: list, line_errors: list) -> None:
    top_errors.append(str(exc.detail))
    for field, problems in (exc.errors or {}).items():
        for problem in problems:
            text = problem.get("message", "") if isinstance(problem, dict) else str(problem)
            if field in form.fields:
                form.add_error(field, text)
            elif field == "lines":
                line_errors.append(text)
            else:
                top_errors.append(text)


def _earliest_feasible(product_ids) -> object:
    import datetime

    from orders.models import Product

    ids = [int(p) for p in product_ids if str(p).isdigit()]
    lead = max(Product.objects.filter(pk__in=ids).values_list("lead_time_days", flat=True), default=0)
    return timezone.localdate() + datetime.timedelta(days=lead) if ids else None


def _form_context(form, formset, top_errors, line_errors, **extra) -> dict:
    from orders.selectors import products

    return {
        "form": form,
        "formset": formset,
        "top_errors": top_errors,
        "line_errors": [*formset.non_form_errors(), *line_errors] if formset.is_bound else line_errors,
        "product_defaults": {
            str(p.pk): {"specification": p.specification, "unit_price": str(p.standard_price),
                        "lead_time_days": p.lead_time_days}
            for p in products().only("pk", "specification", "standard_price", "lead_time_days")
        },
        **extra,
    }


@login_required
def order_create(request):
    user = request.user
    if not roles.may(user, "order.create"):
        raise PermissionDenied(_("Your role may not enter orders."))
    with_assistant = roles.may(user, "order.reassign")
    top_errors: list[str] = []
    line_errors: list[str] = []
    duplicates = []
    earliest = None
    if request.method == "POST":
        form = OrderForm(request.POST, with_assistant=with_assistant)
        formset = OrderLineFormSet(request.POST, prefix=LINES_PREFIX)
        form_valid = form.is_valid()  # validate both, so every error shows at once
        if formset.is_valid() and form_valid:
            data = form.cleaned_data
            lines = formset.filled_lines()
            earliest = _earliest_feasible([line["product"].pk for line in lines])
            duplicates = selectors.likely_duplicates(
                user, customer_id=data["customer"].pk, product_ids=[line["product"].pk for line in lines]
            )
            if duplicates and not data.get("confirm_duplicate"):
                top_errors.append(_("This looks like an order already recorded; check it, or confirm "
                                    "“Save anyway” below. Nothing was saved."))
            else:
                try:
                    order = services.create_order(
                        user=user,
                        customer=data["customer"],
                        channel=data["channel"],
                        contact_name=data["contact_name"],
                        contact_phone=data["contact_phone"],
                        delivery_address=data["delivery_address"],
                        requested_delivery_date=data["requested_delivery_date"],
                        special_terms=data["special_terms"],
                        payment_terms=data.get("payment_terms"),
                        lines=lines,
                        assistant=data.get("assistant"),
                    )
                except Forbidden as exc:
                    raise PermissionDenied(str(exc.detail)) from None
                except ServiceError as exc:
                    _service_errors_to_form(exc, form, top_errors, line_errors)
                else:
                    messages.success(request, _("Order %(number)s was recorded.") % {"number": order.number})
                    return redirect(order)
        else:
            top_errors.append(_("Please correct the errors below; nothing was saved."))
    else:
        form = OrderForm(initial={"channel": "phone"}, with_assistant=with_assistant)
        formset = OrderLineFormSet(prefix=LINES_PREFIX)
    return render(
        request,
        "orders/order_form.html",
        _form_context(form, formset, top_errors, line_errors, duplicates=duplicates, earliest=earliest,
                      is_edit=False),
    )


@login_required
def intake_check(request):
    """For the intake form, as the assistant types: likely duplicates and the earliest feasible date."""
    from django.http import JsonResponse

    user = request.user
    if not roles.may(user, "order.create") and not roles.may(user, "order.edit"):
        raise PermissionDenied
    product_ids = [p for p in request.GET.getlist("product") if p.isdigit()][:100]
    customer = request.GET.get("customer", "")
    exclude = request.GET.get("exclude", "")
    duplicates = []
    if customer.isdigit() and product_ids:
        duplicates = selectors.likely_duplicates(
            user, customer_id=int(customer), product_ids=product_ids,
            exclude_id=int(exclude) if exclude.isdigit() else None,
        )
    earliest = _earliest_feasible(product_ids)
    return JsonResponse({
        "earliest_feasible_date": earliest.isoformat() if earliest else None,
        "duplicates": [
            {"id": o.pk, "number": o.number, "url": o.get_absolute_url(), "state": o.get_state_display(),
             "created_at": timezone.localtime(o.created_at).strftime("%Y-%m-%d %H:%M")}
            for o in duplicates
        ],
    })


@login_required
def order_edit(request, pk: int):
    from orders.forms import OrderEditForm

    user = request.user
    order = get_order(user, pk)
    if not roles.may(user, "order.edit", order):
        raise PermissionDenied(_("Your role may not change this order."))
    if order.state != State.RECEIVED:
        messages.error(request, _("An order can be changed only while it is received."))
        return redirect(order)
    top_errors: list[str] = []
    line_errors: list[str] = []
    if request.method == "POST":
        form = OrderEditForm(request.POST)
        formset = OrderLineFormSet(request.POST, prefix=LINES_PREFIX)
        form_valid = form.is_valid()
        if formset.is_valid() and form_valid:
            data = {k: v for k, v in form.cleaned_data.items() if k in services.EDITABLE_FIELDS}
            data["lines"] = formset.filled_lines()
            try:
                services.update_order(user=user, order_id=order.pk, data=data)
            except NotFound:
                raise Http404 from None
            except Forbidden as exc:
                raise PermissionDenied(str(exc.detail)) from None
            except ServiceError as exc:
                _service_errors_to_form(exc, form, top_errors, line_errors)
            else:
                messages.success(request, _("Order %(number)s was changed.") % {"number": order.number})
                return redirect(order)
        else:
            top_errors.append(_("Please correct the errors below; nothing was saved."))
    else:
        form = OrderEditForm(initial={name: getattr(order, name) for name in services.EDITABLE_FIELDS})
        initial_lines = [
            {"product": line.product_id, "specification": line.specification, "quantity": line.quantity,
             "unit_price": line.unit_price}
            for line in order.lines.all()
        ]
        formset = OrderLineFormSet(prefix=LINES_PREFIX, initial=initial_lines)
    earliest = _earliest_feasible([str(line.product_id) for line in order.lines.all()])
    return render(
        request, "orders/order_form.html",
        _form_context(form, formset, top_errors, line_errors, order=order, is_edit=True, earliest=earliest,
                      duplicates=[]),
        status=400 if top_errors else 200,
    )
