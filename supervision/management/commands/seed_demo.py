"""Demo data (DESIGN §6): users of every role, customers, products, workshops and orders in every state.

Idempotent: users, customers, products and workshops are created when missing
(existing ones are left as they are; passwords are reset only with
``--reset-passwords``); the demo orders are created only if no order created by a
demo user exists yet. Running it twice changes nothing the second time.

Every order is built through the real services, acting as the demo user of the
right role: :func:`orders.services.create_order`, :func:`orders.services.run_transition`
and the production, logistics and finance services. So every record, history
row and notification is what the application itself would have written. The one
exception is dates (see :func:`_backdate`): some orders must be overdue, which the
services rightly refuse to create, so they are built as of today and then their
date fields are moved into the past.

It lives in `supervision`, the top layer (issue 8): it builds on every app, and no lower app may import
a higher one (``tests/test_architecture.py``). The command's name is unchanged.

Notifications: by default the Celery tasks queued by the services run in this
process (``task_always_eager``), right after each commit, so the demo has its
notifications at once and never touches a broker (seeding cannot hang on an
unreachable one). ``--queue-notifications`` queues them to the configured broker
instead, for a worker to deliver (with the default embedded broker they wait
in ``var/celery-broker.sqlite3``; an unreachable broker costs Celery's publish retries per
message, each failure logged and skipped by :func:`orders.services.enqueue`).
"""

from __future__ import annotations

import datetime
import logging
import math
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction
from django.db.models import Count, F
from django.test.utils import override_settings
from django.utils import timezone

from finance import services as finance
from logistics import services as logistics
from orderdesk.roles import ROLES, Role
from orders import services
from orders.models import Customer, Order, Product, State
from production import services as production
from production.models import Milestone, ProductionPlan, Workshop

User = get_user_model()

# username, roles, family name, given name
USERS: list[tuple[str, tuple[str, ...], str, str]] = [
    ("sales_assistant", (Role.SALES_ASSISTANT,), "李", "娜"),
    ("sales_assistant2", (Role.SALES_ASSISTANT,), "陈", "晨"),
    ("sales_manager", (Role.SALES_MANAGER,), "王", "强"),
    ("production_supervisor", (Role.PRODUCTION_SUPERVISOR,), "张", "伟"),
    ("production_worker", (Role.PRODUCTION_WORKER,), "刘", "洋"),
    ("logistics_supervisor", (Role.LOGISTICS_SUPERVISOR,), "赵", "磊"),
    ("logistics_specialist", (Role.LOGISTICS_SPECIALIST,), "孙", "丽"),
    ("finance_manager", (Role.FINANCE_MANAGER,), "周", "敏"),
    ("finance_specialist", (Role.FINANCE_SPECIALIST,), "吴", "静"),
    ("auditor", (Role.AUDITOR,), "郑", "华"),
]
ADMIN = ("admin", "管理员", "系统")
DEMO_USERNAMES = [u[0] for u in USERS] + [ADMIN[0]]
EMAIL_DOMAIN = "orderdesk.example.com"

# code, name, contact, phone, email, address, credit limit, key account, language
CUSTOMERS = [
    (
        "C001",
        "华东重工机械有限公司",
        "陈建国",
        "13800138001",
        "purchase@hdzg.example.com",
        "上海市浦东新区张江路 88 号",
        "5000000.00",
        True,
        "zh-hans",
    ),
    (
        "C002",
        "深圳精密电子有限公司",
        "黄晓明",
        "13900139002",
        "caigou@szjm.example.com",
        "广东省深圳市南山区科技园南区 12 栋",
        "800000.00",
        False,
        "zh-hans",
    ),
    (
        "C003",
        "北京城建装备集团",
        "马立新",
        "13700137003",
        "equipment@bjcj.example.com",
        "北京市朝阳区建国路 66 号",
        "2000000.00",
        False,
        "zh-hans",
    ),
    (
        "C004",
        "成都小微贸易商行",
        "杨小川",
        "13600136004",
        "yang@cdxw.example.com",
        "四川省成都市武侯区人民南路 4 段 9 号",
        "50000.00",
        False,
        "zh-hans",
    ),
    (
        "C005",
        "Global Parts Trading Ltd.",
        "Emily Wong",
        "+852 2123 4567",
        "buying@globalparts.example.com",
        "18/F, Harbour Centre, 25 Harbour Road, Wan Chai, Hong Kong",
        "1000000.00",
        False,
        "en",
    ),
    (
        "C007",
        "宁波港口设备有限公司",
        "郑海",
        "13600136007",
        "caigou@nbgk.example.com",
        "浙江省宁波市北仑区明州路 66 号",
        "3000000.00",
        False,
        "zh-hans",
    ),
    (
        "C006",
        "苏州新材料科技有限公司",
        "徐静",
        "13500135006",
        "supply@szxcl.example.com",
        "江苏省苏州市工业园区星湖街 328 号",
        "1500000.00",
        False,
        "zh-hans",
    ),
]

# Payment terms (issue 11): name, description, installments (percent, trigger, days). The first customer by
# code (C001) keeps none, so the invoices of the §6 walk are typed by hand; C007 pays a deposit.
TERMS = [
    ("30% 预付款，70% 验收后 30 天", "30% deposit on approval, 70% 30 days after acceptance",
     [("30", "approval", 0), ("70", "acceptance", 30)]),
    ("发货前付清", "100% before shipment: 50% before production, 50% on shipment",
     [("50", "before_production", 7), ("50", "shipment", 0)]),
    ("验收后 60 天", "100% 60 days after acceptance", [("100", "acceptance", 60)]),
]
TERMS_OF_CUSTOMER = {"C007": 0}

# sku, name, standard specification, unit, standard price, lead time (days)
PRODUCTS = [
    ("P-100", "液压泵 HP-200", "额定压力 21 MPa，排量 200 mL/r", "台", "12500.00", 21),
    ("P-110", "齿轮减速机 GR-50", "速比 1:50，输入功率 7.5 kW", "台", "8600.00", 14),
    ("P-120", "轴承座 UCP-208", "铸铁 HT200，孔径 40 mm", "件", "320.00", 7),
    ("P-130", "电气控制柜 EC-3", "IP54，PLC 控制，380 V", "台", "45000.00", 30),
    ("P-140", "钢结构框架 SF-12", "Q355B，热镀锌，12 m 跨度", "套", "18000.00", 21),
    ("P-150", "输送带模块 CB-1200", "带宽 1200 mm，耐磨橡胶", "米", "2400.00", 10),
    ("P-160", "不锈钢球阀 DN50", "304 不锈钢，PN16，法兰连接", "个", "950.00", 7),
    ("P-170", "数控夹具 CF-8", "液压夹紧，定位精度 ±0.01 mm", "套", "5200.00", 14),
]

# code, name, capacity
WORKSHOPS = [
    ("W1", "机加工车间", 6),
    ("W2", "装配车间", 5),
    ("W3", "焊接车间", 4),
]


@dataclass
class Demo:
    """What the order builders need: the demo users by username, customers by code, products by SKU."""

    users: dict
    customers: dict
    products: dict
    workshops: dict
    today: datetime.date = field(default_factory=timezone.localdate)

    def u(self, name):
        return self.users[name]

    def day(self, n: int) -> datetime.date:
        return self.today + datetime.timedelta(days=n)


class Command(BaseCommand):
    help = "Create the demo users, reference data and orders in every state (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--reset-passwords",
            action="store_true",
            help="Set every demo user's password to DEMO_PASSWORD, also for existing users.",
        )
        parser.add_argument(
            "--queue-notifications",
            action="store_true",
            help="Queue the notification tasks to the broker instead of running them here.",
        )

    def handle(self, *args, **options):
        from orderdesk.celery import app

        started = timezone.now()
        eager_before = app.conf.task_always_eager
        if not options["queue_notifications"]:
            app.conf.task_always_eager = True
        # one log line per notification task (and kombu's default-host note) would drown the summary
        quiet = {name: logging.getLogger(name) for name in ("celery.app.trace", "kombu.connection")}
        levels = {name: logger.level for name, logger in quiet.items()}
        for logger in quiet.values():
            logger.setLevel(logging.ERROR)
        # The demo's notification e-mails are delivered to memory: seeding must not flood the console
        # (the default e-mail backend) with a hundred messages nobody asked for.
        mail = override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend")
        mail.enable()
        try:
            with transaction.atomic():
                users = self._users(reset_passwords=options["reset_passwords"])
                customers = self._customers()
                self._terms(users["finance_manager"], customers)
                products = self._products()
                workshops = self._workshops(users["production_supervisor"])
            demo = Demo(users=users, customers=customers, products=products, workshops=workshops)
            if Order.objects.filter(created_by__username__in=DEMO_USERNAMES).exists():
                self.stdout.write("Demo orders exist already; none created.")
            else:
                with transaction.atomic():
                    count = build_orders(demo)
                self.stdout.write(self.style.SUCCESS(f"Created {count} demo orders."))
            # the scheduled checks run once now, so the dashboards show the overdue and at-risk orders
            from orders.checks import run_checks

            run_checks()
            # the manager's periodic check sample (R6.1) draws from the demo orders
            from supervision import demo as supervision_demo

            with transaction.atomic():
                supervision_demo.seed(self.stdout)
            # customers' voice (issue 12): surveys mostly answered, follow-ups, a complaint to closure, a loss
            with transaction.atomic():
                supervision_demo.seed_customers_voice(self.stdout)
        finally:
            mail.disable()
            app.conf.task_always_eager = eager_before
            for name, logger in quiet.items():
                logger.setLevel(levels[name])
        self._summary(started)

    # --- reference data ---------------------------------------------------------------
    def _users(self, *, reset_passwords: bool) -> dict:
        groups = {g.name: g for g in Group.objects.filter(name__in=ROLES)}
        missing = set(ROLES) - set(groups)
        for name in sorted(missing):  # the migration creates them; a flushed database may lack them
            groups[name] = Group.objects.create(name=name)
        password = make_password(settings.DEMO_PASSWORD)  # hashed once: the same password for every demo user
        users = {}
        specs = [(name, role_names, family, given, False) for name, role_names, family, given in USERS]
        specs.append((ADMIN[0], (), ADMIN[2], ADMIN[1], True))
        created_names = []
        for username, role_names, family, given, is_superuser in specs:
            user, created = User.objects.get_or_create(
                username=username,
                defaults={
                    # Chinese names read family name first, without a space: keep the whole name in
                    # first_name so Django's get_full_name() ("first last") shows it right.
                    "first_name": f"{family}{given}",
                    "last_name": "",
                    "email": f"{username}@{EMAIL_DOMAIN}",
                    "is_staff": True,
                    "is_superuser": is_superuser,
                    "password": password,
                },
            )
            changed = []
            if created:
                created_names.append(username)
            elif reset_passwords:
                user.password = password
                changed.append("password")
            for attr, value in (("is_staff", True), ("is_active", True)) + (
                (("is_superuser", True),) if is_superuser else ()
            ):
                if getattr(user, attr) != value:
                    setattr(user, attr, value)
                    changed.append(attr)
            if changed:
                user.save(update_fields=changed)
            have = set(user.groups.values_list("name", flat=True))
            for role in role_names:
                if role not in have:
                    user.groups.add(groups[role])
            users[username] = User.objects.get(pk=user.pk)  # fresh: no cached roles
        if created_names:
            self.stdout.write(f"Created users: {', '.join(created_names)}")
        return users

    def _customers(self) -> dict:
        result = {}
        for code, name, contact, phone, email, address, limit, key, language in CUSTOMERS:
            result[code], _ = Customer.objects.get_or_create(
                code=code,
                defaults={
                    "name": name,
                    "contact_name": contact,
                    "contact_phone": phone,
                    "email": email,
                    "address": address,
                    "credit_limit": Decimal(limit),
                    "is_key_account": key,
                    "language": language,
                },
            )
        return result

    def _terms(self, manager, customers) -> list:
        from finance.models import PaymentTerms

        found = []
        for name, description, installments in TERMS:
            terms = PaymentTerms.objects.filter(name=name).first() or finance.create_terms(
                user=manager, name=name, description=description,
                installments=[{"percent": p, "trigger": t, "days": d} for p, t, d in installments],
            )
            found.append(terms)
        for code, index in TERMS_OF_CUSTOMER.items():
            customer = customers[code]
            if customer.payment_terms_id is None:
                finance.set_customer_terms(user=manager, customer=customer, terms=found[index])
        return found

    def _products(self) -> dict:
        result = {}
        for sku, name, spec, unit, price, lead in PRODUCTS:
            result[sku], _ = Product.objects.get_or_create(
                sku=sku,
                defaults={
                    "name": name,
                    "specification": spec,
                    "unit": unit,
                    "standard_price": Decimal(price),
                    "lead_time_days": lead,
                },
            )
        return result

    def _workshops(self, supervisor) -> dict:
        result = {}
        for code, name, capacity in WORKSHOPS:
            result[code], _ = Workshop.objects.get_or_create(
                code=code,
                defaults={"name": name, "supervisor": supervisor, "capacity": capacity},
            )
        return result

    # --- summary --------------------------------------------------------------------
    def _summary(self, started):
        by_state = {row["state"]: row["n"] for row in Order.objects.order_by().values("state").annotate(n=Count("id"))}
        overdue = (
            Order.objects.filter(promised_delivery_date__lt=timezone.localdate())
            .exclude(state__in=[State.ACCEPTED, State.SETTLED, State.CANCELLED])
            .count()
        )
        self.stdout.write("")
        self.stdout.write(
            "Orders by state: "
            + ", ".join(f"{s.value} {by_state.get(s.value, 0)}" for s in State)
            + f"; overdue {overdue}"
        )
        self.stdout.write(f"Demo logins (password: {settings.DEMO_PASSWORD!r} unless changed since):")
        for username in DEMO_USERNAMES:
            user = User.objects.filter(username=username).prefetch_related("groups").first()
            if user is None:
                continue
            role = "superuser" if user.is_superuser else ", ".join(g.name for g in user.groups.all())
            self.stdout.write(f"  {username:<24} {user.get_full_name():<8} {role}")
        self.stdout.write(
            f"Pages: / · Admin: /admin/ · API: /api/v1/ · done in {(timezone.now() - started).total_seconds():.1f} s"
        )


# --- the demo orders, through the services ------------------------------------------------
def _line(demo: Demo, sku: str, quantity, *, spec: str = "", price=None) -> dict:
    product = demo.products[sku]
    return {
        "product": product,
        "specification": spec or product.specification,
        "quantity": Decimal(quantity),
        "unit_price": Decimal(price) if price is not None else product.standard_price,
    }


def _new(
    demo: Demo,
    assistant: str,
    customer: str,
    lines: list[dict],
    *,
    days: int = 45,
    channel: str = "phone",
    special_terms: str = "",
) -> Order:
    c = demo.customers[customer]
    lead = max(line["product"].lead_time_days for line in lines)
    return services.create_order(
        user=demo.u(assistant),
        customer=c,
        channel=channel,
        contact_name=c.contact_name or c.name,
        contact_phone=c.contact_phone or "-",
        delivery_address=c.address or c.name,
        requested_delivery_date=demo.day(max(days, lead + 5)),
        lines=lines,
        special_terms=special_terms,
    )


def _go(demo: Demo, order: Order, user: str, name: str, comment: str = "", **data) -> Order:
    return services.run_transition(
        user=demo.u(user),
        order_id=order.pk,
        name=name,
        comment=comment,
        data={k: (v.isoformat() if isinstance(v, datetime.date) else v) for k, v in data.items()},
    )


def _submit(demo, order):
    return _go(demo, order, order.assistant.username, "submit", "要素齐全，已与客户确认规格和交期。")


def _approve(demo, order):
    if order.requires_joint_review:
        # joint review (R4.2): finance and production sign off first
        for user in ("finance_manager", "production_supervisor"):
            services.record_signoff(
                user=demo.u(user), order_id=order.pk, decision="approve", comment="同意，条款与产能均可满足。"
            )
    return _go(demo, order, "sales_manager", "approve", "信用与销售策略审核通过。")


def _schedule(demo, order, workshop="W1"):
    promised = Order.objects.get(pk=order.pk).promised_delivery_date
    span = (promised - demo.today).days
    # R4.3: the assistant hands the approved order over to production, with a note on priorities
    production.hand_over(
        user=Order.objects.get(pk=order.pk).assistant, order_id=order.pk, workshop=demo.workshops[workshop],
        note="客户关注交期，请优先安排。" if span < 40 else "常规排产。",
    )
    production.create_plan(
        user=demo.u("production_supervisor"),
        order_id=order.pk,
        workshop=demo.workshops[workshop],
        milestones=[
            {"name": "备料完成", "due_date": demo.day(max(1, span // 4)), "responsible": demo.u("production_worker")},
            {"name": "加工完成", "due_date": demo.day(max(2, span // 2)), "responsible": demo.u("production_worker")},
            {
                "name": "总装与出厂检验",
                "due_date": demo.day(max(3, span - 5)),
                "responsible": demo.u("production_supervisor"),
            },
        ],
    )
    return _go(demo, order, "production_supervisor", "schedule", "计划已排定，责任人已确认。")


def _start(demo, order):
    plan = ProductionPlan.objects.get(order=order)
    production.update_readiness(
        user=demo.u("production_supervisor"), plan_id=plan.pk, materials_ready=True, equipment_ready=True
    )
    return _go(demo, order, "production_supervisor", "start_production", "物料与设备就绪，开工。")


def _complete_milestones(demo, order, count=None):
    """The first `count` open milestones (all when None) completed by their responsible person."""
    open_ones = list(Milestone.objects.filter(plan__order=order, done_at__isnull=True).select_related("responsible"))
    for milestone in open_ones[:count]:
        production.complete_milestone(user=milestone.responsible, milestone_id=milestone.pk, note="按计划完成。")


def _progress(demo, order, *percents_and_notes):
    for percent, note in percents_and_notes:
        production.report_progress(
            user=demo.u("production_worker"), order_id=order.pk, percent_complete=percent, note=note
        )


def _ship(demo, order, carrier, tracking, events=()):
    _complete_milestones(demo, order)
    _progress(demo, order, (100, "生产完成，出厂检验合格。"))
    shipment = logistics.create_shipment(
        user=demo.u("logistics_specialist"),
        order_id=order.pk,
        carrier=carrier,
        tracking_number=tracking,
        expected_arrival=demo.day(3),
    )
    order = _go(demo, order, "logistics_supervisor", "ship", f"{carrier} 运单 {tracking} 已发出。")
    for status, location, note in events:
        logistics.add_event(
            user=demo.u("logistics_specialist"), shipment_id=shipment.pk, status=status, location=location, note=note
        )
    return order


def _accept(demo, order, signer):
    return _go(
        demo,
        order,
        order.assistant.username,
        "accept",
        "客户验收合格，签收单已回传。",
        signed_by=signer,
        signed_on=demo.today,
        receipt_reference=f"签收单 {order.number}",
    )


def _invoice(demo, order, *, pay: bool):
    invoice = finance.create_invoice(
        user=demo.u("finance_specialist"), order_id=order.pk, amount=order.total_amount, due_date=demo.day(30)
    )
    if pay:
        finance.record_payment(
            user=demo.u("finance_specialist"),
            invoice_id=invoice.pk,
            amount=invoice.amount,
            received_on=demo.today,
            reference=f"银行回单 {order.number}",
        )
    return invoice


def _pay_drawn(demo, order, trigger: str, amount=None):
    """Pay an invoice drawn from the order's terms (all of it, or `amount`)."""
    invoice = order.invoices.get(trigger=trigger)
    return finance.record_payment(
        user=demo.u("finance_specialist"), invoice_id=invoice.pk, amount=Decimal(amount or invoice.outstanding),
        received_on=demo.today, reference=f"银行回单 {order.number}-{trigger}",
    )


def build_terms_orders(demo: Demo) -> list:
    """Orders of a customer with terms (C007: 30% deposit on approval, 70% 30 days after acceptance): the
    invoices are drawn by the transitions, the deposit gates production (issue 11)."""
    a1, a2 = "sales_assistant", "sales_assistant2"
    made = []
    # scheduled, waiting for the deposit: production cannot start yet (deposit_unpaid)
    o = _new(demo, a1, "C007", [_line(demo, "P-150", 20)], days=50)
    _submit(demo, o)
    _approve(demo, o)
    _schedule(demo, o, "W2")
    plan = ProductionPlan.objects.get(order=o)
    production.update_readiness(user=demo.u("production_supervisor"), plan_id=plan.pk, materials_ready=True,
                                equipment_ready=True)
    made.append(o)
    # accepted: deposit paid, balance drawn on acceptance and paid in part
    o = _new(demo, a2, "C007", [_line(demo, "P-110", 6)], days=40)
    _submit(demo, o)
    _approve(demo, o)
    _pay_drawn(demo, Order.objects.get(pk=o.pk), "approval")
    _schedule(demo, o, "W1")
    _start(demo, o)
    _ship(demo, o, "顺丰速运", f"SF{o.pk:08d}77", [("delivered", "宁波", "已签收。")])
    _accept(demo, o, "郑海")
    _pay_drawn(demo, Order.objects.get(pk=o.pk), "acceptance", amount="10000.00")
    made.append(o)
    return made


def _through_production(demo, order, workshop="W1"):
    _submit(demo, order)
    _approve(demo, order)
    _schedule(demo, order, workshop)
    _start(demo, order)


def _backdate(order: Order, *, created_days_ago: int, promised_days_ago: int | None = None) -> None:
    """Move an order's dates into the past (demo data only; its state is never touched).

    The services refuse past dates (a requested date before today, a milestone
    due yesterday), as they should, so an overdue demo order is built as of today
    and then its date fields are shifted with a queryset ``update()``: the
    creation time, and for ``promised_days_ago`` the requested and promised dates
    together with its plan's milestones, by the same number of days, so the plan
    still ends by the promise.
    """
    now = timezone.now()
    Order.objects.filter(pk=order.pk).update(created_at=now - datetime.timedelta(days=created_days_ago, hours=3))
    if promised_days_ago is None:
        return
    promised = Order.objects.values_list("promised_delivery_date", flat=True).get(pk=order.pk)
    shift = datetime.timedelta(days=(promised - timezone.localdate()).days + promised_days_ago)
    Order.objects.filter(pk=order.pk).update(
        promised_delivery_date=F("promised_delivery_date") - shift,
        requested_delivery_date=F("requested_delivery_date") - shift,
    )
    Milestone.objects.filter(plan__order=order).update(due_date=F("due_date") - shift)


def _age(order: Order, *, days: int, review_hours: int, late_days: int = 0) -> None:
    """Move a finished demo order, with every record of its history, `days` into the past.

    Demo data only: the KPIs and charts of the supervision pages (R6.3) need orders
    that were finished in earlier months, and the services (rightly) record
    everything at the present moment. So a history order is built through the
    services today and then every timestamp and date it owns is shifted back by
    the same amount with queryset ``update()`` calls; its state is never touched.
    The submission is moved a further `review_hours` back (review turnaround), and
    the promised date is set `late_days` before the acceptance (0: delivered on
    the promised day).
    """
    from django.contrib.contenttypes.models import ContentType
    from django_fsm_log.models import StateLog

    from finance.models import Invoice, Payment
    from logistics.models import Shipment, ShipmentEvent
    from notifications.models import EmailOutbox, Notification
    from orders.models import Clarification, Communication, OrderChange, PromiseChange, Signoff
    from production.models import ProductionIssue, ProgressReport

    back = datetime.timedelta(days=days)
    review = datetime.timedelta(hours=review_hours)
    logs = StateLog.objects.filter(content_type=ContentType.objects.get_for_model(Order), object_id=order.pk)
    logs.update(timestamp=F("timestamp") - back)
    logs.filter(transition="submit").update(timestamp=F("timestamp") - review)
    Order.objects.filter(pk=order.pk).update(
        created_at=F("created_at") - back - review,
        submitted_at=F("submitted_at") - back - review,
        first_submitted_at=F("first_submitted_at") - back - review,
        approved_at=F("approved_at") - back,
        accepted_at=F("accepted_at") - back,
        settled_at=F("settled_at") - back,
        receipt_signed_on=F("receipt_signed_on") - back,
    )
    accepted_on = timezone.localtime(Order.objects.values_list("accepted_at", flat=True).get(pk=order.pk)).date()
    promised = accepted_on - datetime.timedelta(days=late_days)
    Order.objects.filter(pk=order.pk).update(promised_delivery_date=promised, requested_delivery_date=promised)
    plan_finish = Milestone.objects.filter(plan__order=order).order_by("-due_date").values_list("due_date", flat=True)
    if plan_finish:
        shift = plan_finish[0] - promised + datetime.timedelta(days=3)
        Milestone.objects.filter(plan__order=order).update(due_date=F("due_date") - shift)
    for model, fields in (
        (OrderChange, ("at",)),
        (Signoff, ("created_at",)),
        (Clarification, ("raised_at",)),
        (Communication, ("at", "recorded_at")),
        (ProgressReport, ("reported_at",)),
        (ProductionIssue, ("opened_at",)),
        (Shipment, ("created_at",)),
        (PromiseChange, ("at",)),
        (Invoice, ("issued_at", "due_date")),
        (Notification, ("created_at",)),
        (EmailOutbox, ("created_at",)),
    ):
        qs = model.objects.filter(order=order)
        qs.update(**{name: F(name) - back for name in fields})
    ShipmentEvent.objects.filter(shipment__order=order).update(at=F("at") - back)
    Shipment.objects.filter(order=order, delivered_at__isnull=False).update(delivered_at=F("delivered_at") - back)
    Payment.objects.filter(invoice__order=order).update(
        received_on=F("received_on") - back, recorded_at=F("recorded_at") - back
    )
    ProductionPlan.objects.filter(order=order).update(created_at=F("created_at") - back)


# The finished orders of the past months (R6.3 history): assistant, customer, product, quantity,
# days ago, review hours, days late (0 = on time), returned once first.
HISTORY = [
    ("sales_assistant", "C001", "P-100", 6, 150, 5, 0, False),
    ("sales_assistant2", "C002", "P-110", 12, 140, 20, 0, False),
    ("sales_assistant", "C003", "P-120", 300, 128, 9, 4, True),
    ("sales_assistant2", "C005", "P-150", 40, 115, 30, 0, False),
    ("sales_assistant", "C002", "P-160", 80, 102, 3, 0, False),
    ("sales_assistant2", "C006", "P-140", 4, 90, 14, 6, False),
    ("sales_assistant", "C001", "P-130", 2, 76, 26, 0, False),
    ("sales_assistant2", "C003", "P-100", 5, 64, 7, 0, True),
    ("sales_assistant", "C005", "P-170", 6, 52, 11, 2, False),
    ("sales_assistant2", "C002", "P-120", 250, 41, 4, 0, False),
]


def build_history(demo: Demo) -> int:
    """Settled orders spread over the past five months, some late, some returned once."""
    for assistant, customer, sku, quantity, days_ago, review_hours, late_days, returned in HISTORY:
        o = _new(demo, assistant, customer, [_line(demo, sku, quantity)])
        if returned:
            _submit(demo, o)
            _go(demo, o, "sales_manager", "return", "规格描述不完整，请与客户确认后补充。")
            services.update_order(
                user=demo.u(assistant), order_id=o.pk,
                data={"special_terms": "规格已与客户书面确认。"},
            )
            o = Order.objects.get(pk=o.pk)  # special terms now call for a joint review
        _through_production(demo, o, "W1" if quantity < 50 else "W2")
        _ship(demo, o, "中通快运", f"ZT{o.pk:06d}66", [("delivered", "", "已签收。")])
        _accept(demo, o, "收货人")
        _invoice(demo, o, pay=True)
        _go(demo, o, "finance_specialist", "settle", "款项已全额到账。")
        _age(o, days=days_ago, review_hours=review_hours, late_days=late_days)
    return len(HISTORY)


def build_orders(demo: Demo) -> int:
    """Orders in every state, owned by both assistants; returns how many were created."""
    orders = []
    a1, a2 = "sales_assistant", "sales_assistant2"

    # received, not submitted: an open clarification blocks the submission
    o = _new(demo, a1, "C002", [_line(demo, "P-120", 200), _line(demo, "P-160", 50)], channel="email")
    services.open_clarification(user=demo.u(a1), order_id=o.pk, question="轴承座是否需要防锈涂层？请客户确认。")
    services.log_communication(
        user=demo.u(a1), order_id=o.pk, channel="email", with_whom=o.contact_name,
        summary="已发邮件询问防锈涂层要求，客户答复将在两日内确认。",
    )
    # a problem the assistant escalated to the manager (R5.1), still open
    services.raise_escalation(
        user=demo.u(a1), order_id=o.pk, reason="客户要求在标准价基础上再降价 15%，超出我的权限，请经理决定。",
    )
    _backdate(o, created_days_ago=1)
    orders.append(o)

    # received, not submitted (the second assistant's draft)
    o = _new(demo, a2, "C006", [_line(demo, "P-150", 100)], channel="online", days=50)
    orders.append(o)

    # received and submitted: waits for the sales manager (a clarification resolved first)
    o = _new(demo, a1, "C003", [_line(demo, "P-110", 10)], channel="visit")
    c = services.open_clarification(user=demo.u(a1), order_id=o.pk, question="减速机输出轴方向？")
    services.log_communication(
        user=demo.u(a1), order_id=o.pk, channel="call", with_whom=o.contact_name,
        summary="电话确认减速机输出轴方向为右侧；交货日期维持不变。",
    )
    services.resolve_clarification(user=demo.u(a1), clarification_id=c.pk, resolution="客户确认：右侧输出。")
    e = services.raise_escalation(user=demo.u(a1), order_id=o.pk, reason="客户要求提前一周交货，生产排期紧张。")
    services.resolve_escalation(user=demo.u("sales_manager"), escalation_id=e.pk,
                                resolution="已与生产协调：维持原交期，客户同意。")
    _submit(demo, o)
    _backdate(o, created_days_ago=2)
    orders.append(o)

    # received and submitted, large enough for a joint review: finance signed off, production has not yet
    cabinet = demo.products["P-130"]
    quantity = max(12, math.ceil(settings.JOINT_REVIEW_THRESHOLD / cabinet.standard_price))
    o = _new(demo, a2, "C001", [_line(demo, "P-130", quantity)], days=60, special_terms="分两批交货；质保期 24 个月。")
    _submit(demo, o)
    services.record_signoff(
        user=demo.u("finance_manager"), order_id=o.pk, decision="approve", comment="付款条件符合公司政策。"
    )
    _backdate(o, created_days_ago=3)
    orders.append(o)

    # received and submitted, beyond the customer's low credit limit: approve fails the credit check
    o = _new(demo, a1, "C004", [_line(demo, "P-170", 12)], channel="fax")
    _submit(demo, o)
    _backdate(o, created_days_ago=2)
    orders.append(o)

    # reviewed: returned once, corrected (field history), resubmitted, approved
    o = _new(demo, a1, "C002", [_line(demo, "P-100", 4)])
    _submit(demo, o)
    _go(demo, o, "sales_manager", "return", "交货地址缺少楼层与收货人信息，请补充。")
    services.update_order(
        user=demo.u(a1), order_id=o.pk, data={"delivery_address": o.delivery_address + " 3 楼仓库（收货人：黄晓明）"}
    )
    _submit(demo, o)
    _approve(demo, o)
    _backdate(o, created_days_ago=6)
    orders.append(o)

    # scheduled
    o = _new(demo, a2, "C003", [_line(demo, "P-140", 6)], days=55)
    _submit(demo, o)
    _approve(demo, o)
    _schedule(demo, o, "W3")
    # preparation (R4.3): the castings are in, the fixture is not yet
    material = production.add_preparation(
        user=demo.u("production_supervisor"), order_id=o.pk, kind="material", description="钢板与铸件到料",
        owner=demo.u("production_worker"), due_date=demo.day(5),
    )
    production.mark_preparation_ready(user=demo.u("production_worker"), task_id=material.pk)
    production.add_preparation(
        user=demo.u("production_supervisor"), order_id=o.pk, kind="equipment", description="焊接夹具调试",
        owner=demo.u("production_worker"), due_date=demo.day(7),
    )
    _backdate(o, created_days_ago=9)
    orders.append(o)

    # producing, with progress reports and an open delay issue
    o = _new(demo, a1, "C001", [_line(demo, "P-100", 10), _line(demo, "P-110", 5)], days=50)
    _through_production(demo, o, "W2")
    _progress(demo, o, (40, "壳体加工完成。"), (65, "泵体总装进行中。"))
    delay = production.open_issue(
        user=demo.u("production_worker"), order_id=o.pk, kind="delay", description="液压泵壳体铸件供应商延期一周交付。",
        expected_date=demo.day(40), owner=demo.u("production_supervisor"),
    )
    # the assistant reviewed the drafted message and sent it: the customer sees it on the tracking page
    production.send_customer_message(user=demo.u(a1), issue_id=delay.pk)
    _backdate(o, created_days_ago=14)
    # the delayed castings: its first milestone is past due and not done, so the plan is at risk
    first = Milestone.objects.filter(plan__order=o).order_by("due_date").values_list("pk", flat=True)[0]
    Milestone.objects.filter(pk=first).update(due_date=demo.day(-3))
    orders.append(o)

    # producing and partly shipped (R3.4): the finished pumps travel first, the motors follow a week later
    # (a revised promise: the second part arrives after the first promised date)
    o = _new(demo, a2, "C002", [_line(demo, "P-100", 8), _line(demo, "P-110", 6)], days=40)
    _through_production(demo, o, "W1")
    _progress(demo, o, (70, "液压泵已完工并检验合格；减速机装配中。"))
    pumps = o.lines.get(position=1)
    first = logistics.create_shipment(
        user=demo.u("logistics_specialist"), order_id=o.pk, carrier="德邦物流", tracking_number="DB2026110001",
        expected_arrival=demo.day(2), lines=[{"order_line": pumps.pk, "quantity": pumps.quantity}],
        vehicle="沪A·D2231", driver="周建华", warehouse="上海成品仓",
        tracking_link="https://www.deppon.com/track/DB2026110001",
    )
    for status, location, note in (("picked_up", "上海市嘉定区", "已装车。"),
                                   ("in_transit", "江苏省苏州市", "运输中。")):
        logistics.add_event(user=demo.u("logistics_specialist"), shipment_id=first.pk, status=status,
                            location=location, note=note)
    promised = Order.objects.values_list("promised_delivery_date", flat=True).get(pk=o.pk)
    services.revise_promise(
        user=demo.u(a2), order_id=o.pk, promised_delivery_date=promised + datetime.timedelta(days=7),
        reason="客户同意分两批交货：液压泵先发，减速机延后一周随第二批送达。",
    )
    _backdate(o, created_days_ago=16)
    orders.append(o)

    # producing and overdue
    o = _new(demo, a2, "C006", [_line(demo, "P-150", 50)])
    _through_production(demo, o, "W1")
    _complete_milestones(demo, o, 2)
    _progress(demo, o, (50, "胶带硫化完成。"), (80, "模块组装中。"))
    _backdate(o, created_days_ago=40, promised_days_ago=4)
    orders.append(o)

    # producing again after a rejected delivery (rework: an open quality issue)
    o = _new(demo, a2, "C003", [_line(demo, "P-170", 8)])
    _through_production(demo, o, "W1")
    _ship(demo, o, "德邦物流", "DB2025080001", [("delivered", "北京市朝阳区", "客户已收货。")])
    _go(demo, o, a2, "reject_delivery", "客户验收发现 2 套夹具定位销尺寸超差，退回返工。")
    _backdate(o, created_days_ago=20)
    orders.append(o)

    # shipped, with tracking events, and overdue
    o = _new(demo, a1, "C003", [_line(demo, "P-160", 100)])
    _through_production(demo, o, "W2")
    _ship(
        demo,
        o,
        "顺丰速运",
        "SF1400123456789",
        [
            ("picked_up", "江苏省苏州市", "已揽收。"),
            ("in_transit", "江苏省南京市", "运输中，预计两日内到达。"),
        ],
    )
    _backdate(o, created_days_ago=35, promised_days_ago=2)
    orders.append(o)

    # accepted (invoiced, not yet paid); delivered after its promised date
    o = _new(demo, a2, "C005", [_line(demo, "P-170", 10)], channel="email")
    _through_production(demo, o, "W1")
    _ship(demo, o, "DHL Express", "DHL7788990011", [("delivered", "Hong Kong", "Signed by Emily Wong.")])
    _accept(demo, o, "Emily Wong")
    _invoice(demo, o, pay=False)
    _backdate(o, created_days_ago=30, promised_days_ago=3)
    orders.append(o)

    # settled: invoiced, paid in full, settled (one for each assistant)
    for assistant, customer, sku, quantity, signer, days_ago in (
        (a1, "C001", "P-120", 500, "陈建国", 45),
        (a2, "C002", "P-160", 40, "黄晓明", 38),
    ):
        o = _new(demo, assistant, customer, [_line(demo, sku, quantity)])
        _through_production(demo, o, "W2")
        _ship(demo, o, "中通快运", f"ZT{o.pk:06d}88", [("delivered", "", "已签收。")])
        _accept(demo, o, signer)
        _invoice(demo, o, pay=True)
        _go(demo, o, "finance_manager", "settle", "款项已全额到账。")
        _backdate(o, created_days_ago=days_ago)
        orders.append(o)

    orders += build_terms_orders(demo)

    # cancelled
    o = _new(demo, a1, "C006", [_line(demo, "P-140", 3)])
    _submit(demo, o)
    _go(demo, o, "sales_manager", "cancel", "客户取消本季度采购计划。")
    _backdate(o, created_days_ago=12)
    orders.append(o)

    return len(orders) + build_history(demo)
