"""The customer's questionnaire (R6.2): `/survey/<token>/`, no account, answered once."""

from django.conf import settings
from django.shortcuts import render
from django.utils import translation
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from feedback import services
from orderdesk.errors import Conflict, InvalidInput, NotFound

SCORES = (5, 4, 3, 2, 1)


@never_cache
@require_http_methods(["GET", "POST"])
def survey(request, token: str):
    try:
        item = services.survey_for_token(token)
    except NotFound:
        from django.http import Http404

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
