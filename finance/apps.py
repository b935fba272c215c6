from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FinanceConfig(AppConfig):
    name = "finance"
    verbose_name = _("Finance")

    def ready(self):
        from finance import checks as finance_checks, documents
        from finance.panels import DOCUMENTS, PANEL
        from orders import checks, panels

        panels.register(PANEL)
        panels.register(DOCUMENTS)
        checks.register("payment_overdue", finance_checks.PAYMENT_OVERDUE)
        documents.register_attachments()
