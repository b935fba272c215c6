"""Writes of the notification system (keyword-only, transactional).

Reliability (the outbox pattern):

* :func:`notify` writes the in-app rows and one :class:`EmailOutbox` row per
  e-mail *in the caller's transaction* — a transition, an issue, a check — so a
  cause and its notifications commit or roll back together.
* Only the *sending* is queued, after commit (:func:`queue_sending`). A broker
  that is down loses nothing: the rows stay ``pending`` and the beat task
  ``deliver_pending`` (:func:`deliver_pending`) sends them when the worker runs.
* :func:`send_outbox` locks the row and checks its status before sending, so a
  retried or duplicated task never sends the same e-mail twice; failures are
  counted, kept in ``last_error`` and retried with backoff by the task, and after
  ``NOTIFICATIONS_MAX_ATTEMPTS`` the row is ``failed`` (visible and retryable in admin).
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import datetime
import json
import logging
from functools import cache

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Q
from django.template.loader import get_template, render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from notifications import messages
from notifications.models import Channel, EmailOutbox, LanguagePreference, Notification, NotificationPreference
from orderdesk import roles
from orderdesk.errors import Forbidden, InvalidInput

logger = logging.getLogger(__name__)
Kind = Notification.Kind


# Without a preference row every kind is shown in the app, and these are also e-mailed:
# what needs someone to act, and every alert of the scheduled checks.
DEFAULT_EMAIL_KINDS = frozenset(
    {
        Kind.REVIEW_REQUESTED, Kind.SIGNOFF_REQUESTED, Kind.ORDER_RETURNED, Kind.ORDER_APPROVED,
        Kind.DELIVERY_REJECTED, Kind.ISSUE_OPENED, Kind.ORDER_OVERDUE, Kind.ORDER_AT_RISK, Kind.ORDER_STALE,
        Kind.PAYMENT_OVERDUE, Kind.REVIEW_WAITING, Kind.ALERT_ESCALATED, Kind.COMPLAINT,
        Kind.ESCALATION, Kind.LOW_SURVEY_SCORE, Kind.READY_TO_SHIP, Kind.MILESTONE_DUE, Kind.ORDER_REASSIGNED,
    }
)

# Customer e-mails (R4.4, R5.3): event → template under notifications/email/.
CUSTOMER_EVENTS = ("confirmed", "scheduled", "delayed", "quality", "shipped", "delivered", "survey", "survey_reminder",
                   "complaint_resolved", "promise_revised", "invoiced")

# Attachments of outbox e-mails, by the row's kind: ``provider(row) -> [(filename, content, mimetype)]``.
# Registered by the app that owns the documents (finance's PDFs, from its AppConfig.ready()); rendered when
# the worker sends the e-mail, never stored in the outbox row.
ATTACHMENTS: dict[str, list] = {}


def register_attachment(kind: str, provider) -> None:
    if provider not in ATTACHMENTS.setdefault(kind, []):
        ATTACHMENTS[kind].append(provider)


def attachments_for(row) -> list[tuple[str, bytes, str]]:
    """The row's attachments, rendered now; a document that cannot be rendered is logged and left out (the
    e-mail itself still goes)."""
    found = []
    for provider in ATTACHMENTS.get(row.kind, ()):
        try:
            found.extend(provider(row) or ())
        except Exception:  # noqa: BLE001 - a broken document must not hold the customer's e-mail back
            logger.exception("could not render an attachment of outbox e-mail %s", row.pk)
    return found


# --- preferences ---------------------------------------------------------------------------------
def default_enabled(kind: str, channel: str) -> bool:
    return channel == Channel.IN_APP or kind in DEFAULT_EMAIL_KINDS


def preference_table(user) -> list[dict]:
    """Every kind with the user's effective choice per channel (for the preferences page)."""
    stored = {
        (p.kind, p.channel): p.enabled for p in NotificationPreference.objects.filter(user=user)
    }
    return [
        {
            "kind": value,
            "label": label,
            "in_app": stored.get((value, Channel.IN_APP), default_enabled(value, Channel.IN_APP)),
            "email": stored.get((value, Channel.EMAIL), default_enabled(value, Channel.EMAIL)),
        }
        for value, label in Kind.choices
    ]


@transaction.atomic
def save_preferences(*, user, enabled: set[tuple[str, str]]) -> int:
    """Store the user's choices: ``enabled`` holds the (kind, channel) pairs switched on; returns rows written."""
    if not user.is_authenticated:
        raise Forbidden()
    valid_kinds, valid_channels = set(Kind.values), set(Channel.values)
    unknown = [pair for pair in enabled if pair[0] not in valid_kinds or pair[1] not in valid_channels]
    if unknown:
        raise InvalidInput(_("Unknown notification kind or channel."), code="invalid_preference")
    written = 0
    for kind in Kind.values:
        for channel in Channel.values:
            NotificationPreference.objects.update_or_create(
                user=user, kind=kind, channel=channel, defaults={"enabled": (kind, channel) in enabled}
            )
            written += 1
    return written


def _choices_and_languages(user_ids, kind: str) -> tuple[dict[tuple[int, str], bool], dict[int, str]]:
    """The users' choices for `kind` ((user id, channel) → enabled) and their chosen languages, in one query
    (a union of the two tables; a prepared read, orderdesk.prepared)."""
    chosen, spoken = {}, {}
    for user_id, value, enabled, which in _preferences_query().fetch(users=list(user_ids), kind=kind):
        if which == "c":
            chosen[(user_id, value)] = enabled
        else:
            spoken[user_id] = value
    return chosen, spoken


def recipients(*, kind: str, roles=(), owner=None) -> list:
    """The active holders of any of `roles`, and `owner` (a user, when given and active), each with their choices
    for `kind` and their language read in the same prepared query (kept on the user for :func:`notify_many`,
    which then asks nothing more): the recipients of one notice of a transition in one round trip."""
    shape = (tuple(sorted(set(roles))), owner is not None)
    users = _recipients_query().fetch(shape, kind=kind, owner=owner.pk if owner is not None else 0)
    for user in users:
        user._notice_choices = (kind, {Channel.IN_APP: user.choice_in_app, Channel.EMAIL: user.choice_email},
                                user.chosen_language)
    return users


def _recipients(shape, *, kind, owner):
    from django.contrib.auth import get_user_model
    from django.db.models import OuterRef, Subquery

    role_names, with_owner = shape
    User = get_user_model()
    who = Q(pk__in=User.groups.through.objects.filter(group__name__in=role_names).values("user_id"))
    if with_owner:
        who |= Q(pk=owner)

    def choice(channel):
        return Subquery(NotificationPreference.objects.filter(user=OuterRef("pk"), kind=kind, channel=channel)
                        .values("enabled")[:1])

    return User.objects.filter(who, is_active=True).annotate(
        choice_in_app=choice(Channel.IN_APP), choice_email=choice(Channel.EMAIL),
        chosen_language=Subquery(LanguagePreference.objects.filter(user=OuterRef("pk")).values("language")[:1]),
    ).order_by("pk")


@cache
def _recipients_query():
    from django.contrib.auth import get_user_model

    from orderdesk.prepared import PreparedQuery

    return PreparedQuery("notice recipients with their choices", _recipients, params={
        "kind": NotificationPreference._meta.get_field("kind"), "owner": get_user_model()._meta.pk,
    }, optional=("owner",))


def _preferences(shape, *, users, kind):
    from django.db.models import BooleanField, CharField, Value

    tag = CharField(max_length=1)
    choices = NotificationPreference.objects.filter(user__in=users, kind=kind).annotate(
        tag=Value("c", output_field=tag)).values_list("user_id", "channel", "enabled", "tag")
    languages = LanguagePreference.objects.filter(user__in=users).annotate(
        on=Value(True, output_field=BooleanField()), tag=Value("l", output_field=tag)
    ).values_list("user_id", "language", "on", "tag")
    return choices.order_by().union(languages.order_by(), all=True)


@cache
def _preferences_query():
    from orderdesk.prepared import Many, PreparedQuery

    return PreparedQuery("notification choices and languages", _preferences, params={
        "users": Many(NotificationPreference._meta.get_field("user")),
        "kind": NotificationPreference._meta.get_field("kind"),
    })


# --- writing (inside the cause's transaction) --------------------------------------------------------
def site_url(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


# Context an app adds to a customer e-mail (event → callable(order) → dict), registered in the
# app's ``ready()``: feedback adds the survey link. notifications imports no app that sends
# notifications, so the apps have no import cycle.
CUSTOMER_CONTEXT: dict[str, list] = {}


def register_customer_context(event: str, provider) -> None:
    if provider not in CUSTOMER_CONTEXT.setdefault(event, []):
        CUSTOMER_CONTEXT[event].append(provider)


def _render(template: str, context: dict, language: str) -> tuple[str, str]:
    """Render an e-mail template in `language`: its first line is the subject, the rest the body."""
    with translation.override(language):
        text = render_to_string(f"notifications/email/{template}.txt", context)
    return _subject_and_body(text)


def _subject_and_body(text: str) -> tuple[str, str]:
    subject, _sep, body = text.strip().partition("\n")
    return " ".join(subject.split())[:255], body.strip() + "\n"


class _Probe:
    """A stand-in for the user or order of a staff e-mail while its skeleton is rendered: it answers only the
    attributes the skeleton may fill in later and records any other the template asks for."""

    def __init__(self, asked: set, **values):
        self.__dict__["_asked"], self.__dict__["_values"] = asked, values

    def __getattr__(self, name):
        values = self.__dict__["_values"]
        if name in values:
            return values[name]
        self.__dict__["_asked"].add(name)
        raise AttributeError(name)

    def __bool__(self):
        return True


class _StaffMails:
    """The staff e-mails of :func:`notify_many`, rendered once per language and kind (per process) and filled in.

    The template (``notifications/email/staff.txt``) is rendered once with marker values for the reader's
    name, the message, the order number and link; each e-mail replaces the markers. The shortcut is taken
    only when it is exact: the template asked for nothing else of the user or order, and the first e-mail
    rendered both ways came out the same; otherwise every e-mail is rendered in full."""

    MARKS = {"name": "\x01N\x01", "message": "\x01M\x01", "number": "\x01O\x01", "url": "\x01U\x01"}
    TEMPLATE = "notifications/email/staff.txt"

    def __init__(self, preferences_url: str):
        self.preferences_url = preferences_url
        # Kept on the loaded template (the engine's cached loader hands out the same one while the file is
        # unchanged; a reloaded template is another object, with no skeletons): checked once per process, not
        # rendered twice at every transition's notice.
        self.template = get_template(self.TEMPLATE)
        loaded = getattr(self.template, "template", self.template)
        self.skeletons: dict[tuple, str | None] = loaded.__dict__.setdefault("_orderdesk_skeletons", {})

    def render(self, *, user, order, message: str, kind_label: str, order_url: str, language: str):
        context = {"user": user, "message": message, "order": order, "kind_label": kind_label,
                   "order_url": order_url, "preferences_url": self.preferences_url}
        key = (language, kind_label, order is not None, bool(order_url), self.preferences_url)
        if key not in self.skeletons:
            full = self._full(context, language)
            skeleton = self._skeleton(key, language, kind_label)
            same = skeleton is not None and _subject_and_body(self._fill(skeleton, user, order, message, order_url)) == full
            self.skeletons[key] = skeleton if same else None
            return full
        skeleton = self.skeletons[key]
        if skeleton is None:
            return self._full(context, language)
        return _subject_and_body(self._fill(skeleton, user, order, message, order_url))

    def _full(self, context: dict, language: str) -> tuple[str, str]:
        with translation.override(language):
            return _subject_and_body(self.template.render(context))

    def _skeleton(self, key, language, kind_label) -> str | None:
        _language, _label, has_order, has_url, _preferences_url = key
        marks, asked = self.MARKS, set()
        user = _Probe(asked, get_full_name=lambda: marks["name"], username=marks["name"])
        order = _Probe(asked, number=marks["number"]) if has_order else None
        with translation.override(language):
            text = self.template.render({
                "user": user, "message": marks["message"], "order": order, "kind_label": kind_label,
                "order_url": marks["url"] if has_url else "", "preferences_url": self.preferences_url,
            })
        return None if asked else text

    def _fill(self, skeleton: str, user, order, message: str, order_url: str) -> str:
        marks = self.MARKS
        return (skeleton.replace(marks["name"], user.get_full_name() or user.username)
                .replace(marks["message"], message)
                .replace(marks["number"], str(order.number) if order is not None else "")
                .replace(marks["url"], order_url))


def user_language(user) -> str:
    """The language `user` reads e-mails in: the stored preference, else the site's language."""
    pref = LanguagePreference.objects.filter(user=user).values_list("language", flat=True).first()
    return pref or settings.LANGUAGE_CODE


@transaction.atomic
def set_language(*, user, language: str) -> None:
    """Store the language the user chose on the site (the language switch calls this)."""
    if not getattr(user, "is_authenticated", False):
        return
    if language not in dict(settings.LANGUAGES):
        raise InvalidInput(_("Unknown language."), code="invalid_language")
    LanguagePreference.objects.update_or_create(user=user, defaults={"language": language})


def restricted(value, field_class: str) -> dict:
    """A parameter only readers who may see `field_class` (DESIGN §5) get; others get a dash."""
    return {"restricted": field_class, "value": value}


def _params_for(user, params: dict) -> dict:
    hidden = None
    out = {}
    for key, value in params.items():
        if isinstance(value, dict) and "restricted" in value:
            hidden = roles.hidden_classes(user) if hidden is None else hidden
            value = "—" if value["restricted"] in hidden else value["value"]
        out[key] = value
    return out


def notify(*, kind: str, order, users, dedupe: str, message_id: str = "", params: dict | None = None,
           actor=None, fresh: bool = False) -> int:
    """The one sender: tell `users` (never the actor) about `order`, in the app and by e-mail, per
    each user's preferences. Runs inside the caller's transaction; the sending is queued after commit.

    The text is `message_id` (default: the kind) with `params` (:mod:`notifications.messages`),
    rendered for each reader in their language; ``number`` and ``actor`` are filled in. A parameter
    wrapped with :func:`restricted` reaches only readers allowed to see its field class.
    Idempotent per `dedupe`: returns how many in-app notifications were new. ``fresh``: the caller has just
    made the cause the key names (a transition's new state-log record), so no row can hold it yet and the
    lookup of rows already written is skipped (a conflict would still be ignored)."""
    return notify_many(kind=kind, fresh=fresh, items=[
        {"order": order, "users": users, "dedupe": dedupe, "message_id": message_id, "params": params,
         "actor": actor},
    ])


def notify_many(*, kind: str, items: list[dict], fresh: bool = False) -> int:
    """:func:`notify` for many orders at once (each item: ``order``, ``users``, ``dedupe`` and optionally
    ``message_id``, ``params``, ``actor``, the arguments of :func:`notify`), set-based: one query for the recipients' preferences, one for
    their languages, one for the notifications already written, one insert of the new ones and one of the
    e-mails, whatever the number of items (a scheduled check firing thousands of alerts). Each item is told
    exactly as :func:`notify` would tell it: same preferences, same texts in each reader's language, same
    dedupe keys. Returns how many in-app notifications were new."""
    kind = str(kind)
    prepared = []
    for item in items:
        actor = item.get("actor")
        recipients = [
            u for u in {u.pk: u for u in item["users"] if u is not None}.values()
            if u.is_active and (actor is None or u.pk != actor.pk)
        ]
        if not recipients:
            continue
        message_id = str(item.get("message_id") or kind)
        if message_id not in messages.MESSAGES:
            raise ValueError(f"unknown message id {message_id!r}")
        order = item["order"]
        base = {
            "number": order.number if order is not None else "",
            "actor": (actor.get_full_name() or actor.get_username()) if actor is not None else "",
            **(item.get("params") or {}),
        }
        prepared.append((order, recipients, item["dedupe"], message_id, base))
    if not prepared:
        return 0
    everyone = {u.pk: u for _order, recipients, *_rest in prepared for u in recipients}
    known = [u for u in everyone.values() if getattr(u, "_notice_choices", (None,))[0] == kind]
    if len(known) == len(everyone):  # read with the recipients (:func:`recipients`): nothing more to ask
        choices = {(u.pk, channel): enabled for u in known for channel, enabled in u._notice_choices[1].items()
                   if enabled is not None}
        languages = {u.pk: u._notice_choices[2] for u in known if u._notice_choices[2]}
    else:
        choices, languages = _choices_and_languages(list(everyone), kind)

    def wants(user, channel):
        return choices.get((user.pk, channel), default_enabled(kind, channel))

    rows: dict[str, Notification] = {}
    mails: list[EmailOutbox] = []
    staff_mails = _StaffMails(site_url(reverse("notifications:preferences")))
    kind_labels: dict[str, str] = {}
    for order, recipients, dedupe, message_id, base in prepared:
        texts: dict[tuple, tuple[dict, str]] = {}  # readers who see the same parameters read the same text

        def text_for(user, language, message_id=message_id, base=base, texts=texts):
            own = _params_for(user, base)
            key = (language, json.dumps(own, sort_keys=True, default=str))
            if key not in texts:
                with translation.override(language):
                    texts[key] = (own, messages.render(message_id, own))
            return texts[key]

        order_url = site_url(order.get_absolute_url()) if order is not None else ""
        for u in recipients:
            if not wants(u, Channel.IN_APP):
                continue
            own, stored = text_for(u, settings.LANGUAGE_CODE)
            key = f"{dedupe}:{kind}:{u.pk}"
            rows[key] = Notification(
                user=u, kind=kind, order=order, message=stored, message_id=message_id, params=own, dedupe_key=key
            )
        for user in recipients:
            if not (user.email and wants(user, Channel.EMAIL)):
                continue
            language = languages.get(user.pk) or settings.LANGUAGE_CODE
            _own, text = text_for(user, language)
            if language not in kind_labels:
                with translation.override(language):
                    kind_labels[language] = str(Kind(kind).label)
            subject, body = staff_mails.render(user=user, order=order, message=text, kind_label=kind_labels[language],
                                               order_url=order_url, language=language)
            mails.append(
                EmailOutbox(
                    recipient=user.email, subject=subject, body=body, language=language, kind=kind, order=order,
                    user=user, dedupe_key=f"{dedupe}:{kind}:{user.pk}:email",
                )
            )
    keys = [] if fresh else list(rows)
    existing: set[str] = set()
    for start in range(0, len(keys), 5000):
        existing |= set(Notification.objects.filter(dedupe_key__in=keys[start:start + 5000])
                        .values_list("dedupe_key", flat=True))
    new = [n for key, n in rows.items() if key not in existing]
    batch = _OUTBOX_BATCH.get()
    if batch is not None:  # written with the rest of the batch (outbox_batch)
        batch.notifications += new
        batch.mails += mails
    else:
        _insert_notifications().save_all(new)  # ON CONFLICT DO NOTHING: a key written meanwhile is not written twice
        _write_outbox(mails)
    return len(rows) - len(existing)


@dataclasses.dataclass
class _Batch:
    notifications: list = dataclasses.field(default_factory=list)
    mails: list = dataclasses.field(default_factory=list)


_OUTBOX_BATCH: contextvars.ContextVar[_Batch | None] = contextvars.ContextVar("outbox_batch", default=None)


@contextlib.contextmanager
def outbox_batch():
    """Inside, :func:`notify`, :func:`notify_many` and :func:`notify_customer` keep the rows they would write, and
    at the end they are written in one insert of notifications and one of e-mails (a transition's notices to
    staff and its e-mail to the customer: issue 14). The texts, keys and answers are the same; only
    :func:`notify_customer` returns its e-mail unsaved (its key comes at the end). Nothing is written if the
    block raises (the caller's transaction rolls back anyway)."""
    if _OUTBOX_BATCH.get() is not None:  # already batching: the outer block writes
        yield
        return
    batch = _Batch()
    token = _OUTBOX_BATCH.set(batch)
    try:
        yield
    finally:
        _OUTBOX_BATCH.reset(token)
    _insert_notifications().save_all(batch.notifications)
    _write_outbox(batch.mails)


@cache
def _insert_notifications():
    """The in-app rows' insert, its statement written once (orderdesk.prepared; thousands: ``bulk_create``)."""
    from orderdesk.prepared import PreparedBulkInsert

    return PreparedBulkInsert("notifications", Notification, ignore_conflicts="dedupe_key")


@cache
def _insert_mails():
    """The outbox rows' insert, returning the keys of those written (orderdesk.prepared)."""
    from orderdesk.prepared import PreparedBulkInsert

    return PreparedBulkInsert("e-mails", EmailOutbox, ignore_conflicts="dedupe_key")


def notify_customer(*, order, event: str, dedupe: str, context: dict | None = None) -> EmailOutbox | None:
    """Write the customer's e-mail for `event` in the customer's language (inside the caller's transaction)."""
    if event not in CUSTOMER_EVENTS:
        raise ValueError(event)
    customer = order.customer
    if not customer.email:
        return None
    language = customer.language or settings.LANGUAGE_CODE
    shipment = order.shipments.order_by("-created_at", "-id").first() if event == "shipped" else None
    subject, body = _render(
        f"customer_{event}",
        {
            "order": order, "customer": customer, "tracking_url": order.tracking_url,
            "shipment": shipment,
            **{k: v for provider in CUSTOMER_CONTEXT.get(event, ()) for k, v in provider(order).items()},
            **(context or {}),
        },
        language,
    )
    mail = EmailOutbox(
        recipient=customer.email, subject=subject, body=body, language=language, kind=f"customer_{event}",
        order=order, dedupe_key=f"{dedupe}:customer:{event}",
    )
    batch = _OUTBOX_BATCH.get()
    if batch is not None:  # written at the end of the batch (outbox_batch)
        batch.mails.append(mail)
        return mail
    rows = _write_outbox([mail])
    return rows[0] if rows else None


def _write_outbox(mails: list[EmailOutbox]) -> list[EmailOutbox]:
    if not mails:
        return []
    # The rows written come back with their keys (PostgreSQL, up to MAX_PREPARED_ROWS: one statement); a row
    # already there (a retried event) is queued again while it is pending, so its key is read.
    rows = _insert_mails().save_all(mails)
    keys = [m.dedupe_key for m in mails if m.pk is None]
    for start in range(0, len(keys), 5000):
        rows += list(EmailOutbox.objects.filter(dedupe_key__in=keys[start:start + 5000],
                                                status=EmailOutbox.Status.PENDING))
    queue_sending([row.pk for row in rows])
    return rows


# --- sending (after commit, on the worker) ---------------------------------------------------------------
_HOLD_SENDING = contextvars.ContextVar("hold_sending", default=False)


@contextlib.contextmanager
def sending_held():
    """Write outbox rows but queue nothing while inside (the benchmark: its e-mails are never sent)."""
    token = _HOLD_SENDING.set(True)
    try:
        yield
    finally:
        _HOLD_SENDING.reset(token)


def queue_sending(ids: list[int]) -> None:
    """After the current transaction commits, queue one send task per outbox row; a broker that
    is down is logged, not raised — the rows stay pending and :func:`deliver_pending` sends them."""
    if not ids or _HOLD_SENDING.get():
        return

    def send():
        from notifications import tasks

        unqueued, error = [], None
        for pk in ids:
            try:
                tasks.send_email.delay(pk)
            except Exception as exc:  # noqa: BLE001 - any broker error: the sweep delivers it later
                logger.warning("could not queue e-mail %s; the pending sweep will send it", pk, exc_info=True)
                unqueued.append(pk)
                error = exc
        if unqueued:
            # Marked so that the next sweep takes them at once, not after its grace period:
            # after a broker outage every e-mail goes out within one sweep interval (issue 9).
            EmailOutbox.objects.filter(pk__in=unqueued, status=EmailOutbox.Status.PENDING).update(
                last_error=f"{UNQUEUED_PREFIX}{type(error).__name__}: {error}"[:2000]
            )

    transaction.on_commit(send)


# last_error of a row whose send task could not be queued (the broker was down)
UNQUEUED_PREFIX = "not queued: "


class DeliveryFailed(Exception):
    """Sending one outbox e-mail failed (the task retries it with backoff)."""


def send_outbox(*, outbox_id: int) -> str:
    """Send one outbox e-mail at most once: lock the row, skip it when already sent, record the outcome.

    Returns ``sent``, ``already_sent`` or ``missing``; raises :class:`DeliveryFailed` when sending failed."""
    failure = None
    with transaction.atomic():
        row = EmailOutbox.objects.select_for_update().filter(pk=outbox_id).first()
        if row is None:
            return "missing"
        if row.status == EmailOutbox.Status.SENT:
            return "already_sent"
        row.attempts += 1
        try:
            EmailMessage(
                subject=row.subject, body=row.body, from_email=settings.DEFAULT_FROM_EMAIL, to=[row.recipient],
                headers={"X-OrderDesk-Outbox": str(row.pk)}, attachments=attachments_for(row),
            ).send()
        except Exception as exc:  # noqa: BLE001 - any transport error is recorded and retried
            row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            row.status = (
                EmailOutbox.Status.FAILED if row.attempts >= settings.NOTIFICATIONS_MAX_ATTEMPTS
                else EmailOutbox.Status.PENDING
            )
            failure = exc
        else:
            row.status, row.sent_at, row.last_error = EmailOutbox.Status.SENT, timezone.now(), ""
        row.save(update_fields=["attempts", "status", "sent_at", "last_error"])
    if failure is not None:
        raise DeliveryFailed(f"outbox {outbox_id}: {row.last_error}") from failure
    return "sent"


def deliver_pending(*, limit: int | None = None, grace_seconds: int | None = None) -> int:
    """The sweep: send pending e-mails older than the grace period (their task was lost, e.g. a
    broker restarted without persistence) and, whatever their age, those whose task could not be
    queued at all (``last_error`` set: the broker was down at commit, or sending failed before).
    Returns how many were sent."""
    limit = limit or settings.NOTIFICATIONS_SWEEP_BATCH
    grace = settings.NOTIFICATIONS_SWEEP_GRACE_SECONDS if grace_seconds is None else grace_seconds
    cutoff = timezone.now() - datetime.timedelta(seconds=grace)
    ids = list(
        EmailOutbox.objects.filter(status=EmailOutbox.Status.PENDING)
        .filter(Q(created_at__lte=cutoff) | ~Q(last_error=""))
        .order_by("created_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    sent = 0
    for pk in ids:
        try:
            sent += send_outbox(outbox_id=pk) == "sent"
        except DeliveryFailed:
            logger.warning("e-mail %s failed again; it stays in the outbox", pk)
    return sent


@transaction.atomic
def retry_outbox(*, ids) -> int:
    """Admin action: put failed (or pending) e-mails back in the queue with a fresh attempt budget."""
    rows = list(EmailOutbox.objects.select_for_update().filter(pk__in=list(ids)).exclude(status=EmailOutbox.Status.SENT))
    for row in rows:
        row.status, row.attempts = EmailOutbox.Status.PENDING, 0
        row.save(update_fields=["status", "attempts"])
    queue_sending([row.pk for row in rows])
    return len(rows)


# --- reading -------------------------------------------------------------------------------------------
@transaction.atomic
def mark_read(*, user, ids: list[int] | None = None) -> int:
    """Mark the user's unread notifications read (only those in ``ids`` if given); returns how many."""
    if not user.is_authenticated or roles.is_read_only(user):
        raise Forbidden()
    unread = Notification.objects.filter(user=user, read=False)
    if ids is not None:
        unread = unread.filter(pk__in=ids)
    return unread.update(read=True)
