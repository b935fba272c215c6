from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def _shipped_context(order) -> dict:
    """The `shipped` e-mail lists every shipment of the order (partial shipments, R3.4)."""
    return {"shipments": list(order.shipments.exclude(status="returned").order_by("created_at", "id"))}


class LogisticsConfig(AppConfig):
    name = "logistics"
    verbose_name = _("Logistics")

    def ready(self):
        from logistics.panels import PANEL
        from notifications.services import register_customer_context
        from orders import panels

        panels.register(PANEL)
        register_customer_context("shipped", _shipped_context)
