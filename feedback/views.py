"""Feedback's pages (R6.2): the customer's questionnaire (`/survey/<token>/`, no account, answered once), the
customer's side of the tracking page (`/track/<token>/complaint/` and `/track/<token>/receipt/`, no account:
the link is the authority), and the forms of the order page (`/orders/<id>/complaints/…`,
`/orders/<id>/followups/`, mounted in the `orders` URL namespace by the project's URLconf)."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from feedback import services
from feedback.forms import ComplaintForm, ComplaintHandleForm, FollowUpForm, ReceiptForm, TrackComplaintForm
from feedback.models import Complaint, ReceiptConfirmation, Survey
from orderdesk.audit import request_address
from orderdesk.errors import Conflict, InvalidInput, NotFound
from orders.views import track as tracking
from orders.views.desk import desk_write

SCORES = (5, 4, 3, 2, 1)


def survey_questions():
    """The questionnaire's questions (field name, label); ``score`` is the overall rating (required)."""
    return [
        ("quality", _("Product quality")),
        ("punctuality", _("Punctuality of the delivery")),
        ("communication", _("Communication with your sales assistant")),
        ("score", _("Overall, how satisfied are you?")),
    ]


@never_cache
@require_http_methods(["GET", "POST"])
def survey(request, token: str):
    try:
        item = services.survey_for_token(token)
    except NotFound:
        raise Http404 from None
    # The customer reads in their own language unless this visitor chose another one.
    language = item.order.customer.language
    if settings.LANGUAGE_COOKIE_NAME not in request.COOKIES and language in dict(settings.LANGUAGES):
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
    chosen = {name: request.POST.get(name, "") for name, _label in survey_questions()}
    context = {"survey": item, "order": item.order, "scores": SCORES, "errors": {}, "status": 200,
               "chosen": chosen}
    if request.method == "POST":
        try:
            item = services.answer_survey(
                token=token, score=request.POST.get("score"), comment=request.POST.get("comment", ""),
                answers_given={q: request.POST.get(q) for q in services.SURVEY_QUESTIONS},
            )
            context["survey"] = item
        except InvalidInput as exc:
            context.update(errors=exc.errors, status=400, comment=request.POST.get("comment", ""))
        except Conflict as exc:
            context.update(message=str(exc.detail), status=409)
    context["questions"] = [
        {"name": name, "label": label, "errors": context["errors"].get(name, []), "chosen": chosen[name],
         "required": name == "score"}
        for name, label in survey_questions()
    ]
    return render(request, "feedback/survey.html", context, status=context["status"])


# --- the customer's side of the tracking page -------------------------------------------------------
def track_context(order, request) -> dict:
    """The feedback section of the tracking page (``feedback/_track.html``): the customer's own complaints
    and suggestions with their outcome, the form to file one, and after shipment the receipt confirmation."""
    mine = list(Complaint.objects.filter(order=order, source=Complaint.Source.CUSTOMER).order_by("-created_at", "-id"))
    confirmation = ReceiptConfirmation.objects.filter(order=order).first()
    survey = Survey.objects.filter(order=order, answered_at__isnull=True).first()
    return {
        "complaints": mine,
        "complaint_form": TrackComplaintForm(auto_id="id_track_%s"),
        "confirmation": confirmation,
        "receipt_form": ReceiptForm(auto_id="id_receipt_%s") if order.state == "shipped" and not confirmation else None,
        "survey_url": reverse("survey", args=[services.survey_token(order)]) if survey else "",
        "filed": request.GET.get("filed") == "1",
        "confirmed": request.GET.get("confirmed") == "1",
    }


def _throttled(order, request) -> bool:
    """At most TRACK_COMPLAINTS_PER_HOUR complaints per link and per address, in the shared cache."""
    limit = settings.TRACK_COMPLAINTS_PER_HOUR
    keys = [f"track-complaint:order:{order.pk}", f"track-complaint:addr:{request_address() or '-'}"]
    for key in keys:
        cache.add(key, 0, timeout=3600)
    counts = []
    for key in keys:
        try:
            counts.append(cache.incr(key))
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=3600)
            counts.append(1)
    return max(counts) > limit


@never_cache
@require_POST
def track_complaint(request, token: str):
    order = tracking.tracked_order(request, token)
    form = TrackComplaintForm(request.POST, auto_id="id_track_%s")
    if _throttled(order, request):
        return tracking.track(request, token, status=429, extra={
            "complaint_error": _("We have received several messages from you in a short time. Please try again "
                                 "later, or call your sales assistant.")})
    if form.is_valid():
        try:
            services.file_customer_complaint(order_id=order.pk, kind=form.cleaned_data["kind"],
                                             description=form.cleaned_data["description"])
        except InvalidInput as exc:
            for field, problems in exc.errors.items():
                for problem in problems:
                    form.add_error(field if field in form.fields else None, str(problem))
        else:
            return redirect(reverse("track", args=[token]) + "?filed=1#feedback")
    return tracking.track(request, token, status=400, extra={
        "complaint_form": form, "complaint_error": _("Please correct the errors below; nothing was sent.")})


@never_cache
@require_POST
def track_receipt(request, token: str):
    order = tracking.tracked_order(request, token)
    form = ReceiptForm(request.POST, auto_id="id_receipt_%s")
    if form.is_valid():
        try:
            services.confirm_receipt(order_id=order.pk, **form.cleaned_data)
        except Conflict as exc:
            return tracking.track(request, token, status=409, extra={"receipt_error": str(exc.detail)})
        except InvalidInput as exc:
            for field, problems in exc.errors.items():
                for problem in problems:
                    form.add_error(field if field in form.fields else None, str(problem))
        else:
            return redirect(reverse("track", args=[token]) + "?confirmed=1#receipt")
    return tracking.track(request, token, status=400, extra={
        "receipt_form": form, "receipt_error": _("Please correct the errors below; nothing was sent.")})


# --- the order page's forms ---------------------------------------------------------------------------
@login_required
@require_POST
def complaint_add(request, pk: int):
    def call(order, data):
        services.record_complaint(user=request.user, order_id=order.pk, kind=data["kind"],
                                  description=data["description"])
        return _("The complaint or suggestion was recorded.")

    return desk_write(request, pk, form_key="complaint", form=ComplaintForm(request.POST), call=call)


@login_required
@require_POST
def complaint_handle(request, pk: int, item: int):
    if not Complaint.objects.filter(pk=item, order_id=pk).exists():
        raise Http404

    def call(order, data):
        services.handle_complaint(user=request.user, complaint_id=item, status=data["status"],
                                  resolution=data["resolution"], owner=data.get("owner"))
        return _("The complaint was updated.")

    form = ComplaintHandleForm(request.POST, auto_id=f"id_complaint{item}_%s")
    return desk_write(request, pk, form_key=f"complaint_handle-{item}", form=form, call=call)


@login_required
@require_POST
def followup_add(request, pk: int):
    def call(order, data):
        services.record_followup(user=request.user, order_id=order.pk, score=data["score"], summary=data["summary"])
        return _("The phone follow-up was recorded.")

    return desk_write(request, pk, form_key="followup", form=FollowUpForm(request.POST), call=call)
