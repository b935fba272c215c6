"""Issue 13, through the Django test client: the pages read right in both languages and never confuse.

Each test here fails on the main branch before issue 13: check items that put ✓ beside a failure
sentence, a submit button on a submitted order and no way to withdraw it, failed transitions answered at
the POST URL, no way to remove a line or to reassign an order in the pages, amounts without thousands
separators in Chinese and quantities as "10.000", usernames in pickers, a mistranslated KPI column, the
admin's "Change" read as "字段修改", ASCII colons in Chinese pages, headerless team tables, a KPI chart
silent on empty months and an unmarked superseded objection.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.db import connection
from django.urls import reverse

from notifications.models import Notification
from orders.models import Order, OrderChange, OrderLine, State
from orders.services import record_signoff
from tests import factories

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}


def page(client, user, url, **headers) -> str:
    client.force_login(user)
    response = client.get(url, **headers)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def detail(order) -> str:
    return reverse("orders:detail", args=[order.pk])


def submit_button(order) -> str:
    return f'action="{reverse("orders:transition", args=[order.pk, "submit"])}"'


def items(html: str) -> dict[str, tuple[str, str]]:
    """The assistant's check: code → (mark, text)."""
    found = {}
    for code, mark, text in re.findall(
        r'<li class="[a-z]+" data-code="([a-z_]+)" data-ok="[01]">\s*<span class="mark" aria-hidden="true">(.)</span>'
        r'\s*<span class="visually-hidden">[^<]*</span>\s*([^<]+?)\s*</li>',
        html,
    ):
        found[code] = (mark, text)
    return found


# --- the assistant's check: ✓ beside what holds, ✗ beside what is wrong ----------------------------------
@pytest.mark.parametrize(
    ("headers", "met", "unmet"),
    [
        (EN, "No clarification with the customer is open.", "The requested delivery date is before the earliest"),
        (ZH, "与客户的澄清事项均已解决。", "要求交货日期早于最早可行日期"),
    ],
)
def test_each_check_item_reads_as_met_or_unmet_with_its_mark(client, sales_assistant, headers, met, unmet):
    order = factories.make_order(requested_delivery_date=factories.days(3))  # before the lead time
    checks = items(page(client, sales_assistant, detail(order), **headers))
    assert set(checks) == {
        "elements_missing",
        "specification_missing",
        "delivery_date_unreasonable",
        "open_clarification",
    }
    assert checks["open_clarification"][0] == "✓" and checks["open_clarification"][1] == met
    assert checks["delivery_date_unreasonable"][0] == "✗"
    assert checks["delivery_date_unreasonable"][1].startswith(unmet)
    # no ✓ beside a failure sentence
    assert "仍有与客户的澄清事项未解决" not in checks["open_clarification"][1]
    assert "still open" not in checks["open_clarification"][1]


def test_an_open_clarification_turns_its_item_into_the_failure_sentence(client, sales_assistant):
    order = factories.make_order()
    client.force_login(sales_assistant)
    client.post(reverse("orders:clarification_add", args=[order.pk]), {"question": "Which colour?"})
    checks = items(page(client, sales_assistant, detail(order), **ZH))
    assert checks["open_clarification"] == ("✗", "仍有与客户的澄清事项未解决。")
    assert all(mark == "✓" for code, (mark, _t) in checks.items() if code != "open_clarification")


# --- submit, withdraw, redirect-after-post --------------------------------------------------------------
def test_a_submitted_order_offers_no_submit_but_a_withdrawal(client, sales_assistant):
    order = factories.make_order(submitted=True)
    html = page(client, sales_assistant, detail(order), **EN)
    assert submit_button(order) not in html
    assert 'id="withdraw-form"' in html and "Withdraw the submission" in html
    draft = factories.make_order()
    html = page(client, sales_assistant, detail(draft))
    assert submit_button(draft) in html and 'id="withdraw-form"' not in html


def test_withdrawing_a_submission_puts_the_order_back_on_the_desk(client, sales_assistant, sales_manager):
    order = factories.make_order(submitted=True)
    round_before = order.review_round
    client.force_login(sales_assistant)
    response = client.post(reverse("orders:withdraw", args=[order.pk]))
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.state == State.RECEIVED and order.submitted_at is None
    assert order.review_round == round_before + 1
    assert OrderChange.objects.filter(order=order, field="submitted_at", new_value="").exists()
    html = page(client, sales_assistant, detail(order))
    assert submit_button(order) in html and 'id="checklist"' in html
    # the manager's review queue no longer lists it
    assert order.number not in page(client, sales_manager, reverse("supervision:review_queue"))


def test_withdrawal_refusals_change_nothing(client, sales_assistant, sales_assistant2, sales_manager):
    order = factories.make_order(submitted=True)
    submitted_at = order.submitted_at
    client.force_login(sales_assistant2)  # not theirs: out of scope
    assert client.post(reverse("orders:withdraw", args=[order.pk])).status_code == 404
    client.force_login(sales_manager)  # the manager returns an order (with a reason), never withdraws it
    assert client.post(reverse("orders:withdraw", args=[order.pk])).status_code == 403
    assert client.get(reverse("orders:withdraw", args=[order.pk])).status_code == 405
    order.refresh_from_db()
    assert order.submitted_at == submitted_at
    draft = factories.make_order()
    client.force_login(sales_assistant)
    response = client.post(reverse("orders:withdraw", args=[draft.pk]))
    assert response.status_code == 303 and response["Location"] == detail(draft)
    assert "Only a submitted order" in client.get(detail(draft), **EN).content.decode()


def test_a_failed_transition_redirects_and_shows_its_errors_once(client, sales_manager):
    order = factories.make_order(submitted=True)
    client.force_login(sales_manager)
    url = reverse("orders:transition", args=[order.pk, "cancel"])
    response = client.post(url, {"comment": "   "})  # a reason is required
    assert response.status_code == 303 and response["Location"] == detail(order)
    html = client.get(detail(order), **EN).content.decode()
    assert 'id="transition-failure"' in html and "was not done" in html
    assert 'class="action open"' in html  # the failed form is open again
    # shown once: a reload is a plain GET of the order page, nothing is posted again
    assert 'id="transition-failure"' not in client.get(detail(order)).content.decode()
    order.refresh_from_db()
    assert order.state == State.RECEIVED


def test_a_refused_transition_keeps_what_was_typed(client, sales_manager):
    order = factories.make_order(submitted=True, customer=factories.CustomerFactory(credit_limit=Decimal("1")))
    client.force_login(sales_manager)
    response = client.post(reverse("orders:transition", args=[order.pk, "approve"]), {"comment": "prepaid in full"})
    assert response.status_code == 303
    html = client.get(detail(order), **EN).content.decode()
    assert "prepaid in full" in html and 'id="transition-failure"' in html
    order.refresh_from_db()
    assert order.state == State.RECEIVED


# --- editing removes a line; the manager reassigns ----------------------------------------------------
def edit_post(order, lines: list[dict], **extra) -> dict:
    data = {
        "customer": order.customer_id,
        "channel": order.channel,
        "contact_name": order.contact_name,
        "contact_phone": order.contact_phone,
        "delivery_address": order.delivery_address,
        "requested_delivery_date": order.requested_delivery_date.isoformat(),
        "special_terms": "",
        "lines-TOTAL_FORMS": str(len(lines)),
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "100",
    }
    for i, line in enumerate(lines):
        for key, value in line.items():
            data[f"lines-{i}-{key}"] = value
    data.update(extra)
    return data


def test_editing_an_order_can_remove_a_line(client, sales_assistant):
    products = [factories.ProductFactory(), factories.ProductFactory()]
    order = factories.make_order(products=products)
    assert order.lines.count() == 2
    html = page(client, sales_assistant, reverse("orders:edit", args=[order.pk]), **EN)
    assert 'name="lines-0-DELETE"' in html and "Remove" in html
    lines = [{"product": p.pk, "specification": "M8", "quantity": "10", "unit_price": "100.00"} for p in products]
    lines[1]["DELETE"] = "on"
    response = client.post(reverse("orders:edit", args=[order.pk]), edit_post(order, lines))
    assert response.status_code == 302, response.content.decode()[:500]
    assert list(OrderLine.objects.filter(order=order).values_list("product_id", flat=True)) == [products[0].pk]
    order.refresh_from_db()
    assert order.total_amount == Decimal("1000.00")
    # removing every line is refused: an order needs at least one
    lines[0]["DELETE"] = "on"
    response = client.post(reverse("orders:edit", args=[order.pk]), edit_post(order, lines))
    assert response.status_code == 400
    assert order.lines.count() == 1


def test_a_manager_reassigns_an_order_with_a_reason_and_both_assistants_are_told(
    client, sales_assistant, sales_assistant2, sales_manager
):
    order = factories.make_order()
    html = page(client, sales_manager, detail(order), **EN)
    assert 'id="reassign-form"' in html
    assert sales_assistant2.get_full_name() in html  # the picker names people
    response = client.post(
        reverse("orders:reassign", args=[order.pk]), {"assistant": sales_assistant2.pk, "reason": "Li is on leave"}
    )
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.assistant_id == sales_assistant2.pk
    changes = dict(OrderChange.objects.filter(order=order).values_list("field", "new_value"))
    assert changes["reassignment_reason"] == "Li is on leave" and "assistant" in changes
    told = Notification.objects.filter(order=order, kind="order_reassigned")
    assert set(told.values_list("user__username", flat=True)) == {sales_assistant.username, sales_assistant2.username}
    assert "Li is on leave" in told.get(user=sales_assistant2).text_in("en")
    # the timeline names the reason under a label, not a code name
    timeline = page(client, sales_manager, detail(order), **EN)
    assert "reason for the reassignment" in timeline and "reassignment_reason" not in timeline.replace(
        'data-field="reassignment_reason"', ""
    )


def test_reassignment_refusals_change_nothing(client, sales_assistant, sales_assistant2, sales_manager):
    order = factories.make_order()
    client.force_login(sales_manager)
    response = client.post(reverse("orders:reassign", args=[order.pk]), {"assistant": sales_assistant2.pk})
    assert response.status_code == 400  # a reason is required
    response = client.post(reverse("orders:reassign", args=[order.pk]), {"assistant": 999999, "reason": "x"})
    assert response.status_code == 400
    client.force_login(sales_assistant)
    assert 'id="reassign-form"' not in client.get(detail(order)).content.decode()
    response = client.post(
        reverse("orders:reassign", args=[order.pk]), {"assistant": sales_assistant2.pk, "reason": "mine"}
    )
    assert response.status_code == 403
    order.refresh_from_db()
    assert order.assistant_id == sales_assistant.pk
    assert not OrderChange.objects.filter(order=order, field="assistant").exists()


# --- one money and one quantity format, per locale, ids never grouped ---------------------------------------
def big_order(**kwargs):
    product = factories.ProductFactory(unit="台")
    return factories.make_order(
        products=[product],
        quantity=Decimal("10"),
        unit_price=Decimal("150000.00"),
        customer=factories.CustomerFactory(credit_limit=Decimal("99999999")),
        **kwargs,
    )


@pytest.mark.parametrize("headers", [ZH, EN])
def test_amounts_are_grouped_and_quantities_read_10_units_in_both_languages(client, sales_manager, headers):
    order = big_order(submitted=True, special_terms="")
    for url in (
        detail(order),
        reverse("orders:list"),
        reverse("supervision:review_detail", args=[order.pk]),
        reverse("supervision:review_queue"),
    ):
        html = page(client, sales_manager, url, **headers)
        assert "1,500,000.00" in html, url
        assert "1500000.00" not in html, url
        assert "10.000" not in html, url
    for url in (detail(order), reverse("supervision:review_detail", args=[order.pk])):
        assert "10 台" in page(client, sales_manager, url, **headers), url


def test_the_edit_form_shows_quantities_as_typed(client, sales_assistant):
    order = big_order()
    html = page(client, sales_assistant, reverse("orders:edit", args=[order.pk]))
    assert 'name="lines-0-quantity" value="10"' in html
    assert 'value="10.000"' not in html


def test_ids_in_urls_and_forms_are_never_grouped(client, sales_manager):
    with connection.cursor() as cursor:
        cursor.execute("SELECT setval(pg_get_serial_sequence('orders_order', 'id'), 123456)")
    order = big_order()
    assert order.pk > 1000
    for headers in (ZH, EN):
        html = page(client, sales_manager, reverse("orders:list"), **headers)
        assert f"/orders/{order.pk}/" in html and "123,45" not in html


# --- pickers name people -----------------------------------------------------------------------------------
def test_pickers_show_peoples_names(client, sales_manager, sales_assistant, auditor):
    name = sales_assistant.get_full_name()
    assert name and name != sales_assistant.username
    for url in (reverse("supervision:kpis"), reverse("supervision:checks")):
        html = page(client, sales_manager, url)
        assert re.search(rf"<option value=\"{sales_assistant.pk}\"[^>]*>{re.escape(name)}", html), url
    html = page(client, auditor, reverse("supervision:audit"))
    assert re.search(rf"<option value=\"{sales_assistant.pk}\"[^>]*>{re.escape(name)}", html)


def test_the_intake_picker_carries_a_visible_nothing_found(client, sales_assistant):
    html = page(client, sales_assistant, reverse("orders:create"), **EN)
    assert '"none": "Nothing found"' in html
    from pathlib import Path

    script = (Path(__file__).resolve().parents[2] / "static" / "js" / "order_form.js").read_text()
    assert "picker-status" in script and "status.textContent" in script


# --- language slips --------------------------------------------------------------------------------------
def test_the_kpi_column_due_counts_orders_due(client, sales_manager):
    html = page(client, sales_manager, reverse("supervision:kpis"), **ZH)
    assert "到期订单数" in html and "截止日期" not in html
    assert "<code>accuracy_rate</code>" not in html  # no raw code names


def test_admin_change_links_read_as_djangos_change(admin_client):
    html = admin_client.get("/admin/", **ZH).content.decode()
    assert "字段修改" not in html
    assert ">修改<" in html


def test_chinese_pages_use_full_width_colons(client, sales_manager):
    order = big_order(submitted=True, special_terms="kept dry")
    for url in (reverse("supervision:review_detail", args=[order.pk]), reverse("orders:import")):
        html = page(client, sales_manager, url, **ZH)
        text = re.sub(r"<[^>]+>", "", html)
        assert not re.search(r"[\u4e00-\u9fff]: ", text), (url, re.findall(r".{8}[\u4e00-\u9fff]: .{8}", text))
    assert "助理：" in page(client, sales_manager, reverse("supervision:review_detail", args=[order.pk]), **ZH)


def test_no_template_puts_an_ascii_colon_after_a_translated_label():
    """Labels end with `{% colon %}` (": " in English, "：" in Chinese), in every app's templates and the PDFs."""
    from pathlib import Path

    from django.conf import settings

    label_then_colon = re.compile(r'(\{% translate "[^"]*" %\}|\{% endblocktranslate %\}):')
    found = []
    for path in Path(settings.BASE_DIR).glob("*/templates/**/*.html"):
        if ".venv" in path.parts:
            continue
        found += [f"{path.name}: {m.group(0)}" for m in label_then_colon.finditer(path.read_text(encoding="utf-8"))]
    assert found == []


def test_department_panels_and_the_tracking_page_use_full_width_colons(client, sales_assistant):
    cast = factories.Cast(owner=sales_assistant)
    order = factories.make_order(State.SHIPPED, cast=cast)
    html = page(client, sales_assistant, reverse("orders:detail", args=[order.pk]), **ZH)
    text = re.sub(r"<[^>]+>", "", html)
    assert not re.search(r"[\u4e00-\u9fff]: ", text), re.findall(r".{8}[\u4e00-\u9fff]: .{8}", text)
    assert "承诺交期：" in text  # the promise panel (logistics' branch wrote "Promised delivery: ")
    client.logout()
    track = client.get(order.tracking_url, **ZH).content.decode()
    text = re.sub(r"<[^>]+>", "", track)
    assert not re.search(r"[\u4e00-\u9fff]: ", text), re.findall(r".{8}[\u4e00-\u9fff]: .{8}", text)


def test_kpi_errors_name_the_field_not_its_code(client, sales_manager):
    client.force_login(sales_manager)
    response = client.get(reverse("supervision:kpis"), {"start": "2026-05-01", "end": "2026-01-01"}, **ZH)
    assert response.status_code == 400
    html = response.content.decode()
    assert "start:" not in html and "从：" in html


# --- team page, KPI chart, joint review --------------------------------------------------------------------
def test_team_tables_have_headers_and_explain_the_at_risk_date(client, sales_manager):
    from orders.models import Alert

    overdue = factories.make_order(State.REVIEWED)
    Order.objects.filter(pk=overdue.pk).update(promised_delivery_date=factories.days(-3))
    Alert.objects.create(order=overdue, kind=Alert.Kind.AT_RISK)
    html = page(client, sales_manager, reverse("supervision:team"), **EN)
    for section in ("overdue", "at-risk"):
        block = html.split(f'id="{section}"', 1)[1].split("</section>", 1)[0]
        assert "<thead>" in block and "<th>Order</th>" in block and overdue.number in block, section
    assert "<th>Promised delivery</th>" in html and "<th>Flagged on</th>" in html
    assert "the day the scheduled check found the order at risk" in html


def test_the_kpi_chart_says_no_data_for_empty_months(client, sales_manager):
    html = page(client, sales_manager, reverse("supervision:kpis") + "?start=2026-01-01&end=2026-03-31", **EN)
    assert html.count(">no data</text>") == 3
    html = page(client, sales_manager, reverse("supervision:kpis") + "?start=2026-01-01&end=2026-03-31", **ZH)
    assert ">无数据</text>" in html


def test_a_superseded_objection_is_marked(client, sales_manager, finance_manager):
    order = big_order(submitted=True)
    assert order.requires_joint_review
    record_signoff(user=finance_manager, order_id=order.pk, decision="object", comment="deposit first")
    html = page(client, sales_manager, detail(order), **EN)
    assert 'data-superseded="1"' not in html  # an objection standing alone stays red
    record_signoff(user=finance_manager, order_id=order.pk, decision="approve", comment="deposit agreed")
    html = page(client, sales_manager, detail(order), **EN)
    assert html.count('data-superseded="1"') == 1
    assert "superseded by the approval of" in html
    assert "已被" in page(client, sales_manager, detail(order), **ZH)


def test_the_team_pages_waiting_line_reads_as_chinese(client, sales_manager):
    factories.make_order(submitted=True)
    html = page(client, sales_manager, reverse("supervision:team"), **ZH)
    assert "1 个订单等待审核（最早提交于" in html and "等待审核 (" not in html
    html = page(client, sales_manager, reverse("supervision:team"), **EN)
    assert "1 order waits for review (oldest since" in html
