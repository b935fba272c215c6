"""The review queue's rows written by ``{% review_rows %}`` are what its template wrote (issue 14), for every badge,
with and without the approve column, in both languages; texts typed by people are escaped."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.template import engines
from django.utils import timezone, translation

from supervision.templatetags.review_queue import review_rows

# The rows as the page's template wrote them before the tag (the oracle).
ROWS_TEMPLATE = """{% load i18n orderdesk %}
    {% for row in rows %}{% with order=row.order %}
      <tr data-order="{{ order.number }}" class="{% if row.clean %}clean{% else %}needs{% endif %}">
        {% if may_approve %}<td>{% if row.clean %}<input type="checkbox" name="orders" value="{{ order.pk }}" aria-label="{% blocktranslate with number=order.number %}Select {{ number }}{% endblocktranslate %}">{% endif %}</td>{% endif %}
        <td><a href="{% url 'supervision:review_detail' order.pk %}">{{ order.number }}</a></td>
        <td>{{ order.customer.name }}</td>
        <td>{{ order.assistant|who }}</td>
        <td class="nowrap">{{ order.submitted_at|date:"Y-m-d H:i" }}</td>
        <td class="num">{{ order.total_amount|money }}</td>
        <td class="nowrap">{{ order.requested_delivery_date|date:"Y-m-d" }}</td>
        <td>
          {% if row.clean %}<span class="badge badge-ok">{% translate "Ready to approve" %}</span>{% endif %}
          {% if row.waiting_for %}<span class="badge badge-warning need-joint">{% translate "Joint review pending from" %} {{ row.waiting_for|join:", " }}</span>{% endif %}
          {% if row.objections %}<span class="badge badge-danger">{% translate "Objection from" %} {{ row.objections|join:", " }}</span>{% endif %}
          {% if row.credit_over %}<span class="badge badge-danger need-credit">{% translate "Credit over limit" %}</span>{% endif %}
          {% if not row.date_feasible %}<span class="badge badge-warning need-date">{% blocktranslate with date=row.ctp_date|date:"Y-m-d" %}Date not feasible (earliest {{ date }}){% endblocktranslate %}</span>{% endif %}
          {% if row.self_created %}<span class="badge">{% translate "You created it: another manager approves" %}</span>{% endif %}
        </td>
      </tr>
    {% endwith %}{% endfor %}"""


def _squeeze(html: str) -> str:
    return re.sub(r">\s+<", "><", re.sub(r"\s+", " ", str(html))).strip()


def _rows():
    from orders.models import Signoff

    def person(first, last, username):
        from django.contrib.auth import get_user_model

        return get_user_model()(first_name=first, last_name=last, username=username)

    def order(pk, number, customer, assistant, total):
        return SimpleNamespace(
            pk=pk, number=number, customer=SimpleNamespace(name=customer), assistant=assistant,
            submitted_at=datetime.datetime(2026, 5, 17, 16, 5, tzinfo=datetime.UTC),  # the 18th in Shanghai
            total_amount=Decimal(total), requested_delivery_date=datetime.date(2026, 7, 1))

    finance, production = Signoff.Department.FINANCE.label, Signoff.Department.PRODUCTION.label
    base = {"clean": False, "waiting_for": [], "objections": [], "credit_over": False, "date_feasible": True,
            "ctp_date": datetime.date(2026, 8, 3), "self_created": False}
    return [
        {**base, "order": order(1, "SO-1", "华东重工", person("娜", "李", "li"), "1500000.00"), "clean": True},
        {**base, "order": order(2, "SO-2", "O'Brien & <Sons>", person("", "", "bob"), "12.50"),
         "waiting_for": [finance, production], "credit_over": True},
        {**base, "order": order(3, "SO-3", "C3", None, "0.00"), "objections": [production], "date_feasible": False,
         "self_created": True},
        {**base, "order": order(4, "SO-4", "C4", person("A", "B", "ab"), "-3.00"), "date_feasible": False,
         "ctp_date": None},
    ]


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("may_approve", [True, False])
def test_review_rows_are_what_the_template_wrote(language, may_approve):
    rows = _rows()
    old = engines["django"].from_string(ROWS_TEMPLATE)
    with translation.override(language), timezone.override("Asia/Shanghai"):
        expected = old.render({"rows": rows, "may_approve": may_approve})
        got = review_rows(rows, may_approve)
    assert _squeeze(got) == _squeeze(expected)
    assert "2026-05-18 00:05" in got  # the moment in the active time zone
    assert "O&#x27;Brien &amp; &lt;Sons&gt;" in got  # typed text is escaped
    assert ('type="checkbox"' in got) is may_approve


def test_the_queue_page_shows_the_rows(client, sales_manager, sales_assistant):
    from tests.factories import Cast, make_order

    cast = Cast(sales_manager=sales_manager, sales_assistant=sales_assistant)
    order = make_order("received", cast=cast, submitted=True)
    client.force_login(sales_manager)
    for language, ready in (("en", "Ready to approve"), ("zh-hans", None)):
        html = client.get("/supervision/review/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
        row = html.split(f'<tr data-order="{order.number}"')[1].split("</tr>")[0]
        assert f'<a href="/supervision/review/{order.pk}/">{order.number}</a>' in row
        assert f'value="{order.pk}"' in row and "badge-ok" in row
        if ready:
            assert ready in row
