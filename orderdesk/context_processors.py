from __future__ import annotations

import functools

from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.translation import gettext_lazy as _

from orderdesk import roles

#: The main navigation: (action the user's role must allow — ``orderdesk.roles.may``, None: everyone, "staff":
#: Django's staff flag —, URL name, label, the views it is the current page for). In this order on every page.
NAVIGATION = (
    (None, "orders:dashboard", _("Dashboard"), ("orders:dashboard",)),
    (None, "orders:list", _("Orders"), ("orders:list", "orders:detail", "orders:transition")),
    ("order.create", "orders:create", _("New order"), ("orders:create",)),
    ("team.view", "supervision:review_queue", _("Review queue"),
     ("supervision:review_queue", "supervision:review_detail")),
    ("team.view", "supervision:team", _("Team"), ("supervision:team",)),
    ("production.workspace", "production:workspace", _("Production"), ("production:workspace", "production:plan")),
    ("production.my", "production:my", _("My milestones"), ("production:my",)),
    ("logistics.workspace", "logistics:workspace", _("Logistics"), ("logistics:workspace",)),
    ("signoff", "supervision:signoff_queue", _("Joint review"), ("supervision:signoff_queue",)),
    ("receivables.view", "finance:workspace", _("Receivables"), ("finance:workspace", "finance:receivables")),
    ("kpi.view", "supervision:kpis", _("KPIs"), ("supervision:kpis",)),
    ("complaint.view_all", "supervision:complaints", _("Complaints"), ("supervision:complaints",)),
    ("audit.view", "supervision:audit", _("Audit trail"), ("supervision:audit",)),
    ("audit.view", "supervision:violations", _("Violations"), ("supervision:violations",)),
    ("loss.view", "supervision:losses", _("Losses"), ("supervision:losses",)),
    ("check.view", "supervision:checks", _("Periodic checks"), ("supervision:checks", "supervision:check_detail")),
    ("staff", "admin:index", _("Admin"), ()),
)


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    user_roles = roles.roles_of(user)
    return {
        "user_roles": sorted(user_roles),
        "unread_notifications": user.notifications.filter(read=False).count(),
        # read by base.html's menu only, so made only when a page shows it
        "nav_links": functools.partial(nav_links, request, user),
    }


def nav_links(request, user) -> list[dict]:
    """The links of the main navigation the user may follow, each with its URL, label and whether it is the page
    being shown (its URL reversed once per URLconf and script prefix: every page shows the menu)."""
    match = getattr(request, "resolver_match", None)
    current = match.view_name if match is not None else None
    links = []
    for action, name, label, current_for in NAVIGATION:
        if action == "staff" and not user.is_staff or action not in (None, "staff") and not roles.may(user, action):
            continue
        links.append({"url": _url(name, get_script_prefix(), get_urlconf()), "label": label,
                      "current": current in current_for})
    return links


@functools.lru_cache(maxsize=256)
def _url(name: str, script_prefix: str, urlconf) -> str:
    return reverse(name, urlconf=urlconf)
