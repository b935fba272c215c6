from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProductionConfig(AppConfig):
    name = "production"
    verbose_name = _("Production")

    def ready(self):
        from orderdesk import media
        from orders import checks, panels
        from production import checks as production_checks, selectors
        from production.panels import PANEL

        panels.register(PANEL)
        # progress photos: to whoever sees the report's order (never to the customer's link)
        media.register("progress/", selectors.may_read_progress_photo)
        checks.register("at_risk", production_checks.AT_RISK)
        checks.register("stale", production_checks.STALE)
        checks.register_reminder(production_checks.MILESTONE_CHECK, production_checks.milestone_reminders)
