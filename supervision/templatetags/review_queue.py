"""The review queue's rows (``{% review_rows rows may_approve %}``, issue 14).

A page of the queue is 50 rows of eight cells and up to six badges each: written through the template language that
was ~25 nodes a row and about a quarter of the page's time. Here each row is one ``format_html`` with the same
markup the template wrote (its oracle is kept in ``tests/supervision/test_review_rows.py``); every text is escaped
as the template escaped it, and the labels are translated once per page.
"""

from __future__ import annotations

from django import template
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext

from orders.templatetags.orderdesk import id_url, money, who, ymd, ymd_hm

register = template.Library()

ROW = ('<tr data-order="{number}" class="{state}">\n        {select}<td><a href="{url}">{number}</a></td>\n'
       '        <td>{customer}</td>\n        <td>{assistant}</td>\n        <td class="nowrap">{submitted}</td>\n'
       '        <td class="num">{total}</td>\n        <td class="nowrap">{requested}</td>\n'
       '        <td>\n          {badges}\n        </td>\n      </tr>')


@register.simple_tag
def review_rows(rows, may_approve):
    """The ``<tr>`` of each queue row (``rows``: :func:`supervision.selectors.review.review_queue_page`'s)."""
    from django.utils.timezone import template_localtime

    labels = {
        "ready": gettext("Ready to approve"), "pending": gettext("Joint review pending from"),
        "objection": gettext("Objection from"), "over": gettext("Credit over limit"),
        "own": gettext("You created it: another manager approves"),
    }
    out = []
    for row in rows:
        order = row["order"]
        badges = []
        if row["clean"]:
            badges.append(format_html('<span class="badge badge-ok">{}</span>', labels["ready"]))
        if row["waiting_for"]:
            badges.append(format_html('<span class="badge badge-warning need-joint">{} {}</span>', labels["pending"],
                                      ", ".join(str(d) for d in row["waiting_for"])))
        if row["objections"]:
            badges.append(format_html('<span class="badge badge-danger">{} {}</span>', labels["objection"],
                                      ", ".join(str(d) for d in row["objections"])))
        if row["credit_over"]:
            badges.append(format_html('<span class="badge badge-danger need-credit">{}</span>', labels["over"]))
        if not row["date_feasible"]:
            badges.append(format_html(
                '<span class="badge badge-warning need-date">{}</span>',
                gettext("Date not feasible (earliest %(date)s)") % {"date": ymd(row["ctp_date"])}))
        if row["self_created"]:
            badges.append(format_html('<span class="badge">{}</span>', labels["own"]))
        select = ""
        if may_approve:
            select = format_html(
                '<td><input type="checkbox" name="orders" value="{}" aria-label="{}"></td>\n        ', order.pk,
                gettext("Select %(number)s") % {"number": order.number}) if row["clean"] else \
                mark_safe("<td></td>\n        ")
        submitted = template_localtime(order.submitted_at)  # as a template shows a moment: in the active zone
        out.append(format_html(
            ROW, number=order.number, state="clean" if row["clean"] else "needs", select=select,
            url=id_url(order.pk, "supervision:review_detail"), customer=order.customer.name,
            assistant=who(order.assistant), submitted=ymd_hm(submitted), total=money(order.total_amount),
            requested=ymd(order.requested_delivery_date), badges=mark_safe("\n          ".join(badges))))
    return mark_safe("\n      ".join(out))
