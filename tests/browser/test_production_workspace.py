"""The production workspace in the browser (issue 10; R4.3, R4.4), in Chinese and in English: the supervisor
plans an order against the workshop calendar (rows added and removed in the page by static/js/plan_editor.js)
and schedules it; a worker completes two milestones and reports to 100 %; the customer's tracking page shows
the milestones done."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from orders.models import Order, State
from production.models import Milestone, ProgressReport
from tests import factories
from tests.browser_support import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def submit(page, form_selector):
    page.locator(f"{form_selector} button[type=submit]").first.click()
    page.wait_for_load_state("networkidle")


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_supervisor_plans_against_the_calendar_worker_completes_customer_sees(browser_page, language):
    page = browser_page
    cast = factories.Cast()
    supervisor, worker = cast.production_supervisor, cast.production_worker
    workshop = factories.WorkshopFactory(capacity=2)
    busy = factories.make_order(State.SCHEDULED, cast=cast)  # already in the workshop's calendar
    from production import services as production

    production.move_to_workshop(user=supervisor, order_id=busy.pk, workshop=workshop, reason="balance")
    order = factories.make_order(State.REVIEWED, cast=cast)

    # the supervisor finds the order in the queue and opens the plan editor
    log_in(page, supervisor, language=language)
    page.goto(f"{page.base_url}/production/")
    assert page.locator("html").get_attribute("lang") == language
    page.locator(f"[data-queue=to_plan] tr[data-order='{order.number}'] a").click()
    page.wait_for_load_state("networkidle")
    assert urlsplit(page.url).path == f"/production/orders/{order.pk}/"

    page.select_option("#id_plan_workshop", str(workshop.pk))
    page.fill("#id_milestones-0-name", "Cut")
    page.fill("#id_milestones-0-due_date", factories.days(4).isoformat())
    page.select_option("#id_milestones-0-responsible", str(worker.pk))
    page.fill("#id_milestones-0-quantity", "10")
    page.fill("#id_milestones-1-name", "Assemble")
    page.fill("#id_milestones-1-due_date", factories.days(12).isoformat())
    page.select_option("#id_milestones-1-responsible", str(worker.pk))
    # a third row added in the page, filled, then removed again: it is not saved
    page.click("[data-add-row]")
    page.fill("#id_milestones-2-name", "Paint")
    page.fill("#id_milestones-2-due_date", factories.days(14).isoformat())
    page.locator("[data-milestone-row]").nth(2).locator("[data-remove-row]").click()
    page.click("[data-add-row]")  # a fourth one left blank is ignored
    assert page.input_value("input[name=milestones-TOTAL_FORMS]") == "4"
    submit(page, "#plan-editor")
    assert page.locator("[data-error]").count() == 0, page.locator("[data-error]").inner_text()
    assert [m.name for m in Milestone.objects.filter(plan__order=order)] == ["Cut", "Assemble"]

    # the calendar shows the workshop's weeks: the busy order, and capacity; this plan fits
    cell = page.locator(f"tr[data-workshop='{workshop.code}'] td.cal-cell").first
    assert cell.get_attribute("data-capacity") == "2" and cell.get_attribute("data-planned") == "1"
    assert busy.number in cell.inner_text()
    assert page.locator("[data-overloaded]").count() == 0
    submit(page, "#schedule-form")
    order.refresh_from_db()
    assert order.state == State.SCHEDULED
    page.goto(f"{page.base_url}/production/")
    cell = page.locator(f"tr[data-workshop='{workshop.code}'] td.cal-cell").first
    assert cell.get_attribute("data-planned") == "2" and order.number in cell.inner_text()

    factories.make_ready(order, cast)
    factories.run(order, "start_production", supervisor)

    # the worker completes both milestones and reports to 100 %
    log_in(page, worker, language=language)
    page.goto(f"{page.base_url}/production/my/")
    first, second = Milestone.objects.filter(plan__order=order).order_by("due_date")
    section = f"[data-milestone='{first.pk}']"
    page.fill(f"{section} [name=quantity_done]", "10")
    submit(page, f"{section} form[data-form=report]")
    assert page.locator("[data-error]").count() == 0
    submit(page, f"{section} form[data-form=complete]")
    section = f"[data-milestone='{second.pk}']"
    page.fill(f"{section} [name=percent_complete]", "100")
    page.fill(f"{section} [name=note]", "all assembled")
    submit(page, f"{section} form[data-form=report]")
    submit(page, f"{section} form[data-form=complete]")
    assert page.locator(f"[data-milestone='{first.pk}'], [data-milestone='{second.pk}']").count() == 0
    assert page.locator("[data-done] tr").count() == 2
    assert Milestone.objects.filter(plan__order=order, done_at__isnull=False).count() == 2
    latest = ProgressReport.objects.filter(order=order).order_by("-reported_at", "-id").first()
    assert latest.percent_complete == 100

    # the customer, without an account, sees the milestones done
    page.context.clear_cookies()
    page.goto(page.base_url + urlsplit(Order.objects.get(pk=order.pk).tracking_url).path)
    rows = page.locator("table tbody tr")
    texts = [rows.nth(i).inner_text() for i in range(rows.count())]
    done = [t for t in texts if "✓" in t]
    assert any("Cut" in t for t in done) and any("Assemble" in t for t in done)
    assert "100%" in page.content()
