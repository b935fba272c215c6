"""Logistics' forms on the order page (R3.4, R4.4); each posts to its own URL under `/orders/<id>/`
and writes through :mod:`logistics.services`, after the same rule its panel asks (see
:func:`orders.views.detail.department_write`). Mounted in the `orders` URL namespace by the project's URLconf."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from logistics import services
from logistics.forms import ShipmentEventForm, ShipmentForm
from logistics.models import Shipment
from orders.views.detail import department_write


@login_required
@require_POST
def shipment_add(request, pk: int):
    def call(order, forms):
        form = forms["shipment"]
        data = form.cleaned_data
        services.create_shipment(
            user=request.user, order_id=order.pk, carrier=data["carrier"], tracking_number=data["tracking_number"],
            expected_arrival=data["expected_arrival"], lines=form.lines(), vehicle=data["vehicle"],
            driver=data["driver"], warehouse=data["warehouse"], tracking_link=data["tracking_link"],
        )
        return _("The shipment was recorded.")

    return department_write(
        request, pk, key="shipment",
        check=lambda order: services.check_shipment(request.user, order),
        bind=lambda order: {"shipment": ShipmentForm(request.POST, lines=services.remaining_lines(order))},
        call=call,
    )


@login_required
@require_POST
def shipment_event_add(request, pk: int, item: int):
    shipment = Shipment.objects.filter(pk=item, order_id=pk).only("pk", "status").first()
    if shipment is None:
        raise Http404
    key = f"event-{shipment.pk}"

    def call(order, forms):
        data = forms[key].cleaned_data
        services.add_event(user=request.user, shipment_id=shipment.pk, status=data["status"],
                           location=data["location"], note=data["note"])
        return _("The shipment's status was recorded.")

    return department_write(
        request, pk, key=key,
        check=lambda order: services.check_shipment_event(request.user, order, shipment),
        bind=lambda order: {key: ShipmentEventForm(request.POST, auto_id=f"id_event{shipment.pk}_%s")},
        call=call,
    )
