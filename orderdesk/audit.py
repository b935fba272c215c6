"""The one append-only audit trail (R6.1): every write of every app calls :func:`record`.

Usage, inside the service's transaction (so the row commits or rolls back with the change)::

    from orderdesk import audit

    audit.record(kind="invoice", user=user, order=invoice.order_id, obj=invoice,
                 name="create", after=str(invoice.amount))

* ``kind`` — what happened, a short code (:data:`KINDS` lists those in use; a new one needs no
  registration, but add it there so that the auditor's filter offers it);
* ``user`` — who (None for the system or a customer through their link);
* ``order`` — the order (an instance or its id) the change belongs to, if any;
* ``obj`` — the object written (its ``app_label.Model`` and pk are kept), if any;
* ``name`` — the transition, field or action; ``before``/``after`` — the values (anything, kept as text);
  ``note`` — a comment or reason.

The caller's address comes from the request without a ``request`` argument: :class:`AuditAddressMiddleware`
puts it in a context variable for the request (:func:`request_address`), and :func:`address` overrides it in
code that runs outside a request. Reads: :mod:`supervision.selectors.audit`. The rows are never changed
or deleted (model, admin, and on PostgreSQL a trigger).
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import ipaddress

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

_ADDRESS: contextvars.ContextVar[str | None] = contextvars.ContextVar("orderdesk_audit_address", default=None)

#: kinds of trail rows (code → label), for the auditor's filter; apps may record others
KINDS: dict[str, object] = {
    "transition": _("Transition"),
    "change": _("Field change"),
    "signoff": _("Joint-review sign-off"),
    "invoice": _("Invoice"),
    "payment": _("Payment"),
    "credit_note": _("Credit note"),
    "payment_terms": _("Payment terms"),
    "receivable_followup": _("Receivable follow-up"),
    "shipment": _("Shipment"),
    "progress": _("Production progress"),
    "issue": _("Production issue"),
    "promise": _("Promise change"),
    "complaint": _("Complaint or suggestion"),
    "followup": _("Phone follow-up"),
    "receipt": _("Receipt confirmed by the customer"),
    "tracking_link": _("Tracking link"),
    "loss": _("Loss incident"),
    "check": _("Periodic check"),
}


def _clean_address(value) -> str | None:
    if not value:
        return None
    value = str(value).split(",")[0].strip()
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def request_address() -> str | None:
    """The current request's client address (None outside a request)."""
    return _ADDRESS.get()


@contextlib.contextmanager
def address(value):
    """Record under this address while inside (a task, a command, a test)."""
    token = _ADDRESS.set(_clean_address(value))
    try:
        yield
    finally:
        _ADDRESS.reset(token)


def _text(value) -> str:
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def record(*, kind: str, user=None, order=None, obj=None, name: str = "", before=None, after=None, note=None, at=None):
    """Append one row to the trail (see the module docstring) and return it."""
    return entry_write(kind=kind, user=user, order=order, obj=obj, name=name, before=before, after=after, note=note,
                       at=at).run()


def entry_write(*, kind: str, user=None, order=None, obj=None, name: str = "", before=None, after=None, note=None,
                at=None):
    """The row :func:`record` appends, ready to be written with others in one round trip
    (:func:`orderdesk.prepared.save_together`: a transition's record, update and entry)."""
    from orderdesk.models import AuditEntry

    order_id = getattr(order, "pk", order)
    return _insert().bind(AuditEntry(
        at=at or timezone.now(),
        user=user if getattr(user, "pk", None) else None,
        kind=str(kind)[:40],
        order_ref=int(order_id) if order_id is not None else None,
        object_type=obj._meta.label if obj is not None else "",
        object_id=str(obj.pk) if obj is not None and obj.pk is not None else "",
        name=str(name)[:100],
        before=_text(before),
        after=_text(after),
        note=_text(note),
        address=request_address(),
    ))


@functools.cache
def _insert():
    """The trail's one INSERT, written once (orderdesk.prepared: every transition and department write appends)."""
    from orderdesk.models import AuditEntry
    from orderdesk.prepared import PreparedInsert

    return PreparedInsert("audit entry", AuditEntry)


class AuditAddressMiddleware:
    """Keeps the client's address for :func:`record` during the request (``X-Forwarded-For``'s first hop
    only behind the proxy, like the lockout: ``USE_X_FORWARDED_PROTO``)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from django.conf import settings

        raw = request.META.get("REMOTE_ADDR")
        if getattr(settings, "AUDIT_TRUST_FORWARDED_FOR", False) and request.META.get("HTTP_X_FORWARDED_FOR"):
            raw = request.META["HTTP_X_FORWARDED_FOR"]
        token = _ADDRESS.set(_clean_address(raw))
        try:
            return self.get_response(request)
        finally:
            _ADDRESS.reset(token)
