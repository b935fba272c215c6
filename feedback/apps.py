from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FeedbackConfig(AppConfig):
    name = "feedback"
    verbose_name = _("Feedback")

    def ready(self):
        from feedback import services
        from feedback.panels import PANEL
        from notifications.services import register_customer_context
        from orders import checks, panels
        from orders.views import track

        panels.register(PANEL)
        register_customer_context("survey", _survey_context)
        register_customer_context("survey_reminder", _survey_context)
        # scheduled with every check (check_overdue, Celery beat): the survey reminder and overdue complaints
        checks.register_reminder("survey_reminder", services.remind_unanswered_surveys)
        checks.register_reminder("complaint_overdue", services.report_overdue_complaints)
        # the customer's side of the tracking page (its own include, feedback/_track.html)
        track.register_section("feedback/_track.html", _track_context)


def _survey_context(order) -> dict:
    from django.urls import reverse

    from feedback.services import survey_token
    from notifications.services import site_url

    return {"survey_url": site_url(reverse("survey", args=[survey_token(order)]))}


def _track_context(order, request) -> dict:
    from feedback.views import track_context

    return track_context(order, request)
