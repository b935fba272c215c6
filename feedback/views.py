"""Feedback's pages (R6.2): the customer's questionnaire (`/survey/<token>/`, no account, answered once) and
the complaint forms of the order page (`/orders/<id>/complaints/…`, mounted in the `orders` URL namespace
by the project's URLconf)."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from feedback import services
from feedback.forms import ComplaintForm, ComplaintHandleForm
from feedback.models import Complaint
from orderdesk.errors import Conflict, InvalidInput, NotFound
from orders.views.desk import desk_write

SCORES = (5, 4, 3, 2, 1)


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
    context = {"survey": item, "order": item.order, "scores": SCORES, "errors": {}, "status": 200}
    if request.method == "POST":
        try:
            item = services.answer_survey(token=token, score=request.POST.get("score"),
                                          comment=request.POST.get("comment", ""))
            context["survey"] = item
        except InvalidInput as exc:
            context.update(errors=exc.errors, status=400, comment=request.POST.get("comment", ""))
        except Conflict as exc:
            context.update(message=str(exc.detail), status=409)
    return render(request, "feedback/survey.html", context, status=context["status"])


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
                                  resolution=data["resolution"])
        return _("The complaint was updated.")

    return desk_write(request, pk, form_key="complaint_handle", form=ComplaintHandleForm(request.POST), call=call)
