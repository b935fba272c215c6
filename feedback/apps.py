from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FeedbackConfig(AppConfig):
    name = "feedback"
    verbose_name = _("Feedback")

    def ready(self):
        from feedback.panels import PANEL
        from notifications.services import register_customer_context
        from orders import panels

        panels.register(PANEL)
        register_customer_context("survey", _survey_context)


def _survey_context(order) -> dict:
    from django.urls import reverse

    from feedback.services import survey_token
    from notifications.services import site_url

    return {"survey_url": site_url(reverse("survey", args=[survey_token(order)]))}
