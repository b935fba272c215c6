"""Every write of the order desk (HackSoft style: keyword-only, one transaction each).

:func:`run_transition` is the one way an order changes state: pages, the API,
the admin and tasks all call it. It locks the order's row, checks scope (404),
role (403), state (409) and conditions (400, naming each unmet one), runs the
django-fsm transition, saves, records it (django-fsm-log: who, when, from, to,
comment) in the same transaction, and queues the notifications after commit.
"""

from __future__ import annotations

import datetime
import logging
from decimal import Decimal

from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import ConcurrentTransition
from django_fsm_log.models import StateLog

from orderdesk import roles
from orderdesk.errors import ConditionsUnmet, Conflict, Forbidden, InvalidInput, NotFound
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
    Product,
    Signoff,
    State,
    TransitionContext,
)
from orders.selectors import visible_orders

logger = logging.getLogger(__name__)

# Fields of an order an assistant may change while it is `received` (PATCH).
EDITABLE_FIELDS = (
    "customer", "channel", "contact_name", "contact_phone", "delivery_address",
    "requested_delivery_date", "special_terms",
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


def _validate_order_values(*, requested_delivery_date, lines, texts: dict | None = None) -> None:
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


def _write_lines(order: Order, lines: list[dict]) -> None:
    OrderLine.objects.bulk_create(
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
    order.total_amount = sum(
        ((Decimal(line["quantity"]) * Decimal(line["unit_price"])).quantize(Decimal("0.01")) for line in lines),
        Decimal("0.00"),
    )


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
) -> Order:
    """Record a new order (R4.1). ``lines``: dicts of product, specification, quantity, unit_price."""
    if not roles.may(user, "order.create"):
        raise Forbidden()
    _validate_order_values(
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
        number=next_order_number(),
        customer=customer,
        channel=channel,
        contact_name=contact_name.strip(),
        contact_phone=contact_phone.strip(),
        delivery_address=delivery_address.strip(),
        requested_delivery_date=requested_delivery_date,
        special_terms=(special_terms or "").strip(),
        assistant=assistant,
        created_by=user,
    )
    order.save()
    _write_lines(order, lines)
    order.save(update_fields=["total_amount"])
    return order


def _lock_visible_order(user, order_id) -> Order:
    """Lock the order's row for this transaction; 404 if the user may not see it."""
    try:
        return visible_orders(user).select_for_update(of=("self",)).get(pk=order_id)
    except (Order.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None


def _display(value) -> str:
    return "" if value is None else str(value)


def record_changes(*, order: Order, user, changes: dict[str, tuple]) -> None:
    OrderChange.objects.bulk_create(
        [
            OrderChange(order=order, user=user, field=name, old_value=_display(old), new_value=_display(new))
            for name, (old, new) in changes.items()
        ]
    )


def _lines_summary(lines: list[dict]) -> str:
    """The lines as one history value: "SKU × quantity @ unit price; …"."""
    return "; ".join(f"{line['product'].sku} × {line['quantity']} @ {line['unit_price']}" for line in lines)


@transaction.atomic
def update_order(*, user, order_id, data: dict) -> Order:
    """Change an order while it is `received` (field history recorded).

    An edit after submission withdraws the submission and voids the joint-review
    sign-offs of the round (R4.2: what was reviewed is no longer what stands).
    """
    order = _lock_visible_order(user, order_id)
    if not roles.may(user, "order.edit", order):
        raise Forbidden()
    if order.state != State.RECEIVED:
        raise Conflict(_("An order can be changed only while it is received."), code="not_editable")
    lines = data.get("lines")
    _validate_order_values(requested_delivery_date=data.get("requested_delivery_date"), lines=lines,
                           texts={name: data[name] for name in ORDER_TEXT_FIELDS if name in data})
    changes: dict[str, tuple] = {}
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
def reassign_order(*, user, order_id, assistant) -> Order:
    order = _lock_visible_order(user, order_id)
    if not roles.may(user, "order.reassign", order):
        raise Forbidden()
    if not assistant.groups.filter(name=roles.Role.SALES_ASSISTANT).exists():
        raise InvalidInput(errors={"assistant": [_("The new owner must be a sales assistant.")]})
    if order.assistant_id != assistant.pk:
        record_changes(order=order, user=user, changes={"assistant": (order.assistant, assistant)})
        order.assistant = assistant
        order.save(update_fields=["assistant", "updated_at"])
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
            order = _lock_visible_order(user, order_id)
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
            order._ctx = TransitionContext(user=user, comment=comment, data=values)
            failed = [cond for cond in spec.conditions if not cond(order)]
            if any(cond.conflict for cond in failed):
                # e.g. a second `submit` that lost the race to the first
                raise Conflict(str(next(c for c in failed if c.conflict).message), code="conflict")
            if failed:
                raise ConditionsUnmet([{"code": cond.code, "message": str(cond.message)} for cond in failed])
            method(by=user, description=comment or None)
            order.save()
            # after-effects (lifecycle registry: owned by the department whose rows they write)
            lifecycle.run_after(name, order=order, user=user, comment=comment)
            log = (
                StateLog.objects.filter(
                    object_id=order.pk, content_type=ContentType.objects.get_for_model(Order), transition=name
                )
                .order_by("-id")
                .first()
            )
            order._ctx = None
            # The outbox (issue 5): in-app rows and e-mails are written in this transaction;
            # only the sending is queued, after commit.
            from notifications import events

            entry = lifecycle.spec(name)
            events.notify_transition(
                log_id=log.pk if log else None, order_id=order.pk, name=name, actor_id=user.pk,
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
    order = _lock_visible_order(user, order_id)
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
    from notifications import events

    events.signoff_recorded(signoff=signoff)  # an objection or a completed review (the outbox)
    return signoff


@transaction.atomic
def open_clarification(*, user, order_id, question: str) -> Clarification:
    order = _lock_visible_order(user, order_id)
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
    _lock_visible_order(user, clarification.order_id)
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

    order = _lock_visible_order(user, order_id)
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

    order = _lock_visible_order(user, order_id)
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
    order = _lock_visible_order(user, escalation.order_id)
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


# --- import from a CSV or Excel sheet (R4.1, other channels) -------------------------------------
IMPORT_MAX_BYTES = 5 * 1024 * 1024
IMPORT_MAX_ROWS = 5000
# A sheet is read row by row within these bounds, never trusting its declared dimension (a small sheet
# declaring A1:XFD1048576 took 25 s and 731 MB when padded to it): at most IMPORT_MAX_SHEET_ROWS rows
# (blank ones included) and IMPORT_MAX_COLUMNS columns, an .xlsx at most IMPORT_MAX_UNPACKED_BYTES unpacked.
IMPORT_MAX_SHEET_ROWS = 2 * IMPORT_MAX_ROWS + 1
IMPORT_MAX_COLUMNS = 50
IMPORT_MAX_UNPACKED_BYTES = 50 * 1024 * 1024
IMPORT_COLUMNS = (
    "order_ref", "customer", "channel", "contact_name", "contact_phone", "delivery_address",
    "requested_delivery_date", "special_terms", "product", "specification", "quantity", "unit_price",
)
IMPORT_REQUIRED = frozenset(IMPORT_COLUMNS) - {"special_terms"}
# the columns' lengths (Order and OrderLine), checked per row
IMPORT_TEXT_LIMITS = {
    **{name: Order._meta.get_field(name).max_length for name in ("contact_name", "contact_phone", "delivery_address")},
    "specification": OrderLine._meta.get_field("specification").max_length,
}


@transaction.atomic
def create_import_job(*, user, upload):
    """Store an uploaded sheet for checking; nothing is imported yet."""
    from orders.models import ImportJob

    if not roles.may(user, "order.import"):
        raise Forbidden()
    if upload is None:
        raise InvalidInput(errors={"file": [_("Choose a CSV or Excel file.")]})
    name = upload.name or ""
    if not name.lower().endswith((".csv", ".xlsx")):
        raise InvalidInput(errors={"file": [_("The file must be a CSV (.csv) or Excel (.xlsx) sheet.")]})
    if upload.size > IMPORT_MAX_BYTES:
        raise InvalidInput(errors={"file": [_("The file may be at most 5 MB.")]})
    job = ImportJob.objects.create(user=user, file=upload, filename=name[:200])
    from orders import tasks

    enqueue(tasks.validate_import, job.pk)
    return job


def _too_many_rows():
    return InvalidInput(errors={"file": [
        _("At most %(n)s rows per file (blank rows included: delete the rows below your data).")
        % {"n": IMPORT_MAX_ROWS}
    ]})


def _too_many_columns():
    return InvalidInput(errors={"file": [
        _("At most %(n)s columns per sheet (delete the columns right of your data).") % {"n": IMPORT_MAX_COLUMNS}
    ]})


def _xlsx_rows(raw: bytes):
    """The first sheet's rows, one at a time, within the row, column and unpacked-size bounds."""
    import io
    import zipfile

    import openpyxl

    try:
        unpacked = sum(info.file_size for info in zipfile.ZipFile(io.BytesIO(raw)).infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        raise InvalidInput(errors={"file": [_("The Excel file cannot be read.")]}) from None
    if unpacked > IMPORT_MAX_UNPACKED_BYTES:
        raise InvalidInput(errors={"file": [_("The Excel file is too large once unpacked (at most %(n)s MB).")
                                            % {"n": IMPORT_MAX_UNPACKED_BYTES // (1024 * 1024)}]})
    book = None
    try:
        book = openpyxl.load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
        sheet = book.worksheets[0]
        sheet.reset_dimensions()  # never pad rows to the declared dimension
        # one row past the bound: openpyxl yields it only when the sheet goes on below
        for index, row in enumerate(sheet.iter_rows(max_row=IMPORT_MAX_SHEET_ROWS + 1, values_only=True), 1):
            if index > IMPORT_MAX_SHEET_ROWS:
                raise _too_many_rows()
            yield row
    except InvalidInput:
        raise
    except Exception:  # noqa: BLE001 - any unreadable workbook is the user's input error
        raise InvalidInput(errors={"file": [_("The Excel file cannot be read.")]}) from None
    finally:
        if book is not None:
            book.close()


def _csv_rows(raw: bytes):
    import csv
    import io

    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = raw.decode("gb18030")
        except UnicodeDecodeError:
            raise InvalidInput(errors={"file": [_("The CSV file must be UTF-8 or GB18030 text.")]}) from None
    reader = csv.reader(io.StringIO(text))  # each field at most csv.field_size_limit() (128 KB) characters
    try:
        for index, row in enumerate(reader, 1):
            if index > IMPORT_MAX_SHEET_ROWS:
                raise _too_many_rows()
            yield row
    except csv.Error:
        raise InvalidInput(errors={"file": [_("The CSV file cannot be read (a field is too long or a quote "
                                              "is not closed).")]}) from None


def _read_sheet(job) -> list[dict]:
    """The rows of the sheet as dicts of text keyed by the header's column names, read row by row within
    the bounds above (rows, columns, unpacked size)."""
    job.file.open("rb")
    try:
        raw = job.file.read(IMPORT_MAX_BYTES + 1)
    finally:
        job.file.close()
    if len(raw) > IMPORT_MAX_BYTES:
        raise InvalidInput(errors={"file": [_("The file may be at most 5 MB.")]})
    source = _xlsx_rows(raw) if job.filename.lower().endswith(".xlsx") else _csv_rows(raw)
    rows = []
    for row in source:
        values = ["" if v is None else v for v in row]
        if not any(str(v).strip() for v in values):
            continue
        if any(str(v).strip() for v in values[IMPORT_MAX_COLUMNS:]):
            raise _too_many_columns()
        if len(rows) > IMPORT_MAX_ROWS:  # the header and IMPORT_MAX_ROWS rows are already read
            raise _too_many_rows()
        rows.append(values[:IMPORT_MAX_COLUMNS])
    if not rows:
        raise InvalidInput(errors={"file": [_("The file is empty.")]})
    header = [str(h).strip().lower() for h in rows[0]]
    missing = [c for c in IMPORT_REQUIRED if c not in header]
    if missing:
        raise InvalidInput(errors={"file": [
            _("Missing columns: %(columns)s.") % {"columns": ", ".join(sorted(missing))}
        ]})
    result = []
    for values in rows[1:]:
        item = {}
        for i, name in enumerate(header):
            value = values[i] if i < len(values) else ""
            item[name] = value
        result.append(item)
    return result


def _parse_import_rows(rows: list[dict], *, progress=None) -> tuple[list[dict], list[dict]]:
    """Check every row; returns (orders grouped by `order_ref`, errors as {row, field, message})."""
    from orders.models import Channel

    errors: list[dict] = []
    customers = {c.code.lower(): c for c in Customer.objects.all()}
    products = {p.sku.lower(): p for p in Product.objects.filter(is_active=True)}
    groups: dict[str, dict] = {}
    today = timezone.localdate()
    for index, row in enumerate(rows):
        number = index + 2  # the header is row 1
        problems = []

        def text(name, row=row):
            value = row.get(name, "")
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            return str(value).strip()

        for name in IMPORT_COLUMNS:  # PostgreSQL refuses NUL in text: refused here, not at the commit
            if "\x00" in str(row.get(name, "")):
                problems.append((name, _("Null characters are not allowed.")))
        for name, limit in IMPORT_TEXT_LIMITS.items():
            if len(text(name)) > limit:
                problems.append((name, _("Ensure this value has at most %(limit)s characters (it has %(n)s).")
                                 % {"limit": limit, "n": len(text(name))}))
        ref = text("order_ref")
        if not ref:
            problems.append(("order_ref", _("This field is required.")))
        customer = customers.get(text("customer").lower())
        if customer is None:
            problems.append(("customer", _("Unknown customer code “%(code)s”.") % {"code": text("customer")}))
        channel = text("channel").lower()
        if channel not in Channel.values:
            problems.append(("channel", _("Unknown channel “%(value)s”.") % {"value": text("channel")}))
        for name in ("contact_name", "contact_phone", "delivery_address", "specification"):
            if not text(name):
                problems.append((name, _("This field is required.")))
        raw_date = row.get("requested_delivery_date", "")
        requested = None
        if isinstance(raw_date, datetime.datetime):
            requested = raw_date.date()
        elif isinstance(raw_date, datetime.date):
            requested = raw_date
        else:
            try:
                requested = datetime.date.fromisoformat(str(raw_date).strip())
            except ValueError:
                problems.append(("requested_delivery_date", _("Enter a date as YYYY-MM-DD.")))
        if requested is not None and requested < today:
            problems.append(("requested_delivery_date", _("The requested delivery date may not be in the past.")))
        product = products.get(text("product").lower())
        if product is None:
            problems.append(("product", _("Unknown product SKU “%(sku)s”.") % {"sku": text("product")}))
        amounts = {}
        for name, minimum, maximum in (("quantity", Decimal("0.001"), MAX_QUANTITY),
                                       ("unit_price", Decimal("0"), MAX_UNIT_PRICE)):
            try:
                value = Decimal(text(name))
                if not value.is_finite() or value < minimum:
                    raise ArithmeticError
                if value > maximum:
                    problems.append((name, _("The value may be at most %(max)s.") % {"max": maximum}))
                    continue
                amounts[name] = value.quantize(Decimal("0.001") if name == "quantity" else Decimal("0.01"))
            except (ArithmeticError, ValueError):
                problems.append((name, _("Enter a valid number (quantity above zero, price zero or more).")))
        if len(amounts) == 2 and (amounts["quantity"] * amounts["unit_price"]).quantize(Decimal("0.01")) > MAX_AMOUNT:
            problems.append(("unit_price", _("The line total may be at most %(max)s.") % {"max": MAX_AMOUNT}))
        for field_name, message in problems:
            errors.append({"row": number, "field": field_name, "message": str(message)})
        if not problems:
            group = groups.setdefault(ref, {
                "ref": ref, "row": number, "customer": customer, "channel": channel,
                "contact_name": text("contact_name"), "contact_phone": text("contact_phone"),
                "delivery_address": text("delivery_address"), "requested_delivery_date": requested,
                "special_terms": text("special_terms"), "lines": [],
            })
            if group["customer"].pk != customer.pk:
                errors.append({"row": number, "field": "customer",
                               "message": str(_("All rows of one order_ref need the same customer."))})
            group["lines"].append({"product": product, "specification": text("specification"), **amounts})
        if progress is not None:
            progress(index + 1)
    for group in groups.values():  # every check create_order applies, so that the commit cannot fail on them
        try:
            _validate_order_values(
                requested_delivery_date=group["requested_delivery_date"], lines=group["lines"],
                texts={name: group[name] for name in ORDER_TEXT_FIELDS},
            )
        except InvalidInput as exc:
            for field_name, problems in exc.errors.items():
                errors.extend({"row": group["row"], "field": field_name, "message": str(m)} for m in problems)
    return list(groups.values()), errors


def validate_import(*, job_id) -> None:
    """Check an import job's rows and store the preview and per-row errors (runs in a worker).

    Never leaves the job "validating": bad input ends it `invalid` with its reasons, anything unexpected
    ends it `failed` with the reason (and is logged)."""
    from orders.models import ImportJob

    job = ImportJob.objects.filter(pk=job_id).first()
    if job is None:
        return
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.VALIDATING)
    try:
        _check_import(job)
    except InvalidInput as exc:
        messages = [str(m) for problems in exc.errors.values() for m in problems] or [str(exc.detail)]
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportJob.Status.INVALID, errors=[{"row": 0, "field": "file", "message": m} for m in messages],
            finished_at=timezone.now(),
        )
    except Exception as exc:  # noqa: BLE001 - the job records why it failed; it is never left "validating"
        logger.exception("import job %s: the check failed", job.pk)
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportJob.Status.FAILED, finished_at=timezone.now(),
            errors=[{"row": 0, "field": "file", "message": _failure_message(exc)}],
        )


def _failure_message(exc: BaseException) -> str:
    """What the job shows: the kind of failure only (its details, paths included, go to the log)."""
    return str(_("The import failed (%(error)s); the details are in the server log.") % {"error": type(exc).__name__})


def _check_import(job) -> None:
    from orders.models import ImportJob

    rows = _read_sheet(job)
    ImportJob.objects.filter(pk=job.pk).update(total_rows=len(rows), processed_rows=0)
    step = max(1, len(rows) // 50)

    def progress(done):
        if done % step == 0 or done == len(rows):
            ImportJob.objects.filter(pk=job.pk).update(processed_rows=done)

    groups, errors = _parse_import_rows(rows, progress=progress)
    preview = [
        {
            "ref": g["ref"], "row": g["row"], "customer": str(g["customer"]), "lines": len(g["lines"]),
            "requested_delivery_date": g["requested_delivery_date"].isoformat(),
            "total": str(sum((ln["quantity"] * ln["unit_price"]).quantize(Decimal("0.01")) for ln in g["lines"])),
        }
        for g in groups
    ]
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.INVALID if errors or not groups else ImportJob.Status.READY,
        errors=errors, preview=preview, processed_rows=len(rows), finished_at=timezone.now(),
    )


def commit_import(*, user, job_id) -> list[int]:
    """Create every order of a checked import in ONE transaction through :func:`create_order`: all or nothing."""
    from orders.models import ImportJob

    with transaction.atomic():
        try:
            job = ImportJob.objects.select_for_update().get(pk=job_id, user=user)
        except (ImportJob.DoesNotExist, ValueError, TypeError):
            raise NotFound() from None
        if job.status != ImportJob.Status.READY:
            raise Conflict(_("Only a checked import without errors can be imported."), code="import_not_ready")
        job.status = ImportJob.Status.IMPORTING
        job.save(update_fields=["status"])
    try:
        rows = _read_sheet(job)
        groups, errors = _parse_import_rows(rows)
        if errors:
            raise InvalidInput(_("The file has errors."), errors={"file": [e["message"] for e in errors]})
        with transaction.atomic():
            ids = []
            for group in groups:
                try:
                    order = create_order(
                        user=user, customer=group["customer"], channel=group["channel"],
                        contact_name=group["contact_name"], contact_phone=group["contact_phone"],
                        delivery_address=group["delivery_address"],
                        requested_delivery_date=group["requested_delivery_date"],
                        special_terms=group["special_terms"], lines=group["lines"],
                    )
                except InvalidInput as exc:
                    messages = [str(m) for problems in exc.errors.values() for m in problems] or [str(exc.detail)]
                    raise InvalidInput(errors={"file": [
                        _("Order %(ref)s (row %(row)s): %(problem)s") % {"ref": group["ref"], "row": group["row"],
                                                                        "problem": m}
                        for m in messages
                    ]}) from None
                ids.append(order.pk)
            ImportJob.objects.filter(pk=job.pk).update(
                status=ImportJob.Status.DONE, order_ids=ids, finished_at=timezone.now()
            )
        return ids
    except (InvalidInput, Forbidden) as exc:
        messages = [str(m) for problems in (exc.errors or {}).values() for m in problems] or [str(exc.detail)]
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportJob.Status.FAILED, finished_at=timezone.now(),
            errors=[{"row": 0, "field": "file", "message": m} for m in messages],
        )
        raise
    except Exception as exc:  # never left "importing": the job ends failed with its reason, nothing written
        logger.exception("import job %s: the commit failed", job.pk)
        message = _failure_message(exc)
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportJob.Status.FAILED, finished_at=timezone.now(),
            errors=[{"row": 0, "field": "file", "message": message}],
        )
        raise InvalidInput(message, errors={"file": [message]}) from exc
