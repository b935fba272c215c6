"""Pages of the notification system: the list (mark read, link to the order) and the preferences."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.i18n import set_language as django_set_language

from notifications import services
from notifications.models import Channel
from orderdesk.errors import ServiceError

PAGE_SIZE = 30


@login_required
def notification_list(request):
    notes = request.user.notifications.select_related("order")
    unread_only = request.GET.get("unread") == "1"
    if unread_only:
        notes = notes.filter(read=False)
    page = Paginator(notes, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request, "notifications/list.html", {"page": page, "unread_only": unread_only, "current": "notifications"}
    )


def _safe_next(request, default: str) -> str:
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return default


@login_required
@require_POST
def mark_read(request):
    """POST /notifications/read/: all of the caller's unread notifications, or only those in `id`."""
    raw = request.POST.getlist("id")
    ids = None
    if raw:
        try:
            ids = [int(value) for value in raw]
        except ValueError:
            messages.error(request, _("Choose notifications from the list."))
            return redirect(_safe_next(request, "notifications:list"))
    try:
        services.mark_read(user=request.user, ids=ids)
    except ServiceError as exc:
        messages.error(request, str(exc.detail))
    else:
        messages.success(
            request, _("All notifications are marked read.") if ids is None else _("The notification is marked read.")
        )
    return redirect(_safe_next(request, "notifications:list"))


@login_required
def preferences(request):
    """Each user chooses, per kind, whether to be told in the app and by e-mail."""
    if request.method == "POST":
        chosen = set()
        for value in request.POST.getlist("pref"):
            kind, _sep, channel = value.rpartition(":")
            chosen.add((kind, channel))
        try:
            services.save_preferences(user=request.user, enabled=chosen)
        except ServiceError as exc:
            messages.error(request, str(exc.detail))
        else:
            messages.success(request, _("Your notification preferences are saved."))
            return redirect("notifications:preferences")
    return render(
        request,
        "notifications/preferences.html",
        {"rows": services.preference_table(request.user), "channels": Channel, "current": "notifications"},
    )


@require_POST
def set_language(request):
    """Django's language switch; for a signed-in user the choice is also stored
    (:class:`notifications.models.LanguagePreference`), so their e-mails are written in it."""
    response = django_set_language(request)
    language = request.POST.get("language", "")
    if request.user.is_authenticated and language in dict(settings.LANGUAGES):
        services.set_language(user=request.user, language=language)
    return response
