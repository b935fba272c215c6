"""What makes the pages cheap (issue 14) gives the answers the slow way gave.

Choice labels kept per language (:mod:`orderdesk.choices`) equal Django's ``get_<field>_display()``; an order's URL
filled into a URL reversed once (:func:`orderdesk.pages.id_url`) equals ``reverse``; the dashboard's lists read
only the columns they show, and still show them in both languages.
"""

from __future__ import annotations

import pytest
from django.db import models
from django.urls import reverse, set_script_prefix
from django.utils import translation

from notifications.models import Notification
from orderdesk.pages import id_url
from orders.models import Order, State
from tests import factories
from tests.factories import make_order

pytestmark = pytest.mark.django_db


def _django_display(obj, name):
    """``get_<name>_display()`` as Django computes it (``Model._get_FIELD_display``)."""
    return models.Model._get_FIELD_display(obj, obj._meta.get_field(name))


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_choice_labels_are_djangos(language):
    cases = [(Order, "state", [s.value for s in State]), (Order, "channel", ["phone", "email", "online"]),
             (Notification, "kind", [k.value for k in Notification.Kind])]
    with translation.override(language):
        for model, name, values in cases:
            for value in [*values, "no-such-value"]:
                obj = model(**{name: value})
                got = getattr(obj, f"get_{name}_display")()
                assert got == _django_display(obj, name), (model, name, value)
                assert type(got) is str
        # the label follows the language, not the language of the first call
        assert Order(state=State.RECEIVED).get_state_display() == ("已接收" if language == "zh-hans" else "Received")


def test_choice_labels_switch_language_within_a_process():
    order = Order(state=State.SHIPPED)
    with translation.override("en"):
        english = order.get_state_display()
    with translation.override("zh-hans"):
        chinese, djangos = order.get_state_display(), _django_display(order, "state")
    assert english == "Shipped" and chinese != english and chinese == djangos


def test_id_url_is_reverse():
    for pk in (1, 7, 42, 918273645, 10**12):
        assert id_url("orders:detail", pk) == reverse("orders:detail", args=[pk])
        assert id_url("supervision:review_detail", pk) == reverse("supervision:review_detail", args=[pk])
        assert Order(pk=pk).get_absolute_url() == reverse("orders:detail", args=[pk])
    try:
        set_script_prefix("/desk/")  # served under a sub-path: the prefix is part of the link
        assert id_url("orders:detail", 5) == reverse("orders:detail", args=[5]) == "/desk/orders/5/"
    finally:
        set_script_prefix("/")
    assert id_url("orders:detail", 5) == "/orders/5/"
    from django.template import engines

    link = engines["django"].from_string('{% load orderdesk %}{{ pk|id_url:"supervision:review_detail" }}')
    assert link.render({"pk": 12}) == reverse("supervision:review_detail", args=[12])


def test_dashboard_lists_show_what_they_showed(client, sales_manager):
    """The overdue list and the review queue of the dashboard read only a row's columns: number, customer,
    promised or requested date, state label and link, in both languages."""
    import datetime

    from django.utils import timezone

    cast = factories.Cast(sales_manager=sales_manager)
    waiting = make_order("received", cast=cast, submitted=True)
    late = make_order("reviewed", cast=cast)
    Order.objects.filter(pk=late.pk).update(promised_delivery_date=timezone.localdate() - datetime.timedelta(days=3))
    late.refresh_from_db()
    client.force_login(sales_manager)
    for language, label in (("en", "Reviewed"), ("zh-hans", _label("reviewed", "zh-hans"))):
        html = client.get("/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
        overdue = html.split('id="overdue"')[1].split("</section>")[0]
        assert f'<a href="/orders/{late.pk}/">{late.number}</a>' in overdue
        assert f"<td>{late.customer.name}</td>" in overdue
        assert late.promised_delivery_date.isoformat() in overdue
        assert f'<span class="badge state-reviewed">{label}</span>' in overdue
        queue = html.split('data-queue="review"')[1].split("</section>")[0]
        assert f'<a href="/orders/{waiting.pk}/">{waiting.number}</a> · {waiting.customer.name}' in queue
        assert waiting.requested_delivery_date.isoformat() in queue


def _label(state, language):
    with translation.override(language):
        return str(State(state).label)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_money_is_floatformat_2g(language):
    """``money`` writes an amount as ``floatformat:"2g"`` does, the quick way for the database's two places."""
    import random
    from decimal import Decimal

    from django.template.defaultfilters import floatformat

    from orders.templatetags.orderdesk import money

    rng = random.Random(14)
    values = [Decimal("0.00"), Decimal("-0.00"), Decimal("0.01"), Decimal("-0.01"), Decimal("999.99"),
              Decimal("1000.00"), Decimal("-1000.00"), Decimal("1500000.00"), Decimal("123456789012.35"),
              Decimal("1.5"), Decimal("2"), Decimal("2.345"), Decimal("2.355"), 1500000, 12.5, "1234.5"]
    values += [Decimal(rng.randrange(-10**12, 10**12)).scaleb(-2) for _ in range(300)]
    with translation.override(language):
        for value in values:
            assert str(money(value)) == floatformat(value, "2g"), value
        assert money(None) == money("") == "—"
        assert money(Decimal("1500000.00")) == "1,500,000.00"  # grouped in thousands in both languages


@pytest.mark.parametrize("tz", ["Asia/Shanghai", "UTC"])
def test_ymd_filters_are_the_date_filter(settings, tz):
    """``ymd`` and ``ymd_hm`` write what ``date:"Y-m-d"`` and ``date:"Y-m-d H:i"`` write, in the active time zone."""
    import datetime

    from django.template import engines
    from django.utils import timezone

    settings.TIME_ZONE = tz
    engine = engines["django"]
    fast = engine.from_string('{% load orderdesk %}{{ v|ymd }}|{{ v|ymd_hm }}|{{ v|ymd|default:"—" }}')
    slow = engine.from_string('{{ v|date:"Y-m-d" }}|{{ v|date:"Y-m-d H:i" }}|{{ v|date:"Y-m-d"|default:"—" }}')
    utc = datetime.UTC
    moments = [datetime.datetime(2026, 5, 17, 16, 5, tzinfo=utc),  # the next day in Shanghai
               datetime.datetime(2026, 1, 2, 3, 4, 59, tzinfo=utc), datetime.datetime(999, 12, 31, 23, 59),
               timezone.now()]
    with timezone.override(tz):
        for value in moments:
            assert fast.render({"v": value}) == slow.render({"v": value}), value
        for value in (datetime.date(2026, 5, 7), datetime.date(5, 1, 1), None, ""):
            day = engine.from_string('{% load orderdesk %}{{ v|ymd }}|{{ v|ymd|default:"—" }}')
            assert day.render({"v": value}) == engine.from_string(
                '{{ v|date:"Y-m-d" }}|{{ v|date:"Y-m-d"|default:"—" }}').render({"v": value}), value
    assert fast.render({"v": moments[0]}).startswith("2026-05-18|2026-05-18 00:05" if tz == "Asia/Shanghai"
                                                     else "2026-05-17|2026-05-17 16:05")


def _menu(html: str) -> list[tuple[str, str, bool]]:
    import re

    nav = re.search(r'<nav class="mainnav"[^>]*>(.*?)</nav>', html, re.S).group(1)
    return [(href, label, bool(current)) for href, current, label in
            re.findall(r'<a href="([^"]*)"( aria-current="page")?>([^<]*)</a>', nav)]


MENUS = {  # what each role's menu offers, in its order (the pages' menu before it was built from a table)
    "sales_assistant": ["/", "/orders/", "/orders/new/", "/finance/", "/supervision/kpis/"],
    "sales_manager": ["/", "/orders/", "/orders/new/", "/supervision/review/", "/supervision/team/", "/logistics/",
                      "/finance/", "/supervision/kpis/", "/supervision/complaints/", "/supervision/audit/",
                      "/supervision/violations/", "/supervision/losses/", "/supervision/checks/"],
    "production_supervisor": ["/", "/orders/", "/production/", "/production/my/", "/supervision/signoffs/"],
    "production_worker": ["/", "/orders/", "/production/my/"],
    "logistics_specialist": ["/", "/orders/", "/logistics/"],
    "finance_manager": ["/", "/orders/", "/supervision/signoffs/", "/finance/", "/supervision/losses/"],
    "auditor": ["/", "/orders/", "/supervision/review/", "/supervision/team/", "/production/", "/logistics/",
                "/finance/", "/supervision/kpis/", "/supervision/complaints/", "/supervision/audit/",
                "/supervision/violations/", "/supervision/losses/", "/supervision/checks/"],
}


@pytest.mark.parametrize("role", sorted(MENUS))
def test_the_menu_offers_what_the_role_may_open_and_marks_the_page(client, role):
    user = factories.user_with_role(role)
    client.force_login(user)
    for language, orders_label in (("en", "Orders"), ("zh-hans", "订单")):
        menu = _menu(client.get("/", HTTP_ACCEPT_LANGUAGE=language).content.decode())
        assert [href for href, _label, _current in menu] == MENUS[role]
        assert [current for *_x, current in menu] == [True] + [False] * (len(menu) - 1)  # the dashboard is shown
        assert menu[1][1] == orders_label
        orders_page = _menu(client.get("/orders/", HTTP_ACCEPT_LANGUAGE=language).content.decode())
        assert [href for href, _label, current in orders_page if current] == ["/orders/"]
    # staff see the admin last; nobody else does
    user.is_staff = True
    user.save()
    assert _menu(client.get("/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode())[-1][:2] == ("/admin/", "后台管理")


def test_the_menu_is_not_shown_to_anonymous_visitors(client):
    assert 'class="mainnav"' not in client.get("/accounts/login/").content.decode()


# The field row as the pages wrote it with an included template, before `field_row` (the oracle of the tag).
FIELD_TEMPLATE = """{% load i18n %}<div class="field{% if field.errors %} has-error{% endif %}{% if field.field.widget.input_type == 'checkbox' %} checkbox{% endif %}{% if wide %} wide{% endif %}">
  {% if field.field.widget.input_type == "checkbox" %}
  <label for="{{ field.id_for_label }}">{{ field }} <span>{{ field.label }}</span></label>
  {% else %}
  <label for="{{ field.id_for_label }}">{{ field.label }}{% if field.field.required %} <span class="required-mark" title="{% translate 'required' %}">*</span>{% endif %}</label>
  {{ field }}
  {% endif %}
  {% if field.help_text %}<div class="help">{{ field.help_text }}</div>{% endif %}
  {{ field.errors }}
</div>"""


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_field_row_writes_what_the_field_template_wrote(language):
    """Every kind of field (text, choice, checkbox, date, file, help text, required or not, with errors, wide) comes
    out as the template wrote it, up to blank space."""
    import re

    from django import forms
    from django.template import engines

    class Sample(forms.Form):
        name = forms.CharField(label="Name <b>", help_text="Help & more", max_length=5)
        kind = forms.ChoiceField(choices=[("a", "A's"), ("b", "B")])
        agree = forms.BooleanField(label="I agree", required=False)
        day = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
        note = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
        scan = forms.FileField(required=False)

    engine = engines["django"]
    old = engine.from_string(FIELD_TEMPLATE)
    new = engine.from_string("{% load orderdesk %}{% field_row field %}")
    wide = engine.from_string("{% load orderdesk %}{% field_row field wide=True %}")

    def same(a: str, b: str) -> str:
        squeeze = lambda s: re.sub(r">\s+<", "><", re.sub(r"\s+", " ", s)).strip()  # noqa: E731
        return squeeze(a) == squeeze(b)

    with translation.override(language):
        for form in (Sample(), Sample(data={"name": "far too long", "kind": "z", "agree": "on"}), Sample(data={})):
            form.is_valid()
            for field in form:
                assert same(old.render({"field": field}), new.render({"field": field})), field.name
                assert same(old.render({"field": field, "wide": True}), wide.render({"field": field})), field.name
        bound = Sample(data={"name": "far too long"})
        assert 'class="field has-error"' in new.render({"field": bound["name"]})
        assert "Name &lt;b&gt;" in new.render({"field": bound["name"]})
    assert engine.from_string("{% load orderdesk %}{% field_row missing %}").render({}) == ""


def test_the_form_renderer_uses_djangos_jinja2_widgets_and_falls_back_for_the_rest():
    """Django's widget templates are rendered from its Jinja2 copies (the same elements and attributes as its own
    template language's); a template only Django's template language has (the admin's widgets) still renders."""
    import re

    from django import forms
    from django.contrib.admin.widgets import AdminDateWidget, RelatedFieldWidgetWrapper
    from django.forms.renderers import DjangoTemplates, get_default_renderer
    from django.template.backends.jinja2 import Template as JinjaTemplate

    from orderdesk.form_renderer import FormRenderer

    renderer = get_default_renderer()
    assert isinstance(renderer, FormRenderer)
    assert isinstance(renderer.get_template("django/forms/widgets/select.html"), JinjaTemplate)

    class Sample(forms.Form):
        kind = forms.ChoiceField(choices=[("a", "A"), ("b", "B & C")], initial="b")
        text = forms.CharField(max_length=9, widget=forms.TextInput(attrs={"placeholder": "say \"hi\""}))
        flag = forms.BooleanField(required=False)
        when = forms.DateField(widget=AdminDateWidget())  # an admin widget: Django's templates

    def squeeze(s):
        s = re.sub(r"\s+", " ", str(s)).replace("&#34;", "&quot;").replace("&#39;", "&#x27;")
        return re.sub(r">\s+<", "><", s).strip()

    fast, slow = Sample(renderer=renderer), Sample(renderer=DjangoTemplates())
    for name in ("kind", "text", "flag", "when"):
        assert squeeze(fast[name]) == squeeze(slow[name]), name
    assert 'class="vDateField"' in str(fast["when"])
    assert renderer.get_template("admin/widgets/related_widget_wrapper.html") is not None
    assert RelatedFieldWidgetWrapper.template_name == "admin/widgets/related_widget_wrapper.html"
