from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FinanceConfig(AppConfig):
    name = "finance"
    verbose_name = _("Finance")

    def ready(self):
        from finance import checks as finance_checks, documents
        from finance.panels import PANEL
        from orders import checks, panels

        panels.register(PANEL)
        checks.register("payment_overdue", finance_checks.PAYMENT_OVERDUE)
        documents.register_attachments()
