"""Demo data of supervision, called by ``seed_demo`` (idempotent): one periodic check sample (R6.1)."""

from __future__ import annotations

import datetime

from django.contrib.auth import get_user_model
from django.utils import timezone

from orderdesk.errors import ServiceError
from supervision import services
from supervision.models import PeriodicCheck

DEMO_SEED = 20260401


def seed(stdout=None) -> PeriodicCheck | None:
    """Draw the demo periodic check of `sales_assistant` by `sales_manager` (seed 20260401) once, with two outcomes."""
    User = get_user_model()
    manager = User.objects.filter(username="sales_manager").first()
    assistant = User.objects.filter(username="sales_assistant").first()
    if manager is None or assistant is None:
        if stdout:
            stdout.write("supervision: no sales_manager / sales_assistant yet; periodic check skipped")
        return None
    existing = PeriodicCheck.objects.filter(assistant=assistant, seed=DEMO_SEED).first()
    if existing:
        return existing
    today = timezone.localdate()
    try:
        check = services.create_periodic_check(
            user=manager, assistant_id=assistant.pk, period_start=today - datetime.timedelta(days=90),
            period_end=today, sample_size=5, seed=DEMO_SEED,
        )
    except ServiceError as exc:
        if stdout:
            stdout.write(f"supervision: periodic check skipped ({exc.detail})")
        return None
    items = list(check.items.order_by("id"))
    if items:
        services.record_check_outcome(user=manager, item_id=items[0].pk, outcome="correct")
    if len(items) > 1:
        services.record_check_outcome(user=manager, item_id=items[1].pk, outcome="error",
                                      error_description="Delivery address missing the building number.",
                                      loss_amount="350.00")
    if stdout:
        stdout.write(f"supervision: periodic check of {assistant.username} with {len(items)} orders (seed {DEMO_SEED})")
    return check


SURVEY_ANSWERS = [(5, 5, 4, 5), (4, 4, 4, 4), (5, 4, 5, 5), (3, 3, 2, 4), (4, 5, 3, 4), (2, 3, 1, 3), (5, 5, 5, 4)]


def seed_customers_voice(stdout=None) -> None:
    """Customers' voice in the demo (issue 12), once: the assistants' work phones, most questionnaires
    answered (several questions each), phone follow-ups, a complaint filed by a customer on the tracking page
    resolved and closed, another still open, and a confirmed loss incident."""
    from django.db.models import Q

    from feedback import services as feedback_services
    from feedback.models import Complaint, FollowUp, Survey
    from orderdesk.models import StaffProfile
    from orders.models import Order

    User = get_user_model()
    users = {u.username: u for u in User.objects.filter(username__in=[
        "sales_assistant", "sales_assistant2", "sales_manager"])}
    if len(users) < 3:
        return
    for name, phone in (("sales_assistant", "021-5555 0101"), ("sales_assistant2", "021-5555 0102")):
        StaffProfile.objects.get_or_create(user=users[name], defaults={"phone": phone})
    if FollowUp.objects.filter(recorded_by__in=users.values()).exists():
        return  # seeded before
    surveys = list(Survey.objects.filter(answered_at__isnull=True).select_related("order").order_by("id"))
    keep_open = surveys[-1:] if len(surveys) > 3 else []  # one invitation left unanswered (the reminder)
    answered = 0
    for i, survey in enumerate(s for s in surveys if s not in keep_open):
        overall, quality, punctuality, communication = SURVEY_ANSWERS[i % len(SURVEY_ANSWERS)]
        feedback_services.answer_survey(
            token=feedback_services.survey_token(survey.order), score=overall,
            comment="" if overall >= 4 else "交货比约定晚了几天。",
            answers_given={"quality": quality, "punctuality": punctuality, "communication": communication},
        )
        answered += 1
    delivered = list(Order.objects.filter(Q(state="accepted") | Q(state="settled")).select_related("assistant")
                     .order_by("id")[:6])
    for i, order in enumerate(delivered):
        feedback_services.record_followup(
            user=order.assistant, order_id=order.pk, score=(5, 4, 3, 5, 4, 2)[i],
            summary=("客户对交货和质量都很满意。", "包装可以更结实一些。", "希望提前通知发货时间。",
                     "客户表示会再次下单。", "发票信息已核对无误。", "客户抱怨交期延误。")[i],
        )
    shipped = Order.objects.filter(state__in=["shipped", "producing"]).order_by("id").first()
    if shipped is not None and not Complaint.objects.filter(order=shipped).exists():
        complaint = feedback_services.file_customer_complaint(
            order_id=shipped.pk, kind="complaint", description="上一批货的包装箱有破损，请这次加固包装。")
        manager = users["sales_manager"]
        feedback_services.handle_complaint(user=manager, complaint_id=complaint.pk, status="in_progress")
        feedback_services.handle_complaint(user=manager, complaint_id=complaint.pk, status="resolved",
                                           resolution="已通知物流部门对本批货物加装木托和缠绕膜，并补发破损配件。")
        feedback_services.handle_complaint(user=manager, complaint_id=complaint.pk, status="closed")
        feedback_services.file_customer_complaint(order_id=shipped.pk, kind="suggestion",
                                                  description="希望发货时能短信通知收货人。")
    if delivered:
        loss = services.report_loss(user=users["sales_manager"], order_id=delivered[0].pk,
                                    cause="录入时把交货地址的楼号写错，货物被退回重发。", amount="860.00",
                                    responsible_id=delivered[0].assistant_id,
                                    corrective_action="接单核对清单增加地址逐项复核。")
        services.decide_loss(user=users["sales_manager"], loss_id=loss.pk, decision="confirmed")
    if stdout:
        stdout.write(f"feedback: {answered} of {len(surveys)} questionnaires answered, {len(delivered)} follow-ups")
