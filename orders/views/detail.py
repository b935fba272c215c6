"""The order page (`/orders/<id>/`): the order, its timeline, the caller's transition buttons, the assistant's
desk and the panels the departments register (:mod:`orders.panels`); the transition POST; and the helpers the
departments' POST views use (:func:`department_write`)."""

from __future__ import annotations

from django import forms as django_forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist
from django.db.models import F
from django.http import Http404, HttpResponseRedirect, QueryDict
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_fsm_log.models import StateLog

from orderdesk import roles
from orderdesk.errors import ConditionsUnmet, Conflict, Forbidden, NotFound, ServiceError
from orderdesk.pages import who
from orders import lifecycle, panels, selectors, services
from orders.forms import (
    page_transition_form,
    transition_form_class,
)
from orders.models import Order, State


def _field_label(name: str) -> str:
    if name == "lines":
        return _("lines")
    if name == "reassignment_reason":
        return _("reason for the reassignment")
    try:
        return str(Order._meta.get_field(name).verbose_name)
    except FieldDoesNotExist:
        return name


def _timeline(order: Order, user) -> list[dict]:
    """Transitions (django-fsm-log) and field changes of the order, oldest first."""
    hidden_changes = roles.hidden_history_fields(user)
    override = bool(order.credit_override_reason)
    states = dict(State.choices)
    entries = []
    logs = StateLog.objects.filter(
        content_type=ContentType.objects.get_for_model(Order), object_id=order.pk
    ).select_related("by") if panels.has_rows(order, "state_log") else ()
    for log in logs:
        # review comments are internal; an approval's comment may carry the credit override reason
        comment = roles.transition_comment_for(user, log.transition, log.description, credit_override=override)
        entries.append(
            {
                "kind": "transition",
                "at": log.timestamp,
                "who": who(log.by),
                "name": log.transition,
                "label": lifecycle.label(log.transition),
                "source": states.get(log.source_state, log.source_state),
                "target": states.get(log.state, log.state),
                "comment": comment,
                "key": (log.timestamp, 0, log.pk),
            }
        )
    # a revised promise carries its reason (R5.3)
    changes = order.changes.select_related("user").annotate(reason=F("promise__reason")) \
        if panels.has_rows(order, "changes") else ()
    for change in changes:
        hidden = change.field in hidden_changes
        entries.append(
            {
                "kind": "change",
                "at": change.at,
                "who": who(change.user),
                "field": _field_label(change.field),
                "old": "" if hidden else change.old_value,
                "new": "" if hidden else change.new_value,
                "hidden": hidden,
                "reason": change.reason or "",
                "key": (change.at, 1, change.pk),
            }
        )
    _timeline_extras(order, user, entries)
    entries.sort(key=lambda e: e["key"])
    return entries


#: The order's records the page shows in more than one place (timeline, desk, page), read once per page.
_PAGE_READS = {
    "communications": lambda order: order.communications.select_related("recorded_by"),
    "clarifications": lambda order: order.clarifications.select_related("raised_by"),
    "escalations": lambda order: order.escalations.select_related("raised_by", "resolved_by"),
}


def _read(order: Order, name: str) -> list:
    """``order.<name>`` as the page lists it, read once per page and only when the order has any
    (:func:`orders.panels.has_rows`). Kept as the order's prefetched relation, so that what else reads it for the
    page (the assistant's check asks for open clarifications) reads the same rows, not the database again."""
    cache = order.__dict__.setdefault("_prefetched_objects_cache", {})
    if name not in cache:
        rows = _PAGE_READS[name](order) if panels.has_rows(order, name) else getattr(order, name).none()
        rows._fetch_all()
        cache[name] = rows
    return list(cache[name])


def _sees_records(user) -> dict[str, bool]:
    return roles.page_visibility(user)["sees"]


def visibility_context(user) -> dict:
    """What the order pages may show the user (orderdesk.roles.page_visibility). Templates read only this."""
    return roles.page_visibility(user)


def _timeline_extras(order: Order, user, entries: list) -> None:
    """Communications, clarifications, escalations and the caller's notifications about the order (each a
    fixed number of queries), as far as the caller may see them; the departments' entries (progress reports,
    shipment events) come from their panels (:func:`orders.panels.timeline_entries`)."""
    sees = _sees_records(user)
    entries.extend(panels.timeline_entries(order=order, user=user))
    if sees["communications"]:
        for comm in _read(order, "communications"):
            entries.append({"kind": "communication", "at": comm.at, "who": who(comm.recorded_by),
                            "channel": comm.get_channel_display(), "with_whom": comm.with_whom,
                            "summary": comm.summary, "key": (comm.at, 4, comm.pk)})
    if sees["clarifications"]:
        for clar in _read(order, "clarifications"):
            entries.append({"kind": "clarification", "at": clar.raised_at, "who": who(clar.raised_by),
                            "question": clar.question, "resolution": clar.resolution,
                            "resolved_at": clar.resolved_at, "key": (clar.raised_at, 5, clar.pk)})
    if sees["escalations"]:
        for esc in _read(order, "escalations"):
            entries.append({"kind": "escalation", "at": esc.raised_at, "who": who(esc.raised_by),
                            "reason": esc.reason, "resolution": esc.resolution,
                            "resolved_by": who(esc.resolved_by) if esc.resolved_by_id else "",
                            "resolved_at": esc.resolved_at, "key": (esc.raised_at, 6, esc.pk)})
    notes = order.notifications.filter(user=user) if panels.has_rows(order, "notifications") else ()
    for note in notes:
        entries.append({"kind": "notification", "at": note.created_at, "who": "", "message": note.text,
                        "label": note.get_kind_display(), "key": (note.created_at, 7, note.pk)})


def _transition_buttons(order: Order, user, *, failed: str | None = None, posted=None) -> list[dict]:
    from orders.models import TRANSITION_METHODS

    buttons = []
    for item in services.available_transitions(user=user, order=order):
        if not item["allowed"]:
            continue
        name = item["name"]
        spec = getattr(order, TRANSITION_METHODS[name])._django_fsm.get_transition(order.state)
        if any(cond.conflict and not cond(order) for cond in spec.conditions):
            continue  # pressing it could only answer 409 (a submitted order's "submit")
        entry = lifecycle.TRANSITIONS[name]
        form = page_transition_form(name, data=posted if name == failed else None)
        form.initial.update(lifecycle.initial(name, order))
        buttons.append(
            {
                "name": name,
                "label": lifecycle.label(name),
                # shown only where the state changes (submit and return keep it)
                "target": dict(State.choices).get(item["target"], "") if item["target"] != order.state else "",
                "form": form,
                "extra_fields": [f for f in form if f.name not in entry.page_hidden and f.name != "comment"],
                "multipart": any(f.field.widget.needs_multipart_form for f in form),
                "danger": entry.danger,
                "comment_required": entry.comment_required,
                "open": name == failed,
            }
        )
    return buttons


def _desk_context(order: Order, user, forms: dict) -> dict:
    """The assistant's check (R4.2), the communication log and escalations (R5.1) with their forms."""
    from orders.forms import ClarificationForm, CommunicationForm, EscalationForm, ResolutionForm

    sees = _sees_records(user)
    sales_side = sees["communications"]  # the assistant's check and the talks with the customer are internal
    may_clarify = roles.may(user, "clarification.manage", order)
    context = {
        "checklist": selectors.submit_checklist(order)
        if order.state == State.RECEIVED and not order.is_submitted and sales_side else [],
        "communications": _read(order, "communications") if sales_side else [],
        "escalations": _read(order, "escalations") if sees["escalations"] else [],
        "sales_side": sales_side,
        "may_edit": order.state == State.RECEIVED and roles.may(user, "order.edit", order),
        "may_withdraw": order.state == State.RECEIVED and order.is_submitted
        and roles.may(user, "order.withdraw", order),
        "may_communicate": roles.may(user, "communication.log", order),
        "may_clarify": may_clarify and order.state == State.RECEIVED,
        "may_resolve_clarification": may_clarify,
        "may_escalate": roles.may(user, "escalation.raise", order),
        "may_resolve_escalation": roles.may(user, "escalation.resolve", order),
        "communication_form": forms.get("communication") or CommunicationForm(),
        "clarification_form": forms.get("clarification") or ClarificationForm(),
        "escalation_form": forms.get("escalation") or EscalationForm(),
        "resolution_form": ResolutionForm(auto_id=False),
        "resolution_errors": forms.get("resolution_errors") or {},
    }
    if order.state not in (State.SETTLED, State.CANCELLED) and roles.may(user, "order.reassign", order):
        from orders.forms import ReassignForm

        context["reassign_form"] = forms.get("reassign") or ReassignForm(exclude=order.assistant_id)
    return context


def mark_superseded(signoffs: list) -> list:
    """Mark each joint-review objection a later approval of the same department replaced
    (``superseded_by``: that approval), so the panel greys it out instead of showing it beside the approval."""
    ordered = sorted(signoffs, key=lambda s: (s.created_at, s.pk))
    for index, signoff in enumerate(ordered):
        signoff.superseded_by = None
        if signoff.decision != "approve":
            signoff.superseded_by = next(
                (later for later in ordered[index + 1:]
                 if later.department == signoff.department and later.decision == "approve"), None)
    return signoffs


def detail_context(request, order: Order, *, failed: str | None = None, forms: dict | None = None,
                   posted=None) -> dict:
    """The order page: the order, its lines and timeline, the caller's transition buttons and desk, and the
    panels the departments registered (:mod:`orders.panels`), each with what its template reads."""
    user = request.user
    forms = forms or {}
    visibility = visibility_context(user)
    sees = visibility["sees"]
    signoffs = mark_superseded(list(order.signoffs.select_related("user")) if panels.has_rows(order, "signoffs")
                               else [])
    return {
        "order": order,
        "lines": list(order.lines.all()),
        **visibility,
        "timeline": _timeline(order, user),
        "signoffs": signoffs,
        "joint_review": order.requires_joint_review or bool(signoffs),
        "clarifications": _read(order, "clarifications") if sees["clarifications"] else [],
        **_desk_context(order, user, forms),
        "transitions": _transition_buttons(
            order, user, failed=failed, posted=(posted if posted is not None else request.POST) if failed else None),
        "read_only": roles.is_read_only(user),
        "may_issue_tracking_link": roles.may(user, "tracking_link.issue", order),
        "today": timezone.localdate(),
        **panels.page_context(order=order, user=user, forms=forms),
    }


def department_write(request, pk: int, *, key: str, check, bind, call):
    """Run a department's service (production, logistics, finance) from a form posted on the order page.

    ``check(order)`` → the department's rule for the action (raises Forbidden or Conflict; the same check
    its service runs and its panel asks, see :mod:`orderdesk.rules`); ``bind(order)`` → the bound forms by
    context key; ``call(order, forms)`` → the success message. An order outside the caller's scope is a
    404; a role that may not, 403; a state that does not allow it, 409; bad values, 400: each shows the
    order page again with the message and what was typed, and nothing is written.
    """
    user = request.user
    order = get_order(user, pk)
    forms = bind(order)
    try:
        check(order)
    except (Forbidden, Conflict) as exc:
        return _department_failure(request, order, key, forms, str(exc.detail), status=exc.status)
    valid = [form.is_valid() for form in forms.values()]  # validate every form, so every error shows at once
    if not all(valid):
        return _department_failure(request, order, key, forms,
                                   _("Please correct the errors below; nothing was saved."), status=400)
    try:
        message = call(order, forms)
    except NotFound:
        raise Http404 from None
    except ServiceError as exc:
        problems = []
        for field, items in (exc.errors or {}).items():
            for item in items:
                text = str(item.get("message", "") if isinstance(item, dict) else item)
                form = next((f for f in forms.values() if isinstance(f, django_forms.Form) and field in f.fields),
                            None)
                if form is not None:
                    form.add_error(field, text)
                else:
                    problems.append(text)
        return _department_failure(request, order, key, forms, str(exc.detail), problems=problems,
                                   status=exc.status)
    messages.success(request, message)
    return redirect(order)


def _department_failure(request, order, key, forms, detail, *, problems=(), status):
    context = detail_context(request, order, forms={**forms, "open": key})
    context["department_error"] = {"detail": detail, "problems": list(problems)}
    return render(request, "orders/order_detail.html", context, status=status)


#: the people the order page names beside the order's own row, read with it in one query (its payment terms,
#: rarer, are read when it has any: a join costs its planning on every page)
PAGE_RELATED = ("created_by", "approved_by")


def get_order(user, pk) -> Order:
    """The order as the order page shows it, or 404 when it is outside the user's scope
    (:func:`orders.selectors.order_detail_queryset`, the caller's visible orders)."""
    try:
        return selectors.order_detail_queryset(user).select_related(*PAGE_RELATED).get(pk=pk)
    except (Order.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404 from None


FAILURE_KEY = "transition_failure:{}"


class SeeOther(HttpResponseRedirect):
    status_code = 303


@login_required
def order_detail(request, pk: int):
    order = get_order(request.user, pk)
    # a failed transition redirected here (post/redirect/get): show its errors and what was typed, once
    failure = request.session.pop(FAILURE_KEY.format(order.pk), None)
    if failure:
        posted = QueryDict(mutable=True)
        for key, values in failure.get("posted", {}).items():
            posted.setlist(key, values)
        context = detail_context(request, order, failed=failure["name"], posted=posted)
        context["failure"] = failure
        return render(request, "orders/order_detail.html", context)
    return render(request, "orders/order_detail.html", detail_context(request, order))


def _problems(exc: ServiceError, name: str) -> list[str]:
    """Each problem of a failed transition as one readable line."""
    if isinstance(exc, ConditionsUnmet):
        return [str(item["message"]) for item in exc.unmet]
    form_fields = transition_form_class(name).base_fields
    problems = []
    for field, errors in (exc.errors or {}).items():
        label = str(form_fields[field].label) if field in form_fields else ""
        for error in errors:
            text = error.get("message", "") if isinstance(error, dict) else str(error)
            problems.append(_("%(field)s: %(error)s") % {"field": label, "error": text} if label else text)
    return problems or [str(exc.detail)]


@login_required
@require_POST
def order_transition(request, pk: int, name: str):
    try:
        order = services.run_transition(
            user=request.user,
            order_id=pk,
            name=name,
            comment=request.POST.get("comment", ""),
            data=request.POST.dict(),
            files=request.FILES,
        )
    except NotFound:
        raise Http404 from None
    except Forbidden as exc:
        return render(request, "403.html", {"exception": str(exc.detail)}, status=403)
    except ServiceError as exc:  # Conflict (409), ConditionsUnmet and InvalidInput (400)
        order = get_order(request.user, pk)
        # post/redirect/get: the order page shows the errors once, and a reload never posts again
        request.session[FAILURE_KEY.format(order.pk)] = {
            "name": name,
            "label": str(lifecycle.label(name)),
            "detail": str(exc.detail),
            "status": 409 if isinstance(exc, Conflict) else 400,
            "problems": [] if isinstance(exc, Conflict) else [str(p) for p in _problems(exc, name)],
            # what was typed, to fill the form again (files are not kept)
            "posted": {key: request.POST.getlist(key)[:5] for key in list(request.POST)[:30]
                       if key != "csrfmiddlewaretoken"},
        }
        return SeeOther(order.get_absolute_url())
    messages.success(request, lifecycle.done_message(name, order))
    return redirect(order)


@login_required
@require_POST
def withdraw_submission(request, pk: int):
    """The order's assistant takes back a submission the manager has not reviewed yet."""
    try:
        order = services.withdraw_submission(user=request.user, order_id=pk)
    except NotFound:
        raise Http404 from None
    except Forbidden as exc:
        return render(request, "403.html", {"exception": str(exc.detail)}, status=403)
    except Conflict as exc:
        messages.error(request, str(exc.detail))
        return SeeOther(get_order(request.user, pk).get_absolute_url())
    messages.success(request, _("The submission of %(number)s was withdrawn; the order is back on your desk.")
                     % {"number": order.number})
    return redirect(order)


@login_required
@require_POST
def reassign(request, pk: int):
    """A sales manager gives the order to another assistant (with a reason; both assistants are told)."""
    from orders.forms import ReassignForm

    order = get_order(request.user, pk)
    if not roles.may(request.user, "order.reassign", order):
        return render(request, "403.html", {"exception": _("Only a sales manager reassigns an order.")},
                      status=403)
    form = ReassignForm(request.POST, exclude=order.assistant_id)
    if form.is_valid():
        try:
            order = services.reassign_order(user=request.user, order_id=order.pk,
                                            assistant=form.cleaned_data["assistant"],
                                            reason=form.cleaned_data["reason"])
        except NotFound:
            raise Http404 from None
        except ServiceError as exc:
            for field, problems in (exc.errors or {}).items():
                for problem in problems:
                    form.add_error(field if field in form.fields else None, str(problem))
        else:
            messages.success(request, _("%(number)s now belongs to %(name)s.")
                             % {"number": order.number, "name": who(order.assistant)})
            return redirect(order)
    context = detail_context(request, order, forms={"reassign": form})
    context["desk_error"] = _("Please correct the errors below; nothing was saved.")
    return render(request, "orders/order_detail.html", context, status=400)
