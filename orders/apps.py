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

        from django.db.models.signals import post_save
        from django_fsm_log.models import StateLog

        post_save.connect(_remember_state_log, sender=StateLog, dispatch_uid="orders.remember_state_log")


def _remember_state_log(sender, instance, created, **kwargs):
    """Keep the id of a transition's state-log record on the run's context (orders.services.run_transition
    hands it to the notices without reading it back). The record holds the order it was written for."""
    if not created:
        return
    order = sender._meta.get_field("content_object").get_cached_value(instance, None)
    ctx = getattr(order, "_ctx", None)
    if ctx is not None:
        ctx.log_id = instance.pk
