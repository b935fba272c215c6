from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = _("Orders")

    def ready(self):
        from orderdesk import admin_base
        from orders.models import Order
        from orders.selectors import visible_orders

        admin_base.set_order_scope(model=Order, visible_orders=visible_orders)
