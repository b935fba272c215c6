from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProductionConfig(AppConfig):
    name = "production"
    verbose_name = _("Production")

    def ready(self):
        from orders import checks, panels
        from production import checks as production_checks
        from production.panels import PANEL

        panels.register(PANEL)
        checks.register("at_risk", production_checks.AT_RISK)
        checks.register("stale", production_checks.STALE)
        checks.register_reminder(production_checks.MILESTONE_CHECK, production_checks.milestone_reminders)
