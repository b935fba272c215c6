"""Orders from other channels from a CSV or Excel sheet (R4.1): the upload (:func:`create_import_job`), the
check of every row by a Celery task (:func:`validate_import`, progress on the job) and the import of every
order in one transaction through :func:`orders.services.create_order` (:func:`commit_import`): all or
nothing. Sheets are read with bounded size, rows and columns (bad input is a 400, never a 500)."""

from __future__ import annotations

import datetime
import logging
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from orderdesk import roles
from orderdesk.errors import Conflict, Forbidden, InvalidInput, NotFound
from orders.models import (
    Customer,
    Order,
    OrderLine,
    Product,
)
from orders.services import (
    MAX_AMOUNT,
    MAX_QUANTITY,
    MAX_UNIT_PRICE,
    ORDER_TEXT_FIELDS,
    create_order,
    enqueue,
    validate_order_values,
)

logger = logging.getLogger(__name__)

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
            validate_order_values(
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
