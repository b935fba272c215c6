"""Every write of the order desk (HackSoft style: keyword-only, one transaction each).

:func:`run_transition` is the one way an order changes state: pages, the API,
the admin and tasks all call it. It locks the order's row, checks scope (404),
role (403), state (409) and conditions (400, naming each unmet one), runs the
django-fsm transition, saves, records it (django-fsm-log: who, when, from, to,
comment) in the same transaction, and queues the notifications after commit.
"""

from __future__ import annotations

import datetime
import functools
import logging
from decimal import Decimal

from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, connection, models, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import ConcurrentTransition
from django_fsm_log.models import StateLog

from orderdesk import audit, roles
from orderdesk.errors import ConditionsUnmet, Conflict, Forbidden, InvalidInput, NotFound
from orderdesk.prepared import PreparedBulkInsert, PreparedInsert, PreparedUpdate, save_together
from orderdesk.rules import allows
from orders import lifecycle
from orders.forms import transition_form_class
from orders.models import (
    TRANSITION_METHODS,
    Clarification,
    Customer,
    Order,
    OrderChange,
    OrderLine,
    OrderNumberSequence,
    OrderStateTally,
    PromiseChange,
    Signoff,
    State,
    TransitionContext,
)
from orders.selectors import attach_lines, lock_visible_order

logger = logging.getLogger(__name__)

# Fields of an order an assistant may change while it is `received` (PATCH).
EDITABLE_FIELDS = (
    "customer", "channel", "contact_name", "contact_phone", "delivery_address",
    "requested_delivery_date", "special_terms", "payment_terms",
)


def enqueue(task, *args) -> None:
    """Queue a Celery task after commit; a broker that is down must not fail the request."""

    def send():
        try:
            task.delay(*args)
        except Exception:  # noqa: BLE001 - any broker error: the scheduled sweep catches up
            logger.exception("could not queue %s%r; the outbox sweep will deliver it", task.name, args)

    transaction.on_commit(send)


# --- intake (R4.1) ---------------------------------------------------------------
def next_order_number(*, today: datetime.date | None = None) -> str:
    """A unique, readable number (SO-2026-000042), never reused, safe under concurrency.

    Must run inside the caller's transaction: the counter row stays locked until
    commit, so two creations never take the same value, and a rolled-back
    creation gives its value back only when nothing later has been committed.
    """
    year = (today or timezone.localdate()).year
    if connection.vendor in ("postgresql", "sqlite"):
        # One statement: make the year's row or count it up, and read the new value. The UPDATE
        # locks the row until commit, as the SELECT ... FOR UPDATE below does.
        table, year_col, last_col = (connection.ops.quote_name(name) for name in (
            OrderNumberSequence._meta.db_table, "year", "last"))
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} ({year_col}, {last_col}) VALUES (%s, 1) "  # noqa: S608 - our own names
                f"ON CONFLICT ({year_col}) DO UPDATE SET {last_col} = {table}.{last_col} + 1 RETURNING {last_col}",
                [year],
            )
            last = cursor.fetchone()[0]
        return f"SO-{year}-{last:06d}"
    for _attempt in range(3):
        try:
            with transaction.atomic():
                OrderNumberSequence.objects.get_or_create(year=year)
            break
        except IntegrityError:  # a concurrent creation made the row first
            continue
    OrderNumberSequence.objects.filter(year=year).update(last=F("last") + 1)
    last = OrderNumberSequence.objects.select_for_update().get(year=year).last
    return f"SO-{year}-{last:06d}"


# The largest values the columns hold (OrderLine.quantity 12/3, unit_price 14/2, Order.total_amount 16/2):
# every line total and the order's total must fit the amount column, so an order never overflows it.
MAX_QUANTITY = Decimal("999999999.999")
MAX_UNIT_PRICE = Decimal("999999999999.99")
MAX_AMOUNT = Decimal("99999999999999.99")
ORDER_TEXT_FIELDS = ("contact_name", "contact_phone", "delivery_address", "special_terms")


def _text_problems(name: str, value, max_length: int | None) -> list[str]:
    """A text value's problems against its column: a NUL character, more than `max_length` characters."""
    problems = []
    text = "" if value is None else str(value)
    if "\x00" in text:
        problems.append(_("Null characters are not allowed."))
    if max_length is not None and len(text.strip()) > max_length:
        problems.append(_("Ensure this value has at most %(limit)s characters (it has %(n)s).")
                        % {"limit": max_length, "n": len(text.strip())})
    return problems


def _decimal(value) -> Decimal:
    try:
        return Decimal(str(value).strip())
    except (ArithmeticError, ValueError, TypeError):
        return Decimal("NaN")


def validate_order_values(*, requested_delivery_date, lines, texts: dict | None = None) -> None:
    """Every bound of the order's columns, for pages, API and import alike (a write never fails in the DB)."""
    errors: dict[str, list[str]] = {}
    if requested_delivery_date is not None and requested_delivery_date < timezone.localdate():
        errors["requested_delivery_date"] = [_("The requested delivery date may not be in the past.")]
    for name, value in (texts or {}).items():
        problems = _text_problems(name, value, Order._meta.get_field(name).max_length)
        if problems:
            errors[name] = problems
    if lines is not None:
        if not lines:
            errors["lines"] = [_("An order needs at least one line.")]
        total = Decimal("0.00")
        max_spec = OrderLine._meta.get_field("specification").max_length
        for i, line in enumerate(lines):
            problems = []
            quantity, unit_price = _decimal(line.get("quantity")), _decimal(line.get("unit_price"))
            if not quantity.is_finite() or quantity <= 0:
                problems.append(_("Line %(n)s: the quantity must be greater than zero.") % {"n": i + 1})
            elif quantity > MAX_QUANTITY:
                problems.append(_("Line %(n)s: the quantity may be at most %(max)s.") % {"n": i + 1, "max": MAX_QUANTITY})
            if not unit_price.is_finite() or unit_price < 0:
                problems.append(_("Line %(n)s: the unit price may not be negative.") % {"n": i + 1})
            elif unit_price > MAX_UNIT_PRICE:
                problems.append(_("Line %(n)s: the unit price may be at most %(max)s.")
                                % {"n": i + 1, "max": MAX_UNIT_PRICE})
            if not str(line.get("specification", "")).strip():
                problems.append(_("Line %(n)s: the specification is required.") % {"n": i + 1})
            problems += [_("Line %(n)s: %(problem)s") % {"n": i + 1, "problem": p}
                         for p in _text_problems("specification", line.get("specification", ""), max_spec)]
            if not problems:
                line_total = (quantity * unit_price).quantize(Decimal("0.01"))
                total += line_total
                if line_total > MAX_AMOUNT:
                    problems.append(_("Line %(n)s: the line total may be at most %(max)s.")
                                    % {"n": i + 1, "max": MAX_AMOUNT})
            if problems:
                errors.setdefault("lines", []).extend(problems)
        if "lines" not in errors and total > MAX_AMOUNT:
            errors["lines"] = [_("The order total may be at most %(max)s.") % {"max": MAX_AMOUNT}]
    if errors:
        raise InvalidInput(_("The order has invalid values."), errors=errors)


def _lines_total(lines: list[dict]) -> Decimal:
    return sum(
        ((Decimal(line["quantity"]) * Decimal(line["unit_price"])).quantize(Decimal("0.01")) for line in lines),
        Decimal("0.00"),
    )


def _write_lines(order: Order, lines: list[dict]) -> None:
    """The order's lines in one statement; the written lines stay on the order (no re-read for the answer)."""
    written = _INSERT_LINES.save_all(
        [
            OrderLine(
                order=order,
                position=i + 1,
                product=line["product"],
                specification=str(line["specification"]).strip(),
                quantity=Decimal(line["quantity"]),
                unit_price=Decimal(line["unit_price"]),
            )
            for i, line in enumerate(lines)
        ]
    )
    order.total_amount = _lines_total(lines)
    attach_lines(order, written)


# an intake's INSERT of the order and of its lines, their statements written once (orderdesk.prepared); the
# order's number comes back from its INSERT (orders/0015)
_INSERT_ORDER = PreparedInsert("new order", Order, returning=("number",))


def _number_or_prefix() -> str:
    """The new order's number: on PostgreSQL its prefix with the year (``SO-2026-``), which the order's INSERT
    completes with the year's next value in the same statement (a trigger, migration orders/0015, doing what
    :func:`next_order_number` does); elsewhere the whole number from :func:`next_order_number`."""
    if connection.vendor == "postgresql":
        return f"SO-{timezone.localdate().year}-"
    return next_order_number()
_INSERT_LINES = PreparedBulkInsert("order lines", OrderLine)


@transaction.atomic
def create_order(
    *,
    user,
    customer: Customer,
    channel: str,
    contact_name: str,
    contact_phone: str,
    delivery_address: str,
    requested_delivery_date: datetime.date,
    lines: list[dict],
    special_terms: str = "",
    assistant=None,
    payment_terms=None,
) -> Order:
    """Record a new order (R4.1). ``lines``: dicts of product, specification, quantity, unit_price.

    ``payment_terms``: finance's terms (DESIGN §6b); by default the customer's."""
    if not roles.may(user, "order.create"):
        raise Forbidden()
    validate_order_values(
        requested_delivery_date=requested_delivery_date, lines=lines,
        texts={"contact_name": contact_name, "contact_phone": contact_phone, "delivery_address": delivery_address,
               "special_terms": special_terms},
    )
    assistant = assistant or user
    if assistant.pk != user.pk and not roles.may(user, "order.reassign"):
        raise Forbidden(_("Only a sales manager records an order for another assistant."))
    if roles.Role.SALES_ASSISTANT not in roles.roles_of(assistant):
        # Only an assistant can run the assistant's check (submit) and the acceptance.
        raise InvalidInput(
            _("The order needs an owning sales assistant."),
            errors={"assistant": [_("Choose the sales assistant who will own this order.")]},
        )
    order = Order(
        number=_number_or_prefix(),
        customer=customer,
        channel=channel,
        contact_name=contact_name.strip(),
        contact_phone=contact_phone.strip(),
        delivery_address=delivery_address.strip(),
        requested_delivery_date=requested_delivery_date,
        special_terms=(special_terms or "").strip(),
        payment_terms=payment_terms if payment_terms is not None else customer.payment_terms,
        assistant=assistant,
        created_by=user,
        total_amount=_lines_total(lines),
    )
    _INSERT_ORDER.save(order)  # once: the total is known before the lines are written (= order.save())
    order._update_initial_state()
    _write_lines(order, lines)
    return order


def _display(value) -> str:
    return "" if value is None else str(value)


def record_changes(*, order: Order, user, changes: dict[str, tuple]) -> None:
    """The field history of an order, and the same changes in the audit trail (kind ``change``)."""
    OrderChange.objects.bulk_create(
        [
            OrderChange(order=order, user=user, field=name, old_value=_display(old), new_value=_display(new))
            for name, (old, new) in changes.items()
        ]
    )
    for name, (old, new) in changes.items():
        audit.record(kind="change", user=user, order=order, obj=order, name=name, before=_display(old),
                     after=_display(new))


def _lines_summary(lines: list[dict]) -> str:
    """The lines as one history value: "SKU × quantity @ unit price; …"."""
    return "; ".join(f"{line['product'].sku} × {line['quantity']} @ {line['unit_price']}" for line in lines)


@transaction.atomic
def update_order(*, user, order_id, data: dict) -> Order:
    """Change an order while it is `received` (field history recorded).

    An edit after submission withdraws the submission and voids the joint-review
    sign-offs of the round (R4.2: what was reviewed is no longer what stands).
    """
    order = lock_visible_order(user, order_id)
    if not roles.may(user, "order.edit", order):
        raise Forbidden()
    if order.state != State.RECEIVED:
        raise Conflict(_("An order can be changed only while it is received."), code="not_editable")
    lines = data.get("lines")
    validate_order_values(requested_delivery_date=data.get("requested_delivery_date"), lines=lines,
                           texts={name: data[name] for name in ORDER_TEXT_FIELDS if name in data})
    changes: dict[str, tuple] = {}
    if "payment_terms" in data and data["payment_terms"] is None:
        customer = data.get("customer") or order.customer
        data = {**data, "payment_terms": customer.payment_terms}  # none chosen: the customer's (DESIGN §6b)
    for name in EDITABLE_FIELDS:
        if name in data:
            old = getattr(order, name)
            new = data[name]
            if isinstance(new, str):
                new = new.strip()
            if old != new:
                changes[name] = (old, new)
                setattr(order, name, new)
    if lines is not None:
        old_summary = _lines_summary(
            [{"product": x.product, "quantity": x.quantity, "unit_price": x.unit_price}
             for x in order.lines.select_related("product")]
        )
        order.lines.all().delete()
        _write_lines(order, lines)
        new_summary = _lines_summary(lines)
        if old_summary != new_summary:
            changes["lines"] = (old_summary, new_summary)
    if not changes:
        return order
    if order.submitted_at is not None:
        changes["submitted_at"] = (order.submitted_at, None)
        order.submitted_at = None
        order.review_round += 1
    order.save()
    record_changes(order=order, user=user, changes=changes)
    return order


@transaction.atomic
def reassign_order(*, user, order_id, assistant, reason: str = "") -> Order:
    """Give the order to another sales assistant (sales manager). The change of owner and its reason are
    recorded in the history; both assistants are told (the reason only to readers of internal notes)."""
    order = lock_visible_order(user, order_id)
    if not roles.may(user, "order.reassign", order):
        raise Forbidden()
    if not assistant.groups.filter(name=roles.Role.SALES_ASSISTANT).exists():
        raise InvalidInput(errors={"assistant": [_("The new owner must be a sales assistant.")]})
    reason = (reason or "").strip()
    if len(reason) > 1000:
        raise InvalidInput(errors={"reason": [_("Keep the reason under 1000 characters.")]})
    if order.assistant_id != assistant.pk:
        previous = order.assistant
        changes = {"assistant": (previous, assistant)}
        if reason:
            changes["reassignment_reason"] = ("", reason)
        record_changes(order=order, user=user, changes=changes)
        order.assistant = assistant
        order.save(update_fields=["assistant", "updated_at"])
        from notifications import events

        events.order_reassigned(order=order, previous=previous, actor=user, reason=reason)
    return order


@transaction.atomic
def withdraw_submission(*, user, order_id) -> Order:
    """The order's assistant takes a submitted order back to work on it (received, not submitted).

    Not a transition: the state stays ``received`` (DESIGN §4 has no "draft" state; an edit after
    submission withdraws it the same way). The withdrawal is recorded in the history, voids the
    joint-review sign-offs of the round and drops the order from the manager's review queue.
    """
    order = lock_visible_order(user, order_id)
    if not roles.may(user, "order.withdraw", order):
        raise Forbidden()
    if order.state != State.RECEIVED or order.submitted_at is None:
        raise Conflict(_("Only a submitted order that awaits review can be withdrawn."), code="not_submitted")
    record_changes(order=order, user=user, changes={"submitted_at": (order.submitted_at, None)})
    order.submitted_at = None
    order.review_round += 1
    order.save(update_fields=["submitted_at", "review_round", "updated_at"])
    return order


# --- the lifecycle (DESIGN §4) ----------------------------------------------------
def available_transitions(*, user, order: Order) -> list[dict]:
    """Each transition of the lifecycle with its target and whether the caller may run it now.

    `allowed` means: the caller's role may, and the order's state allows it. The
    conditions that need input are checked when it runs (400 naming them). The
    declared permission is asked once per transition, and only where the state allows it.
    """
    read_only = roles.is_read_only(user)
    result = []
    for name, method_name in TRANSITION_METHODS.items():
        spec = getattr(order, method_name)._django_fsm.get_transition(order.state)
        allowed = spec is not None and not read_only and spec.has_perm(order, user)
        result.append({"name": name, "target": lifecycle.target(name), "allowed": bool(allowed)})
    return result


# attname → field name of the order's concrete columns but its key (what a transition body may change)
_COLUMN_NAMES = {f.attname: f.name for f in Order._meta.concrete_fields if not f.primary_key}


# the transition's UPDATE, its statement written once per set of changed columns (orderdesk.prepared)
_SAVE_TRANSITION = PreparedUpdate("order after a transition", Order)


def _column_values(order: Order) -> dict:
    return {attname: getattr(order, attname) for attname in _COLUMN_NAMES}


@functools.cache
def _condition_reads(name: str) -> tuple[str, ...]:
    """What the conditions of transition `name` (from any state) read with the locked order (orders.conditions)."""
    meta = getattr(Order, TRANSITION_METHODS[name])._django_fsm
    return tuple(sorted({read for spec in meta.transitions.values() for cond in spec.conditions
                         for read in getattr(cond, "reads", ())}))


def run_transition(*, user, order_id, name: str, comment: str = "", data: dict | None = None,
                   files: dict | None = None) -> Order:
    """Run the lifecycle transition `name` on an order for `user` (see module docstring)."""
    if name not in TRANSITION_METHODS:
        raise NotFound(_("No such transition."), code="unknown_transition")
    raw = dict(data or {})
    raw.setdefault("comment", comment)
    form = transition_form_class(name)(data=raw, files=files or None)
    if not form.is_valid():
        raise InvalidInput(_("The transition data is invalid."), errors=form.errors.get_json_data())
    values = dict(form.cleaned_data)
    comment = (values.pop("comment", "") or "").strip()
    try:
        with transaction.atomic():
            # the customer (credit check, customer e-mails) and the assistant (notices) come with the row, and
            # the workshop: the answer is rendered from this order (orders.api.views)
            order = lock_visible_order(user, order_id, related=("customer", "assistant", "workshop"),
                                       reads=_condition_reads(name))
            method = getattr(order, TRANSITION_METHODS[name])
            meta = method._django_fsm
            spec = meta.get_transition(order.state)
            # The role first (403 whatever the state), asked once: the model's declared
            # permission is the same callable for every source state.
            declared = spec or next(iter(meta.transitions.values()))
            if roles.is_read_only(user) or not declared.has_perm(order, user):
                raise Forbidden(_("Your role may not run “%(name)s”.") % {"name": lifecycle.label(name)})
            if spec is None:
                raise Conflict(
                    _("“%(name)s” is not allowed while the order is %(state)s.")
                    % {"name": lifecycle.label(name), "state": order.get_state_display()},
                    code="invalid_state",
                )
            # Each condition runs once: its answer is kept on this context, and django-fsm's
            # own check inside `method()` reads it (orders.conditions).
            order._ctx = TransitionContext(user=user, comment=comment, data=values, deferred=[])
            source_state = order.state
            failed = [cond for cond in spec.conditions if not cond(order)]
            if any(cond.conflict for cond in failed):
                # e.g. a second `submit` that lost the race to the first
                raise Conflict(str(next(c for c in failed if c.conflict).message), code="conflict")
            if failed:
                raise ConditionsUnmet([{"code": cond.code, "message": str(cond.message)} for cond in failed])
            before = _column_values(order)
            method(by=user, description=comment or None)
            # only the columns the transition changed (and updated_at): an UPDATE of every column of the
            # order was a third of the save's cost, and a row lock does not need them
            after = _column_values(order)
            changed = [_COLUMN_NAMES[a] for a, value in after.items() if before[a] != value and a != "updated_at"]
            # The state log's record (django-fsm-log, handed over by orders.fsm_log), the order's update and the
            # audit entry: one round trip (orderdesk.prepared.save_together).
            record, order._ctx.deferred = order._ctx.deferred, None
            *_records, updated, _entry = save_together(
                *record,
                # django-fsm's concurrency guard as Order.save would apply it: the row still in the state it was
                # read in
                _SAVE_TRANSITION.bind(order, [*changed, "updated_at"], {"state": source_state}),
                audit.entry_write(kind="transition", user=user, order=order, obj=order, name=name,
                                  before=source_state, after=order.state, note=comment),
            )
            if not updated:
                raise ConcurrentTransition("the order changed since it was read")
            order._update_initial_state()
            # after-effects (lifecycle registry: owned by the department whose rows they write)
            lifecycle.run_after(name, order=order, user=user, comment=comment)
            # the state log's record of this run: kept on the context when django-fsm-log wrote it
            # (orders.apps: a post_save receiver), read back only if it was not
            log_id = order._ctx.log_id
            if log_id is None:
                log_id = (
                    StateLog.objects.filter(
                        object_id=order.pk, content_type=ContentType.objects.get_for_model(Order), transition=name
                    )
                    .order_by("-id").values_list("pk", flat=True).first()
                )
            order._ctx = None
            # The outbox (issue 5): in-app rows and e-mails are written in this transaction;
            # only the sending is queued, after commit.
            from notifications import events

            entry = lifecycle.spec(name)
            events.notify_transition(
                log_id=log_id, order_id=order.pk, name=name, actor_id=user.pk, order=order, actor=user,
                notices=entry.notices if entry else (), customer_events=entry.customer_events if entry else (),
                comment=comment or "",
            )
    except ConcurrentTransition:
        raise Conflict(_("Another change to this order won the race; reload and try again."),
                       code="concurrent_transition") from None
    return order


# --- review helpers (R4.2) --------------------------------------------------------
@transaction.atomic
def record_signoff(*, user, order_id, decision: str, comment: str = "") -> Signoff:
    """A joint-review sign-off by finance (finance_manager) or production (production_supervisor)."""
    order = lock_visible_order(user, order_id)
    if not roles.may(user, "signoff", order):
        raise Forbidden()
    if decision not in Signoff.Decision.values:
        raise InvalidInput(errors={"decision": [_("Choose approve or object.")]})
    if order.state != State.RECEIVED or order.submitted_at is None:
        raise Conflict(_("Sign-offs are taken while a submitted order awaits review."), code="invalid_state")
    if not order.requires_joint_review:
        raise Conflict(_("This order does not need a joint review."), code="no_joint_review")
    if decision == Signoff.Decision.OBJECT and not comment.strip():
        raise InvalidInput(errors={"comment": [_("An objection needs a comment.")]})
    user_roles = roles.roles_of(user)
    if roles.Role.FINANCE_MANAGER in user_roles and not user.is_superuser:
        department = Signoff.Department.FINANCE
    elif roles.Role.PRODUCTION_SUPERVISOR in user_roles and not user.is_superuser:
        department = Signoff.Department.PRODUCTION
    else:
        raise Forbidden(_("Only a finance manager or a production supervisor signs a joint review."))
    signoff = Signoff.objects.create(
        order=order, review_round=order.review_round, department=department, decision=decision,
        comment=comment.strip(), user=user,
    )
    audit.record(kind="signoff", user=user, order=order, obj=signoff, name=decision, after=department,
                 note=signoff.comment)
    from notifications import events

    events.signoff_recorded(signoff=signoff)  # an objection or a completed review (the outbox)
    return signoff


@transaction.atomic
def open_clarification(*, user, order_id, question: str) -> Clarification:
    order = lock_visible_order(user, order_id)
    if not roles.may(user, "clarification.manage", order):
        raise Forbidden()
    if not question.strip():
        raise InvalidInput(errors={"question": [_("This field is required.")]})
    clarification = Clarification.objects.create(order=order, question=question.strip(), raised_by=user)
    from notifications import events

    events.clarification_changed(clarification=clarification, resolved=False, actor=user)
    return clarification


@transaction.atomic
def resolve_clarification(*, user, clarification_id, resolution: str) -> Clarification:
    try:
        clarification = Clarification.objects.select_related("order").get(pk=clarification_id)
    except (Clarification.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None
    lock_visible_order(user, clarification.order_id)
    if not roles.may(user, "clarification.manage", clarification.order):
        raise Forbidden()
    if not resolution.strip():
        raise InvalidInput(errors={"resolution": [_("This field is required.")]})
    if clarification.resolved_at is not None:
        raise Conflict(_("The clarification is already resolved."))
    clarification.resolution = resolution.strip()
    clarification.resolved_at = timezone.now()
    clarification.save(update_fields=["resolution", "resolved_at"])
    from notifications import events

    events.clarification_changed(clarification=clarification, resolved=True, actor=user)
    return clarification


# --- the assistant's check (R4.2): communication log, escalations (R5.1) -------------------------
@transaction.atomic
def log_communication(*, user, order_id, channel: str, with_whom: str, summary: str,
                      at: datetime.datetime | None = None):
    """Record a contact with the customer about the order (who, when, what was said or agreed)."""
    from orders.models import Communication

    order = lock_visible_order(user, order_id)
    if not roles.may(user, "communication.log", order):
        raise Forbidden()
    errors: dict[str, list[str]] = {}
    if channel not in Communication.Channel.values:
        errors["channel"] = [_("Choose call, email, visit or other.")]
    if not (with_whom or "").strip():
        errors["with_whom"] = [_("This field is required.")]
    if not (summary or "").strip():
        errors["summary"] = [_("This field is required.")]
    at = at or timezone.now()
    if at > timezone.now() + datetime.timedelta(minutes=5):
        errors["at"] = [_("A contact cannot lie in the future.")]
    if errors:
        raise InvalidInput(_("The communication has invalid values."), errors=errors)
    return Communication.objects.create(
        order=order, channel=channel, at=at, with_whom=with_whom.strip()[:100], summary=summary.strip(),
        recorded_by=user,
    )


@transaction.atomic
def raise_escalation(*, user, order_id, reason: str):
    """Escalate a problem with the order to the sales managers (R5.1); they are notified."""
    from orders.models import Escalation

    order = lock_visible_order(user, order_id)
    if not roles.may(user, "escalation.raise", order):
        raise Forbidden()
    if not (reason or "").strip():
        raise InvalidInput(errors={"reason": [_("This field is required.")]})
    escalation = Escalation.objects.create(order=order, reason=reason.strip(), raised_by=user)
    from notifications import events

    events.escalation_raised(escalation=escalation)  # in this transaction (the outbox)
    return escalation


@transaction.atomic
def resolve_escalation(*, user, escalation_id, resolution: str):
    from orders.models import Escalation

    try:
        escalation = Escalation.objects.select_related("order").get(pk=escalation_id)
    except (Escalation.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None
    order = lock_visible_order(user, escalation.order_id)
    if not roles.may(user, "escalation.resolve", order):
        raise Forbidden()
    if not (resolution or "").strip():
        raise InvalidInput(errors={"resolution": [_("This field is required.")]})
    escalation = Escalation.objects.select_for_update().get(pk=escalation.pk)
    if escalation.resolved_at is not None:
        raise Conflict(_("The escalation is already resolved."))
    escalation.resolution = resolution.strip()
    escalation.resolved_by = user
    escalation.resolved_at = timezone.now()
    escalation.save(update_fields=["resolution", "resolved_by", "resolved_at"])
    return escalation


# --- the customer's tracking link (R5.3) ------------------------------------------------------------
@transaction.atomic
def issue_tracking_link(*, user, order_id) -> Order:
    """Issue a new tracking link for the order: a fresh key, so the link given before answers 404 from now on."""
    import secrets

    order = lock_visible_order(user, order_id)
    if not roles.may(user, "tracking_link.issue", order):
        raise Forbidden()
    old_issued = order.tracking_issued_at
    order.tracking_key = secrets.token_urlsafe(16)[:22]
    order.tracking_issued_at = timezone.now()
    order.save(update_fields=["tracking_key", "tracking_issued_at", "updated_at"])
    audit.record(kind="tracking_link", user=user, order=order, obj=order, name="issue",
                 before=old_issued or "", after=order.tracking_issued_at)
    return order
# --- the promise (R5.3) ---------------------------------------------------------------------------
# From approval (the first promise) until the goods are delivered: reviewed … shipped.
PROMISE_STATES = (State.REVIEWED, State.SCHEDULED, State.PRODUCING, State.SHIPPED)
MAX_REASON = 2000


def check_promise(user, order) -> None:
    """Revise the promised delivery date: the order's assistant or a sales manager, from `reviewed` until
    `shipped` (403 other roles, 409 other states)."""
    if not roles.may(user, "promise.revise", order):
        raise Forbidden(_("Only the order's assistant or a sales manager changes the promise."))
    if order.state not in PROMISE_STATES:
        raise Conflict(_("The promised date can be changed from approval until the goods are delivered."),
                       code="invalid_state")


may_revise_promise = allows(check_promise)


@transaction.atomic
def revise_promise(*, user, order_id, promised_delivery_date, reason: str):
    """The one way the promise changes after approval (R5.3): who, old, new and why are recorded (the
    order's history and audit trail through an :class:`OrderChange`, the reason on its
    :class:`PromiseChange`), and the customer is told in their language (e-mail; the tracking page)."""
    order = lock_visible_order(user, order_id)
    check_promise(user, order)
    errors: dict[str, list[str]] = {}
    reason = "" if reason is None else str(reason)
    if not isinstance(promised_delivery_date, datetime.date):
        errors["promised_delivery_date"] = [_("This field is required.")]
    elif promised_delivery_date < timezone.localdate():
        errors["promised_delivery_date"] = [_("The promised delivery date may not be in the past.")]
    elif promised_delivery_date == order.promised_delivery_date:
        errors["promised_delivery_date"] = [_("This is the promised date already.")]
    if not reason.strip():
        errors["reason"] = [_("Give the reason the customer will read.")]
    else:
        problems = _text_problems("reason", reason, MAX_REASON)
        if problems:
            errors["reason"] = problems
    if errors:
        raise InvalidInput(_("The new promise is invalid."), errors=errors)
    old = order.promised_delivery_date
    order.promised_delivery_date = promised_delivery_date
    order.save(update_fields=["promised_delivery_date", "updated_at"])
    change = OrderChange.objects.create(order=order, user=user, field="promised_delivery_date",
                                        old_value=_display(old), new_value=_display(promised_delivery_date))
    promise = PromiseChange.objects.create(order=order, change=change, old_date=old, new_date=promised_delivery_date,
                                           reason=reason.strip(), changed_by=user, at=change.at)
    audit.record(kind="promise", user=user, order=order, obj=promise, name="promised_delivery_date", before=_display(old),
                 after=_display(promised_delivery_date), note=promise.reason)
    from notifications import events

    events.promise_revised(promise=promise)  # the customer's e-mail, in this transaction (the outbox)
    return promise


# --- the per-state tallies (issue 14) ----------------------------------------------------------------------
def fold_rows(model, keys: tuple[str, ...], sums: tuple[str, ...], *, where: str = "", params=()) -> int:
    """Fold the rows of a running tally (``model``) into one per ``keys``, adding up ``sums`` and dropping the keys
    whose sums are all zero; returns how many rows were folded. The rows are deleted and read back in one statement
    (``DELETE … RETURNING``): a row a concurrent write appends meanwhile is left for the next fold, one a concurrent
    fold took is not counted twice. ``where`` (SQL, with ``params``) folds part of the table. Run it inside the
    caller's transaction."""
    meta = model._meta
    columns = [meta.get_field(name) for name in (*keys, *sums)]
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {meta.db_table} {where} RETURNING "  # noqa: S608 - our table and columns
                       f"{', '.join(connection.ops.quote_name(f.column) for f in columns)}", list(params))
        rows = cursor.fetchall()
    key_fields, sum_fields = columns[:len(keys)], columns[len(keys):]

    def number(field, value):
        return Decimal(str(value)) if isinstance(field, models.DecimalField) else int(value)

    totals: dict[tuple, list] = {}
    for row in rows:
        key = tuple(f.to_python(v) for f, v in zip(key_fields, row, strict=False))
        acc = totals.setdefault(key, [number(f, 0) for f in sum_fields])
        for i, (f, value) in enumerate(zip(sum_fields, row[len(keys):], strict=True)):
            acc[i] += number(f, value or 0)
    folded = []
    for key, values in totals.items():
        if not any(values):
            continue
        values = [v.quantize(Decimal(1).scaleb(-f.decimal_places)) if isinstance(f, models.DecimalField) else v
                  for f, v in zip(sum_fields, values, strict=True)]
        folded.append(model(**{f.attname: v for f, v in zip(columns, (*key, *values), strict=True)}))
    model.objects.bulk_create(folded, batch_size=1000)
    return len(rows)


def compact_state_tallies() -> int:
    """Fold the running tallies the database keeps (beat, every five minutes): the orders by state and promised date
    (:class:`orders.models.OrderStateTally`), each customer's open exposure (:class:`orders.models.CustomerExposure`)
    and the orders by customer, state and submission (:class:`orders.models.CustomerStateTally`, through
    :func:`compact_customer_tallies`); returns how many rows of the first two were folded."""
    from orders.models import CustomerExposure

    compact_customer_tallies()
    with transaction.atomic():
        return (fold_rows(OrderStateTally, ("state", "promised_delivery_date"), ("n",))
                + fold_rows(CustomerExposure, ("customer",), ("amount",)))


def compact_customer_tallies() -> int:
    """Fold the rows of :class:`orders.models.CustomerStateTally` into one per (customer, state, submitted), as
    :func:`compact_state_tallies` does; returns how many rows were folded."""
    from orders.models import CustomerStateTally

    with transaction.atomic():
        return fold_rows(CustomerStateTally, ("customer", "state", "submitted"), ("n", "amount"))


def fold_customer_exposure(customer_id) -> int:
    """Fold one customer's exposure entries into one, inside the caller's transaction (a credit check that found
    them piled up between two compactions: :func:`orders.selectors.credit_position_of`)."""
    from orders.models import CustomerExposure

    return fold_rows(CustomerExposure, ("customer",), ("amount",), where="WHERE customer_id = %s", params=[customer_id])
