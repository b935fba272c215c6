"""In the browser (Chromium, zh-hans and en): the assistant revises the promise with its reason, logistics ships
the order in two parts (`ship` is refused while a part remains), and the customer's tracking page shows the
revised promise with its reason and both shipments (R3.4, R5.3)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from logistics.models import Shipment
from orders.models import Order, State
from tests import factories
from tests.browser_support import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TEXTS = {
    "zh-hans": {"changes": "承诺日期的变更", "partly": "部分发货", "shipment": "第 1 批"},
    "en": {"changes": "Changes to the promised date", "partly": "Partly shipped", "shipment": "Shipment 1"},
}


def submit(page, form_selector):
    page.locator(f"{form_selector} button[type=submit]").click()
    page.wait_for_load_state("networkidle")


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_logistics_ships_in_two_parts_and_the_customer_sees_the_revised_promise(browser_page, language):
    page = browser_page
    texts = TEXTS[language]
    cast = factories.Cast()
    customer = factories.CustomerFactory(language=language)
    p1, p2 = factories.ProductFactory(), factories.ProductFactory()
    order = factories.make_order(
        State.PRODUCING,
        cast=cast,
        customer=customer,
        lines=[
            {"product": p1, "specification": "Pump housing", "quantity": Decimal("10"), "unit_price": Decimal("9.00")},
            {"product": p2, "specification": "Gear motor", "quantity": Decimal("4"), "unit_price": Decimal("7.00")},
        ],
    )
    factories.complete_production(order, cast)
    first_line, second_line = order.lines.order_by("position")
    new_date = factories.days(75).isoformat()
    reason = "Castings late by a week; agreed by phone" if language == "en" else "铸件延期一周，已电话与客户确认"
    detail = f"{page.base_url}/orders/{order.pk}/"

    # the assistant revises the promise on the order page
    log_in(page, cast.owner, language=language)
    page.goto(detail)
    page.locator("#promise-panel > summary").click()
    page.fill("#id_promise_promised_delivery_date", new_date)
    page.fill("#id_promise_reason", reason)
    submit(page, "#promise-form")
    assert page.locator("#promised-date").inner_text() == new_date
    assert reason in page.locator("#promise").inner_text()

    # logistics ships 6 of the first line …
    log_in(page, cast.logistics_specialist, language=language)
    page.goto(detail)
    page.fill("#id_shipment_carrier", "SF Express")
    page.fill("#id_shipment_tracking_number", "SF-PART-1")
    page.fill("#id_shipment_vehicle", "沪A12345")
    page.fill("#id_shipment_driver", "Wang")
    page.fill(f"#id_shipment_line_{first_line.pk}", "6")
    submit(page, "#shipment-form")
    assert page.locator("#partly-shipped").inner_text() == texts["partly"]
    assert page.locator(f'tr[data-line="{first_line.pk}"] td[data-remaining]').get_attribute("data-remaining") == "4"
    # … `ship` is refused while a part remains …
    submit(page, "form[data-transition=ship]")
    assert Order.objects.get(pk=order.pk).state == State.PRODUCING
    assert page.locator("#order-state").get_attribute("data-state") == State.PRODUCING
    # … then the rest (no quantities: everything that remains), and ships
    page.goto(detail)
    page.locator("#shipment-panel > summary").click()
    page.fill("#id_shipment_carrier", "SF Express")
    page.fill("#id_shipment_tracking_number", "SF-PART-2")
    submit(page, "#shipment-form")
    assert page.locator("#partly-shipped").count() == 0
    assert page.locator("#shipment-form").count() == 0  # nothing remains
    submit(page, "form[data-transition=ship]")
    assert page.locator("#order-state").get_attribute("data-state") == State.SHIPPED
    quantities = sorted(
        (s.tracking_number, [(sl.order_line_id, sl.quantity) for sl in s.lines.all()])
        for s in Shipment.objects.filter(order=order)
    )
    assert quantities == [
        ("SF-PART-1", [(first_line.pk, Decimal("6"))]),
        ("SF-PART-2", [(first_line.pk, Decimal("4")), (second_line.pk, Decimal("4"))]),
    ]

    # the customer's tracking page: the revised promise with its reason, and both shipments
    page.context.clear_cookies()
    page.goto(f"{page.base_url}/track/{order.tracking_token}/")
    assert page.locator("#promised-date").inner_text() == new_date
    changes = page.locator("#promise-changes").inner_text()
    assert texts["changes"] in changes and reason in changes and new_date in changes
    shipments = page.locator(".shipment")
    assert shipments.count() == 2
    body = page.locator("main").inner_text() if page.locator("main").count() else page.content()
    assert "SF-PART-1" in body and "SF-PART-2" in body and texts["shipment"] in body
    assert "Pump housing" in body and "Gear motor" in body
    assert "9.00" not in body  # no price reaches the customer's page
