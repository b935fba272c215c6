"""Production and logistics work an order on its page in the browser (R4.3, R4.4): the supervisor plans a
reviewed order with two milestones, marks materials and equipment ready, schedules and starts production,
reports 100%; logistics records a shipment and ships."""

from __future__ import annotations

import pytest

from orders.models import Order, State
from production.models import ProductionPlan
from tests import factories
from tests.browser_support import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def submit(page, form_selector):
    page.locator(f"{form_selector} button[type=submit]").click()
    page.wait_for_load_state("networkidle")


def test_production_plans_and_logistics_ships(browser_page):
    page = browser_page
    cast = factories.Cast()
    supervisor, worker = cast.production_supervisor, cast.production_worker
    order = factories.make_order(State.REVIEWED, cast=cast)
    workshop = factories.WorkshopFactory()
    detail = f"{page.base_url}/orders/{order.pk}/"

    log_in(page, supervisor, language="en")
    page.goto(detail)
    assert page.locator("#plan-panel").get_attribute("open") is not None
    page.select_option("#id_plan_workshop", str(workshop.pk))
    page.fill("#id_milestones-0-name", "Materials in")
    page.fill("#id_milestones-0-due_date", factories.days(5).isoformat())
    page.select_option("#id_milestones-0-responsible", str(worker.pk))
    page.fill("#id_milestones-1-name", "Assembly")
    page.fill("#id_milestones-1-due_date", factories.days(20).isoformat())
    page.select_option("#id_milestones-1-responsible", str(supervisor.pk))
    submit(page, "#plan-form")
    assert "The production plan was saved." in page.content()
    plan = ProductionPlan.objects.get(order=order)
    assert [m.name for m in plan.milestones.all()] == ["Materials in", "Assembly"]
    # the replaced plan's form shows the dates back, in ISO form
    assert page.input_value("#id_milestones-1-due_date") == factories.days(20).isoformat()

    page.check("#id_ready_materials_ready")
    page.check("#id_ready_equipment_ready")
    submit(page, "#readiness-form")
    plan.refresh_from_db()
    assert plan.materials_ready and plan.equipment_ready

    submit(page, "form[data-transition=schedule]")
    assert page.locator("#order-state").get_attribute("data-state") == State.SCHEDULED
    submit(page, "form[data-transition=start_production]")
    assert page.locator("#order-state").get_attribute("data-state") == State.PRODUCING

    page.locator("#progress-panel > summary").click()
    page.fill("#id_progress_percent_complete", "100")
    page.fill("#id_progress_note", "all done")
    submit(page, "#progress-form")
    assert page.locator(".progress.done").count() == 1

    log_in(page, cast.logistics_specialist, language="en")
    page.goto(detail)
    assert page.locator("#plan-form").count() == 0 and page.locator("#progress-form").count() == 0
    page.fill("#id_shipment_carrier", "SF Express")
    page.fill("#id_shipment_tracking_number", "SF0000001")
    page.fill("#id_shipment_expected_arrival", factories.days(4).isoformat())
    submit(page, "#shipment-form")
    assert "SF0000001" in page.locator("#h-shipments").locator("xpath=..").inner_text()
    submit(page, "form[data-transition=ship]")
    assert page.locator("#order-state").get_attribute("data-state") == State.SHIPPED
    assert Order.objects.get(pk=order.pk).state == State.SHIPPED
