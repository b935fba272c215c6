"""Admin of logistics (R3.4, R4.4), held to the roles (see :mod:`orderdesk.admin_base`).

Shipments and their tracking events are added through :mod:`logistics.services`;
the `ship` transition itself is a button on the order's page.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from logistics import services
from logistics.models import Shipment, ShipmentEvent, ShipmentLine, ShipmentStatus
from logistics.selectors import visible_shipments
from orderdesk.admin_base import ReadOnlyInline, RoleScopedAdmin


class ShipmentLineInline(ReadOnlyInline):
    model = ShipmentLine
    fields = ("order_line", "quantity")


class ShipmentEventInline(ReadOnlyInline):
    model = ShipmentEvent
    fields = ("at", "status", "location", "note", "recorded_by")


@admin.register(Shipment)
class ShipmentAdmin(RoleScopedAdmin):
    add_action = "shipment.manage"
    # without lines the shipment carries everything that remains of the order (partial ones: API or page)
    add_fields = (
        "order",
        "carrier",
        "tracking_number",
        "expected_arrival",
        "vehicle",
        "driver",
        "warehouse",
        "tracking_link",
    )
    order_choice_states = services.SHIPMENT_STATES
    list_display = ("order", "carrier", "tracking_number", "status", "expected_arrival", "created_by", "created_at")
    list_filter = ("status", "carrier")
    list_select_related = ("order", "created_by")
    search_fields = ("order__number", "tracking_number", "carrier")
    fields = (
        "order",
        "carrier",
        "tracking_number",
        "expected_arrival",
        "vehicle",
        "driver",
        "warehouse",
        "tracking_link",
        "status",
        "created_by",
        "created_at",
        "delivered_at",
    )
    inlines = (ShipmentLineInline, ShipmentEventInline)

    def add_via_service(self, request, data):
        return services.create_shipment(
            user=request.user,
            order_id=data["order"].pk,
            carrier=data["carrier"],
            tracking_number=data["tracking_number"],
            expected_arrival=data.get("expected_arrival"),
            vehicle=data.get("vehicle") or "",
            driver=data.get("driver") or "",
            warehouse=data.get("warehouse") or "",
            tracking_link=data.get("tracking_link") or "",
        )


@admin.register(ShipmentEvent)
class ShipmentEventAdmin(RoleScopedAdmin):
    """Tracking events (R4.4: the shipment's status kept current): added through the service."""

    order_field = "shipment__order"
    add_action = "shipment.manage"
    add_fields = ("shipment", "status", "location", "note")
    list_display = ("at", "shipment", "order", "status", "location", "note", "recorded_by")
    list_filter = ("status",)
    list_select_related = ("shipment__order", "recorded_by")
    search_fields = ("shipment__order__number", "shipment__tracking_number", "location")
    fields = ("shipment", "status", "location", "note", "recorded_by", "at")

    @admin.display(description=_("order"))
    def order(self, obj):
        return obj.shipment.order

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "shipment":
            kwargs["queryset"] = visible_shipments(request.user).exclude(status=ShipmentStatus.RETURNED)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def add_via_service(self, request, data):
        return services.add_event(
            user=request.user,
            shipment_id=data["shipment"].pk,
            status=data["status"],
            location=data.get("location") or "",
            note=data.get("note") or "",
        )
