"""Writes of supervision (keyword-only, one transaction each).

State changes of orders go through :func:`orders.services.run_transition` only;
this module adds the bulk approval of the review queue and the manager's
periodic check (R6.1, R6.3).
"""

from __future__ import annotations

import datetime
import random
import secrets
from decimal import Decimal, InvalidOperation

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from orderdesk import audit, roles
from orderdesk.errors import ConditionsUnmet, Conflict, Forbidden, InvalidInput, NotFound, ServiceError
from orderdesk.roles import Role
from orders import services as order_services
from supervision.models import CheckItem, PeriodicCheck
from supervision.selectors import checks as check_reads

User = get_user_model()
MAX_BULK = 100
MAX_SAMPLE = 200


def bulk_approve(*, user, order_ids: list) -> list[dict]:
    """Approve each order through ``run_transition`` (each in its own transaction); report per order.

    Each is approved for its requested delivery date; an order that needs anything
    (joint review, credit override, a later date) fails with the reasons and is left
    unchanged, the others are approved regardless.
    """
    try:
        ids = list(dict.fromkeys(int(i) for i in order_ids))
    except (TypeError, ValueError):
        raise InvalidInput(errors={"orders": [_("Choose orders by their ids.")]}) from None
    if not ids:
        raise InvalidInput(errors={"orders": [_("Choose at least one order.")]})
    if len(ids) > MAX_BULK:
        raise InvalidInput(errors={"orders": [_("Approve at most %(n)s orders at once.") % {"n": MAX_BULK}]})
    if not roles.may_transition(user, "approve") or roles.is_read_only(user):
        raise Forbidden()
    report = []
    for order_id in ids:
        try:
            order = order_services.run_transition(user=user, order_id=order_id, name="approve",
                                                  comment=_("Approved from the review queue."))
        except ConditionsUnmet as exc:
            report.append({"order": order_id, "ok": False, "code": exc.code,
                           "detail": "; ".join(u["message"] for u in exc.unmet)})
        except ServiceError as exc:
            report.append({"order": order_id, "ok": False, "code": exc.code, "detail": str(exc.detail)})
        else:
            report.append({"order": order_id, "ok": True, "number": order.number, "code": "approved",
                           "detail": _("Approved.")})
    return report


@transaction.atomic
def create_periodic_check(*, user, assistant_id, period_start: datetime.date, period_end: datetime.date,
                          sample_size: int, seed: int | None = None) -> PeriodicCheck:
    """Draw a random sample of an assistant's orders to verify (R6.1); the seed is stored."""
    if not roles.may(user, "check.manage"):
        raise Forbidden()
    errors: dict[str, list[str]] = {}
    assistant = None
    try:
        assistant = User.objects.get(pk=int(assistant_id), groups__name=Role.SALES_ASSISTANT)
    except (User.DoesNotExist, TypeError, ValueError):
        errors["assistant"] = [_("Choose a sales assistant.")]
    if not isinstance(period_start, datetime.date) or not isinstance(period_end, datetime.date):
        errors["period"] = [_("Give the period as two dates.")]
    elif period_start > period_end:
        errors["period"] = [_("The period's start is after its end.")]
    elif period_end > timezone.localdate():
        errors["period"] = [_("The period may not end in the future.")]
    try:
        sample_size = int(sample_size)
    except (TypeError, ValueError):
        sample_size = 0
    if not 1 <= sample_size <= MAX_SAMPLE:
        errors["sample_size"] = [_("The sample size is between 1 and %(n)s.") % {"n": MAX_SAMPLE}]
    if seed is None:
        seed = secrets.randbelow(2**62)
    elif not isinstance(seed, int) or not 0 <= seed < 2**63:
        errors["seed"] = [_("The seed is a non-negative integer.")]
    if errors:
        raise InvalidInput(_("The periodic check has invalid values."), errors=errors)
    population = list(
        check_reads.check_population(assistant=assistant, start=period_start, end=period_end).values_list("pk", flat=True)
    )
    if not population:
        raise InvalidInput(errors={"period": [_("The assistant submitted no orders in this period.")]},
                           code="empty_population")
    sample = sorted(random.Random(seed).sample(population, min(sample_size, len(population))))
    check = PeriodicCheck.objects.create(
        assistant=assistant, period_start=period_start, period_end=period_end, sample_size=sample_size,
        seed=seed, population=len(population), created_by=user,
    )
    CheckItem.objects.bulk_create([CheckItem(check_run=check, order_id=pk) for pk in sample])
    return check


def draw_sample(*, check: PeriodicCheck) -> list[int]:
    """The sample the stored seed draws from the check's population now (to verify a check)."""
    population = list(
        check_reads.check_population(assistant=check.assistant, start=check.period_start, end=check.period_end)
        .values_list("pk", flat=True)
    )
    return sorted(random.Random(check.seed).sample(population, min(check.sample_size, len(population))))


@transaction.atomic
def record_check_outcome(*, user, item_id, outcome: str, error_description: str = "", loss_amount=None,
                         responsible_id=None) -> CheckItem:
    """Record what the manager found for one sampled order: correct, or an error (what, and any loss)."""
    if not roles.may(user, "check.manage"):
        raise Forbidden()
    try:
        item = CheckItem.objects.select_for_update().select_related("check_run").get(pk=int(item_id))
    except (CheckItem.DoesNotExist, TypeError, ValueError):
        raise NotFound() from None
    errors: dict[str, list[str]] = {}
    if outcome not in (CheckItem.Outcome.CORRECT, CheckItem.Outcome.ERROR):
        errors["outcome"] = [_("Choose correct or error found.")]
    description = (error_description or "").strip()
    try:
        loss = Decimal(str(loss_amount)) if loss_amount not in (None, "") else Decimal("0.00")
        if not loss.is_finite() or loss < 0 or loss >= Decimal("1e14"):
            raise InvalidOperation
        loss = loss.quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        errors["loss_amount"] = [_("The loss is an amount of zero or more.")]
        loss = Decimal("0.00")
    responsible = None
    if outcome == CheckItem.Outcome.ERROR:
        if not description:
            errors["error_description"] = [_("Say what the error was.")]
        if responsible_id not in (None, ""):
            try:
                responsible = User.objects.get(pk=int(responsible_id), is_active=True)
            except (User.DoesNotExist, TypeError, ValueError):
                errors["responsible"] = [_("Choose the person responsible.")]
        else:
            responsible = item.check_run.assistant
    elif loss:
        errors["loss_amount"] = [_("A loss is recorded only with an error.")]
    if errors:
        raise InvalidInput(_("The outcome has invalid values."), errors=errors)
    if item.outcome != CheckItem.Outcome.PENDING and item.checked_by_id and item.checked_by_id != user.pk \
            and not user.is_superuser:
        raise Conflict(_("Another manager has already recorded this outcome."), code="already_checked")
    item.outcome = outcome
    item.error_description = description if outcome == CheckItem.Outcome.ERROR else ""
    item.loss_amount = loss
    item.responsible = responsible
    item.checked_by = user
    item.checked_at = timezone.now()
    item.save()
    audit.record(kind="loss" if loss else "check", user=user, order=item.order_id, obj=item, name=outcome,
                 after=loss or "", note=item.error_description)
    return item


# --- accountability (R6.3): loss incidents ------------------------------------------------------------
MAX_LOSS_TEXT = 5000


@transaction.atomic
def report_loss(*, user, order_id, cause: str, amount, responsible_id, corrective_action: str):
    """Record a loss on any order (visible to the caller): cause, amount, the person responsible and the
    corrective action. It counts in the person's KPIs once a sales manager confirms it."""
    from orders.selectors import lock_visible_order
    from supervision.models import LossIncident

    order = lock_visible_order(user, order_id)
    if not roles.may(user, "loss.report", order):
        raise Forbidden()
    errors = {}
    cause, corrective_action = (cause or "").strip(), (corrective_action or "").strip()
    for name, value in (("cause", cause), ("corrective_action", corrective_action)):
        if not value:
            errors[name] = [_("This field is required.")]
        elif len(value) > MAX_LOSS_TEXT:
            errors[name] = [_("Please keep it under %(n)s characters.") % {"n": MAX_LOSS_TEXT}]
    try:
        amount = Decimal(str(amount)).quantize(Decimal("0.01"))
        if not amount.is_finite() or amount <= 0 or amount >= Decimal("1e14"):
            raise InvalidOperation
    except (InvalidOperation, TypeError, ValueError):
        errors["amount"] = [_("Give an amount greater than zero.")]
    responsible = User.objects.filter(pk=responsible_id, is_active=True).first() if responsible_id else None
    if responsible is None:
        errors["responsible"] = [_("Choose the person responsible.")]
    if errors:
        raise InvalidInput(errors=errors)
    loss = LossIncident.objects.create(order=order, cause=cause, amount=amount, responsible=responsible,
                                       corrective_action=corrective_action, reported_by=user)
    audit.record(kind="loss", user=user, order=order, obj=loss, name="report", after=amount,
                 note=f"{responsible.get_username()}: {cause[:500]}")
    return loss


@transaction.atomic
def decide_loss(*, user, loss_id, decision: str, note: str = ""):
    """A sales manager confirms or dismisses a reported loss (409 once decided)."""
    from orders.selectors import lock_visible_order
    from supervision.models import LossIncident

    try:
        loss = LossIncident.objects.get(pk=loss_id)
    except (LossIncident.DoesNotExist, TypeError, ValueError):
        raise NotFound() from None
    order = lock_visible_order(user, loss.order_id)
    if not roles.may(user, "loss.decide", order):
        raise Forbidden()
    if decision not in (LossIncident.Status.CONFIRMED, LossIncident.Status.DISMISSED):
        raise InvalidInput(errors={"decision": [_("Choose confirm or dismiss.")]})
    note = (note or "").strip()
    if decision == LossIncident.Status.DISMISSED and not note:
        raise InvalidInput(errors={"note": [_("Say why the loss is dismissed.")]})
    loss = LossIncident.objects.select_for_update().get(pk=loss.pk)
    if loss.status != LossIncident.Status.REPORTED:
        raise Conflict(_("This loss was already decided."), code="already_decided")
    loss.status, loss.decided_by, loss.decided_at, loss.decision_note = decision, user, timezone.now(), note[:5000]
    loss.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    audit.record(kind="loss", user=user, order=order, obj=loss, name=decision, before=LossIncident.Status.REPORTED,
                 after=decision, note=note)
    return loss
