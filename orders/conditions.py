"""The conditions of the lifecycle's transitions (DESIGN §4), one function each.

Each takes the order and answers whether it holds; each carries a stable
``code`` and a translatable ``message`` so the service can name every unmet one
in a 400 answer. They read only the order, its related rows and the transition
context the service attached (``order.ctx``: user, comment, data); they write
nothing.

Each runs once per transition: the service checks them to name the unmet ones,
then django-fsm's ``@transition`` checks them again before the body runs. While a
run's :class:`~orders.models.TransitionContext` is attached, a condition's answer
is kept on it (``ctx.results``) and the second check reads it. Without a context
(a checklist, a test calling one directly) each call evaluates afresh.
"""

from __future__ import annotations

import datetime
import functools
from decimal import Decimal

from django.db.models import Max, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def condition(code: str, message, *, conflict: bool = False, met=None, reads: tuple[str, ...] = ()):
    """Mark a condition; ``conflict=True`` means an unmet one is a 409 (a lost race), not a 400.

    ``message`` says what is wrong when it is unmet; ``met`` (optional) says that it holds, for checklists
    that show a condition either way (the assistant's check: ✓ beside ``met``, ✗ beside ``message``).
    ``reads``: facts of ``orders.selectors.ORDER_READS`` the condition asks, which the transition service reads
    with the locked order (kept on it under their names; without them the condition queries itself).
    """

    def deco(func):
        @functools.wraps(func)
        def check(order) -> bool:
            ctx = getattr(order, "_ctx", None)
            if ctx is None:
                return check.__wrapped__(order)
            if check not in ctx.results:
                ctx.results[check] = bool(check.__wrapped__(order))
            return ctx.results[check]

        check.code = code
        check.message = message
        check.conflict = conflict
        check.met = met if met is not None else message
        check.reads = tuple(reads)
        return check

    return deco


def _lines(order) -> list | None:
    """The order's lines with their products, read once per transition run (kept on its context), or the
    lines already prefetched on the order; None when neither (the caller reads what it needs in SQL)."""
    cached = getattr(order, "_prefetched_objects_cache", {}).get("lines")
    if cached is not None:
        return list(cached)
    ctx = getattr(order, "_ctx", None)
    if ctx is None:
        return None
    # read onto the order itself: the service's answer is rendered from this order (no second read)
    from orders.selectors import with_lines  # orders.models imports this module

    return list(with_lines(order)._prefetched_objects_cache["lines"])


def earliest_feasible_date(order) -> datetime.date:
    """Today plus the longest standard lead time of the order's products (R4.2), in one query for all of them."""
    lines = _lines(order)
    if lines is not None:
        lead = max((line.product.lead_time_days for line in lines), default=0)
    else:
        lead = order.lines.aggregate(m=Max("product__lead_time_days"))["m"] or 0
    return timezone.localdate() + datetime.timedelta(days=lead)


# --- submit -----------------------------------------------------------------
@condition("already_submitted", _("The order has already been submitted for review."), conflict=True)
def not_yet_submitted(order) -> bool:
    return order.submitted_at is None


@condition("elements_missing", _("Customer, contact name, contact phone, delivery address and requested "
                                  "delivery date must all be given, with at least one line."),
           met=_("Customer, contact name, contact phone, delivery address, requested delivery date and at "
                 "least one line are all given."))
def elements_complete(order) -> bool:
    return all(
        [
            order.customer_id,
            (order.contact_name or "").strip(),
            (order.contact_phone or "").strip(),
            (order.delivery_address or "").strip(),
            order.requested_delivery_date,
            bool(lines) if (lines := _lines(order)) is not None else order.lines.exists(),
        ]
    )


@condition("specification_missing", _("Every line needs a clear specification and a positive quantity."),
           met=_("Every line has a clear specification and a positive quantity."))
def lines_specified(order) -> bool:
    lines = _lines(order)
    return all((line.specification or "").strip() and line.quantity > 0
               for line in (lines if lines is not None else order.lines.all()))


@condition("delivery_date_unreasonable", _("The requested delivery date is before the earliest feasible date "
                                            "(today plus the longest product lead time)."),
           met=_("The requested delivery date is not before the earliest feasible date (today plus the longest "
                 "product lead time)."))
def delivery_date_feasible(order) -> bool:
    return order.requested_delivery_date is not None and order.requested_delivery_date >= earliest_feasible_date(order)


@condition("open_clarification", _("A clarification with the customer is still open."),
           met=_("No clarification with the customer is open."), reads=("has_open_clarification",))
def no_open_clarification(order) -> bool:
    known = order.__dict__.get("has_open_clarification")  # read with the locked row (the transition service)
    if known is not None:
        return not known
    read = getattr(order, "_prefetched_objects_cache", {}).get("clarifications")  # the order page read them
    if read is not None:
        return not any(clarification.resolved_at is None for clarification in read)
    from orders.selectors import has_open_clarification

    return not has_open_clarification(order.pk)


# --- return / approve / cancel / reject_delivery ------------------------------
@condition("not_submitted", _("The assistant has not submitted the order for review."))
def is_submitted(order) -> bool:
    return order.submitted_at is not None


@condition("comment_required", _("A reason (comment) is required."))
def comment_given(order) -> bool:
    return bool((order.ctx.comment or "").strip())


@condition("self_approval", _("The order's creator may not approve it."))
def approver_not_creator(order) -> bool:
    user = order.ctx.user
    return user is None or user.pk != order.created_by_id


@condition("credit_limit_exceeded", _("The customer's open exposure plus this order exceeds the credit limit; "
                                       "override with a reason to approve anyway."),
           reads=("customer_exposure", "customer_exposure_entries"))
def credit_ok_or_overridden(order) -> bool:
    from orders.selectors import credit_position_of

    if order.ctx.data.get("override_credit") and (order.ctx.comment or "").strip():
        return True
    known = None
    if "customer_exposure" in order.__dict__ and type(order).customer.is_cached(order):
        # read with the locked row (the transition service): the limit of the customer read with it
        known = (order.customer.credit_limit, order.__dict__["customer_exposure"],
                 order.__dict__["customer_exposure_entries"])
    limit, exposure = credit_position_of(customer_id=order.customer_id, exclude_order=order, known=known)
    return exposure + order.total_amount <= limit


@condition("joint_review_incomplete", _("Joint review required: finance and production must both approve."))
def joint_review_complete(order) -> bool:
    if not order.requires_joint_review:
        return True
    from orders.selectors import joint_review_status

    status = joint_review_status(order)
    return all(decision == "approve" for decision in status.values())


@condition("promised_date_invalid", _("The promised delivery date may not be in the past."))
def promised_date_valid(order) -> bool:
    promised = order.ctx.data.get("promised_delivery_date") or order.requested_delivery_date
    return promised is not None and promised >= timezone.localdate()


# --- schedule / start_production ---------------------------------------------
def _plan(order):
    """Production's plan of the order, through the reverse relation (`orders` imports no department)."""
    from django.core.exceptions import ObjectDoesNotExist

    try:
        return order.production_plan
    except ObjectDoesNotExist:
        return None


@condition("no_workshop", _("The order is not assigned to a workshop."))
def workshop_assigned(order) -> bool:
    return order.workshop_id is not None


@condition("no_plan", _("The production plan needs at least one milestone."))
def plan_has_milestones(order) -> bool:
    plan = _plan(order)
    return plan is not None and plan.milestones.exists()


@condition("milestone_incomplete", _("Every milestone needs a due date and a responsible person."))
def milestones_complete(order) -> bool:
    plan = _plan(order)
    if plan is None:
        return True  # `no_plan` names this already
    return not plan.milestones.filter(due_date__isnull=True).exists() and not plan.milestones.filter(
        responsible__isnull=True
    ).exists()


@condition("plan_late", _("The plan finishes after the promised date; acknowledge the delay with a reason."))
def plan_meets_promise(order) -> bool:
    plan = _plan(order)
    if plan is None:
        return True  # `no_plan` names this already
    finish = plan.milestones.aggregate(m=Max("due_date"))["m"]
    if finish is None or order.promised_delivery_date is None or finish <= order.promised_delivery_date:
        return True
    return bool(order.ctx.data.get("acknowledge_delay") and (order.ctx.comment or "").strip())


@condition("capacity_exceeded", _("The plan overloads the workshop in at least one week (see the workshop "
                                   "calendar); acknowledge it with a reason to schedule anyway."))
def within_capacity(order) -> bool:
    from orders.lifecycle import resolve

    if order.ctx.data.get("acknowledge_capacity") and (order.ctx.comment or "").strip():
        return True
    # production's load model, by dotted path (`orders` imports no department)
    return not resolve("production.selectors.overloaded_weeks")(order)


def _tasks_ready(order, kind: str) -> bool | None:
    """Where preparation tasks of ``kind`` exist, readiness means all of them are ready (else None)."""
    tasks = order.preparation_tasks.filter(kind=kind)
    if not tasks.exists():
        return None
    return not tasks.filter(ready_at__isnull=True).exists()


@condition("materials_not_ready", _("Materials are not marked ready."))
def materials_ready(order) -> bool:
    by_tasks = _tasks_ready(order, "material")
    if by_tasks is not None:
        return by_tasks
    plan = _plan(order)
    return plan is not None and plan.materials_ready


@condition("equipment_not_ready", _("Equipment is not marked ready."))
def equipment_ready(order) -> bool:
    by_tasks = _tasks_ready(order, "equipment")
    if by_tasks is not None:
        return by_tasks
    plan = _plan(order)
    return plan is not None and plan.equipment_ready


# --- ship -------------------------------------------------------------------------
@condition("production_incomplete", _("Production is not reported complete (100%)."))
def production_complete(order) -> bool:
    latest = order.progress_reports.order_by("-reported_at", "-id").first()
    return latest is not None and latest.percent_complete >= 100


@condition("rework_not_reported", _("Rework was ordered: a new progress report (complete, 100 percent) is needed after it."))
def rework_reported(order) -> bool:
    """A rework (a rejected delivery, or a quality issue's disposition) needs a report of 100 % after it."""
    since = order.production_issues.filter(kind="quality", disposition="rework").aggregate(m=Max("opened_at"))["m"]
    if since is None:
        return True
    return order.progress_reports.filter(reported_at__gt=since, percent_complete__gte=100).exists()


@condition("open_quality_issue", _("A quality issue is still open."))
def no_open_quality_issue(order) -> bool:
    return not order.production_issues.filter(kind="quality", resolved_at__isnull=True).exists()


@condition("no_shipment", _("A shipment with carrier and tracking number must be recorded."))
def active_shipment(order) -> bool:
    return order.shipments.exclude(status="returned").exclude(carrier="").exclude(tracking_number="").exists()


@condition("not_fully_shipped", _("Not every line's quantity is on the order's shipments yet."))
def fully_shipped(order) -> bool:
    """Every line's quantity is on the order's shipments, returned ones aside (R3.4: partial shipments).
    Read through the reverse relations of logistics' shipment lines (`orders` imports no department)."""
    from django.db.models import Q

    lines = order.lines.annotate(
        shipped=Sum("shipment_lines__quantity", filter=~Q(shipment_lines__shipment__status="returned"))
    )
    return all((line.shipped or Decimal("0")) >= line.quantity for line in lines)


# --- accept ---------------------------------------------------------------------
@condition("inspection_failed", _("The customer's inspection did not pass; reject the delivery instead."))
def inspection_passed(order) -> bool:
    return order.ctx.data.get("inspection_passed", True) is not False


@condition("receipt_missing", _("A signed receipt is required: signer, date, and a scan or reference."))
def receipt_recorded(order) -> bool:
    data = order.ctx.data
    return bool(
        (data.get("signed_by") or "").strip()
        and data.get("signed_on")
        and ((data.get("receipt_reference") or "").strip() or data.get("receipt_scan"))
    )


# --- settle -------------------------------------------------------------------
@condition("invoices_short", _("The invoices do not cover the order total."))
def invoices_cover_total(order) -> bool:
    invoiced = order.invoices.aggregate(s=Sum("amount"))["s"] or Decimal("0")
    return invoiced >= order.total_amount


@condition("invoices_unpaid", _("Not every invoice is paid in full."))
def invoices_paid(order) -> bool:
    invoices = list(order.invoices.annotate(paid=Sum("payments__amount")))
    return bool(invoices) and all((inv.paid or Decimal("0")) >= inv.amount - inv.credited_amount for inv in invoices)


@condition("deposit_unpaid", _("An installment due before production is not paid; a finance manager may waive it "
                               "with a reason."))
def deposit_paid_or_waived(order) -> bool:
    """Finance's deposit gate (DESIGN §6b), read through the reverse relations (`orders` imports no department):
    every invoice drawn from an installment due before production paid in full, or the gate waived."""
    from django.core.exceptions import ObjectDoesNotExist
    from django.db.models import F

    if order.payment_terms_id is None:
        return True
    try:
        order.deposit_waiver  # noqa: B018 - the reverse one-to-one: it exists or raises
        return True
    except ObjectDoesNotExist:
        pass
    return not order.invoices.filter(
        trigger__in=("approval", "before_production"),
        paid_amount__lt=F("amount") - F("credited_amount"),
    ).exists()
