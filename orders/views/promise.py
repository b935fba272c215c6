"""The promise on the order page (R5.3): a new promised date with its reason, through
:func:`orders.services.revise_promise` after the same rule its panel asks."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from orders import services
from orders.forms import PromiseForm
from orders.views.detail import department_write


@login_required
@require_POST
def promise_revise(request, pk: int):
    def call(order, forms):
        data = forms["promise"].cleaned_data
        services.revise_promise(
            user=request.user,
            order_id=order.pk,
            promised_delivery_date=data["promised_delivery_date"],
            reason=data["reason"],
        )
        return _("The new promised date is recorded; the customer is told.")

    return department_write(
        request,
        pk,
        key="promise",
        check=lambda order: services.check_promise(request.user, order),
        bind=lambda order: {"promise": PromiseForm(request.POST)},
        call=call,
    )
