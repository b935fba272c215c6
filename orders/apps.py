from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = _("Orders")

    def ready(self):
        from orderdesk import admin_base, media
        from orders import panels, promise_panel, selectors
        from orders.models import Order

        admin_base.set_order_scope(model=Order, visible_orders=selectors.visible_orders)
        media.register("receipts/", selectors.may_read_receipt)
        media.register("imports/", selectors.may_read_import_sheet)
        panels.register(promise_panel.PANEL)
