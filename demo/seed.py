"""The demo data set of `seed_demo`: deterministic, realistic, and fast enough for 100,000 customers.

Same seed, size and end date give the same data. It tells the seed articles' story, so every
report has something to say: revenue is Pareto-shaped (a few customers bring most of it), but
the biggest customer earns less than the average one (big discounts, many small orders, a
dedicated service team, late payment), the 2nd and 4th earn the most, the 5th and 8th lose
money (over-served), about one in three of the next biggest (down to the top 20%) and one in eight
of the smaller customers lose money (discounts and heavy service; for the small ones many tiny
orders and complaints), and the demo's cost model charges every order and complaint. The
losses are calibrated from the expected figures of the first analysis run (the 12 months ending
at `end`): they take back about half of what the profitable customers earn, so the whale curve
peaks near 200% of the total profit, as activity-based costing studies report (150-300%). Some customers churned (with a reason), some
are prospects without orders. Big tables are written with COPY on PostgreSQL and executemany
elsewhere, all in one transaction.
"""

import datetime
import math
import random
import secrets
from collections import defaultdict
from collections.abc import Callable, Iterable
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from analytics.services.settings_versions import save_version
from analytics.totals import monthly_totals_rebuild
from core.records import history_first_entries
from crm.models import Contact, Customer, Industry, Interaction, Invoice, Order, Region, Survey
from crm.roles import Role
from tasks.models import State, Task
from tasks.services import tasks_from_follow_ups

from .complaints import seed_complaints

REGIONS = [
    "华东 East China",
    "华北 North China",
    "华南 South China",
    "华中 Central China",
    "西南 Southwest",
    "西北 Northwest",
    "东北 Northeast",
    "海外 Overseas",
]
REGION_WEIGHTS = [30, 20, 22, 10, 7, 4, 4, 3]
INDUSTRIES = [
    "零售 Retail",
    "制造 Manufacturing",
    "物流 Logistics",
    "餐饮 Catering",
    "医疗 Healthcare",
    "建筑 Construction",
    "电子 Electronics",
    "教育 Education",
]
CITIES = [
    "上海",
    "北京",
    "深圳",
    "广州",
    "杭州",
    "南京",
    "苏州",
    "成都",
    "武汉",
    "西安",
    "天津",
    "重庆",
    "青岛",
    "厦门",
    "宁波",
    "长沙",
]
WORDS = [
    "华强",
    "明辉",
    "远航",
    "鑫达",
    "恒通",
    "宏图",
    "金源",
    "嘉禾",
    "瑞丰",
    "天成",
    "永盛",
    "新世纪",
    "博远",
    "众诚",
    "海纳",
    "东方",
    "聚力",
    "中联",
    "汇丰",
    "锦程",
    "安泰",
    "盛世",
    "星辰",
    "卓越",
]
SUFFIXES = ["有限公司", "贸易有限公司", "科技有限公司", "实业有限公司", "商贸有限公司", "电子有限公司", "物流有限公司"]
EN_FIRST = [
    "Harbor",
    "Apex",
    "Summit",
    "Blue River",
    "Golden Gate",
    "Northstar",
    "Evergreen",
    "Pioneer",
    "Silverline",
    "Redwood",
    "Crescent",
    "Atlas",
    "Meridian",
    "Orchid",
    "Lotus",
    "Pacific",
]
EN_SECOND = ["Logistics", "Trading", "Foods", "Electronics", "Retail", "Industries", "Supplies", "Holdings", "Medical"]
EN_SUFFIXES = ["Ltd", "Co., Ltd", "Inc.", "Group", "Pte Ltd"]
SURNAMES = ["王", "李", "张", "刘", "陈", "杨", "黄", "赵", "周", "吴", "徐", "孙", "马", "朱", "胡", "林"]
GIVEN = ["伟", "芳", "娜", "敏", "静", "强", "磊", "洋", "艳", "军", "杰", "涛", "明", "超", "霞", "平"]
TITLES = ["采购经理", "总经理", "财务主管", "Purchasing Manager", "Operations Director", "仓库主管"]
SUMMARIES = [
    "季度拜访，讨论下季度订单。",
    "电话跟进报价。",
    "Discussed the new price list.",
    "邮件确认交货时间。",
    "Meeting on annual contract renewal.",
    "客户反馈包装问题，已记录。",
    "Demo of the new product line.",
]
SURVEY_COMMENTS = [
    "",
    "",
    "交货及时，服务好。",
    "Good service overall.",
    "价格偏高。",
    "希望加快发货速度。",
    "Very satisfied.",
]
STRATEGIC_NOTES = ["行业标杆客户，有示范效应", "Entry point into the healthcare sector", "新区域的第一个客户"]

# The demo staff (one password for all) and their roles; `admin`, the superuser, has its own.
DEMO_STAFF = (
    [("sales", Role.SALES)]
    + [(f"sales{i}", Role.SALES) for i in range(2, 6)]
    + [("service", Role.SERVICE), ("service2", Role.SERVICE), ("executive", Role.EXECUTIVE)]
)
DEMO_USERNAMES = [username for username, _role in DEMO_STAFF]

ORDERS_PER_CUSTOMER = 60  # per customer with a full 24-month history; about 50 on average overall
HISTORY_MONTHS = 24

# The demo's cost model (CNY): what handling one order and one complaint costs.
ORDER_HANDLING_COST = Decimal("25.00")
COMPLAINT_HANDLING_COST = Decimal("1500.00")
# The loss-makers lose this share of what the profitable customers earn: the whale curve then
# peaks at about 1 / (1 - share) of the total profit (0.5: 200%).
LOSS_SHARE = 0.5
LOGNORMAL_MEAN = 1.1331  # mean of lognormvariate(0, 0.5), each order's spread around its customer's average
COUNTED = 0.97  # share of orders neither cancelled nor returned
# How likely each kind of customer is to complain: the loss-makers most, the biggest often.
COMPLAINT_WEIGHTS = {"normal": 1, "best": 1, "fussy": 8, "big loss": 8, "over": 40, "thin": 40}
COMPLAINTS_IN_WINDOW = 0.69  # share of the demo's complaints received in the first run's window


class Plan:
    """What one customer's orders and payments will look like, and what the first run should find."""

    __slots__ = ("pk", "first", "span", "count", "avg_cents", "cost", "service", "late", "profile", "window_orders")

    def __init__(self, pk, first, span, count, avg_cents, cost, service, window_share):
        self.pk, self.first, self.span, self.count, self.avg_cents = pk, first, span, count, avg_cents
        self.cost, self.service = cost, service
        self.late = 0.15  # share of invoices paid late (5% more stay unpaid)
        self.profile = "normal"
        self.window_orders = count * window_share * COUNTED  # expected counted orders in the run's window

    @property
    def revenue(self) -> float:
        """Expected revenue in the window, in cents."""
        return self.window_orders * self.avg_cents * LOGNORMAL_MEAN

    def handling(self, order_cents: int) -> float:
        return self.window_orders * order_cents

    def profit(self, order_cents: int) -> float:
        """Expected profit in the window, in cents (complaints aside)."""
        return self.revenue * (1 - self.cost - self.service) - self.handling(order_cents)

    def aim(self, profit: float, order_cents: int) -> None:
        """Sets the service cost ratio so that the expected profit is `profit` cents."""
        if self.revenue > 0:
            needed = 1 - self.cost - (profit + self.handling(order_cents)) / self.revenue
            self.service = min(0.75, max(0.005, needed))


def money(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    return f"{sign}{cents // 100}.{cents % 100:02d}"


def add_months(day: datetime.date, months: int) -> datetime.date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return datetime.date(year, month + 1, min(day.day, 28))


class RowWriter:
    """Writes rows (tuples of str/None/int) into a table: COPY on PostgreSQL, executemany elsewhere."""

    def __init__(self, model, columns: tuple[str, ...]):
        self.table = model._meta.db_table
        self.columns = columns

    def write(self, rows: Iterable[tuple]) -> int:
        count = 0
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                raw = cursor.connection.cursor()
                with raw.copy(f"COPY {self.table} ({', '.join(self.columns)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                        count += 1
            return count
        sql = f"INSERT INTO {self.table} ({', '.join(self.columns)}) VALUES ({', '.join(['%s'] * len(self.columns))})"
        chunk = []
        with connection.cursor() as cursor:
            for row in rows:
                chunk.append(row)
                if len(chunk) == 5000:
                    cursor.executemany(sql, chunk)
                    count += len(chunk)
                    chunk = []
            if chunk:
                cursor.executemany(sql, chunk)
                count += len(chunk)
        return count


class DemoSeeder:
    def __init__(self, *, customers: int, seed: int, end: datetime.date, log: Callable[[str], None] = print):
        self.size = customers
        self.rng = random.Random(seed)
        self.end = end
        self.start = add_months(end.replace(day=1), -HISTORY_MONTHS)
        self.log = log
        self.started = timezone.now()

    def say(self, text: str) -> None:
        elapsed = (timezone.now() - self.started).total_seconds()
        self.log(f"[{elapsed:6.1f} s] {text}")

    # -- users ------------------------------------------------------------------------------
    def users(self, password: str, admin_password: str) -> list[tuple[str, str, str]]:
        """The demo staff share `password`; the superuser has its own. Returns (username, role, password)."""
        User = get_user_model()
        hashed = make_password(password)  # one hash for all staff: hashing is slow on purpose
        logins = []
        for username, role in DEMO_STAFF + [("admin", None)]:
            user, _created = User.objects.get_or_create(username=username)
            user.password = hashed if role is not None else make_password(admin_password)
            user.is_staff = user.is_superuser = role is None
            user.save()
            if role is not None:
                user.groups.set([Group.objects.get(name=role.value)])
            logins.append((username, role.value if role else "Admin", password if role is not None else admin_password))
        self.sales = list(User.objects.filter(username__startswith="sales").order_by("username"))
        self.service = list(User.objects.filter(username__startswith="service").order_by("username"))
        return logins

    # -- customers --------------------------------------------------------------------------
    def company_name(self) -> tuple[str, str]:
        rng = self.rng
        if rng.random() < 0.04:
            return "individual", rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN)
        if rng.random() < 0.7:
            return "company", rng.choice(CITIES) + rng.choice(WORDS) + rng.choice(WORDS) + rng.choice(SUFFIXES)
        return "company", f"{rng.choice(EN_FIRST)} {rng.choice(EN_SECOND)} {rng.choice(EN_SUFFIXES)}"

    def customers(self) -> None:
        rng = self.rng
        regions = [Region.objects.get_or_create(name=name)[0] for name in REGIONS]
        industries = [Industry.objects.get_or_create(name=name)[0] for name in INDUSTRIES]
        owners = self.sales
        owner_weights = [20] + [80 / max(1, len(owners) - 1)] * (len(owners) - 1)
        self.plans = []  # per customer: what its orders will look like
        # A small demo's tail is cut shorter: one customer must not outweigh all the others together.
        cap = min(400.0, max(50.0, self.size / 4))
        batch = []
        for index in range(1, self.size + 1):
            kind, name = self.company_name()
            roll = rng.random()
            status = (
                Customer.Status.PROSPECT
                if roll < 0.05
                else Customer.Status.CHURNED
                if roll < 0.13
                else Customer.Status.ACTIVE
            )
            since = self.end - datetime.timedelta(days=rng.randint(30, 365 * 8))
            churned_on = churn_reason = None
            if status == Customer.Status.CHURNED:
                since = min(since, self.end - datetime.timedelta(days=400))
                earliest = max(since + datetime.timedelta(days=180), self.start + datetime.timedelta(days=30))
                churned_on = earliest + datetime.timedelta(days=rng.randint(0, max(0, (self.end - earliest).days - 20)))
                churn_reason = rng.choices(Customer.ChurnReason.values, [30, 15, 15, 12, 18, 6, 4])[0]
            weight = min(rng.paretovariate(1.16), cap)  # revenue weight: the Pareto tail
            strategic = rng.random() < 0.03
            batch.append(
                Customer(
                    code=f"C{index:06d}",
                    name=name,
                    kind=kind,
                    industry=rng.choice(industries),
                    region=rng.choices(regions, REGION_WEIGHTS)[0],
                    owner=rng.choices(owners, owner_weights)[0] if rng.random() < 0.93 else None,
                    status=status,
                    since=since if status != Customer.Status.PROSPECT or rng.random() < 0.5 else None,
                    churned_on=churned_on,
                    churn_reason=churn_reason or "",
                    credit_terms=Customer.CreditTerms.CREDIT
                    if weight > 1.5
                    else rng.choice(Customer.CreditTerms.values),
                    credit_limit=f"{int(weight * 20000) // 1000 * 1000}.00",
                    strategic=strategic,
                    strategic_note=rng.choice(STRATEGIC_NOTES) if strategic else "",
                    growth_potential=rng.choices([1, 2, 3, 4, 5], [10, 20, 40, 20, 10])[0],
                    value_orientation=rng.choice(Customer.ValueOrientation.values + [""]),
                    email=f"contact{index}@example.com" if kind == "company" else "",
                    phone=f"+86 1{rng.randint(30, 99)} {rng.randint(1000, 9999)} {rng.randint(1000, 9999)}",
                )
            )
            self.plans.append((status, since, churned_on, weight))
            if len(batch) == 5000:
                self._save_customers(batch)
                batch = []
        if batch:
            self._save_customers(batch)
        self.ids = list(Customer.objects.order_by("pk").values_list("pk", flat=True))
        self.owner_of = dict(Customer.objects.filter(pk__in=self.ids).values_list("pk", "owner_id"))
        # About 5% were referred by an earlier customer.
        referred = [
            (pk, self.ids[rng.randrange(0, i)]) for i, pk in enumerate(self.ids) if i > 10 and rng.random() < 0.05
        ]
        for pk, referrer in referred:
            Customer.objects.filter(pk=pk).update(referred_by_id=referrer)
        # Each customer's first history entry ("Created", as it is now), as a save would have made:
        # without it, the first edit showed "Changed" with nothing to compare against.
        history_first_entries(Customer)
        self.say(f"{self.size:,} customers")

    def _save_customers(self, batch):
        Customer.objects.bulk_create(batch, batch_size=5000)

    # -- contacts, orders, invoices, interactions, surveys -----------------------------------
    def contacts(self) -> None:
        rng = self.rng

        def rows():
            for pk in self.ids:
                for n in range(rng.choice([1, 1, 2, 3])):
                    yield (
                        pk,
                        rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN),
                        rng.choice(TITLES),
                        f"p{pk}.{n}@example.com",
                        f"+86 13{rng.randint(0, 9)} {rng.randint(1000, 9999)} {rng.randint(1000, 9999)}",
                        n == 0,
                    )

        count = RowWriter(Contact, ("customer_id", "name", "title", "email", "phone", "decision_maker")).write(rows())
        self.say(f"{count:,} contacts")

    def plan_orders(self) -> None:
        """Decides every ordering customer's orders, margins, service cost and payment habits.

        The story is set by rank of expected revenue in the first run's window, so it holds at any
        size: the biggest customer earns less than the average one, the 2nd and 4th earn the most,
        the 5th and 8th lose money; one in three of ranks 11 to the top 20% and one in eight of the
        smaller customers lose money. Their losses are then scaled so that together they take back
        LOSS_SHARE of what the profitable customers earn. Neighbours in revenue may swap places in
        the run; the biggest stays first (planned at least 1.3 times the second).
        """
        rng = self.rng
        mean_weight = sum(plan[3] for plan in self.plans) / max(1, len(self.plans))
        window_start = _years_before(self.end, 1) + datetime.timedelta(days=1)
        order_cents = int(ORDER_HANDLING_COST * 100)
        self.order_plans: list[Plan] = []
        for pk, (status, since, churned_on, weight) in zip(self.ids, self.plans, strict=True):
            if status == Customer.Status.PROSPECT:
                continue
            first = max(self.start, since or self.start)
            last = min(self.end, churned_on or self.end)
            if last <= first:
                continue
            span = (last - first).days
            share = span / (self.end - self.start).days
            count = max(1, int(ORDERS_PER_CUSTOMER * share * (0.4 + (weight / mean_weight) ** 0.5) / 1.15))
            avg_cents = int(150_000 * (weight / mean_weight) ** 0.9 * rng.uniform(0.6, 1.4))
            window_share = max(0, (last - max(first, window_start)).days + 1) / (span + 1)
            cost, service = rng.uniform(0.72, 0.82), rng.uniform(0.01, 0.03)
            self.order_plans.append(Plan(pk, first, span, count, avg_cents, cost, service, window_share))

        ranked = sorted((p for p in self.order_plans if p.window_orders > 0), key=lambda p: (-p.revenue, p.pk))
        # Loss-makers: the share of their revenue they lose before scaling, and the least they lose.
        losers: list[tuple[Plan, float, float]] = []
        top10pct, top20pct = math.ceil(0.1 * len(ranked)), math.ceil(0.2 * len(ranked))
        for rank, plan in enumerate(ranked):
            if rank == 0:  # the biggest: big discounts, many small deliveries, a service team of its own
                plan.profile, plan.cost, plan.late = "thin", rng.uniform(0.85, 0.87), 0.5
                plan.count = max(1, int(plan.count * 1.6))
                plan.avg_cents = int(plan.avg_cents / 1.6)
                plan.window_orders *= 1.6
            elif rank in (1, 3):  # the two that earn the most: fuller prices, little service
                plan.profile, plan.cost, plan.service = "best", rng.uniform(0.68, 0.71), 0.01
            elif rank in (4, 7):  # over-served: rush deliveries, on-site support, returns
                plan.profile, plan.cost, plan.late = "over", rng.uniform(0.78, 0.82), 0.35
                losers.append((plan, 0.12, 0.04))
            elif 10 <= rank < top20pct and rng.random() < 0.33:  # big loss-makers: discounts and service
                plan.profile, plan.cost, plan.late = "big loss", rng.uniform(0.8, 0.86), 0.4
                losers.append((plan, rng.uniform(0.08, 0.25), 0.02))
            elif rank < 10:  # volume discounts for the big ones
                plan.cost = rng.uniform(0.8, 0.84)
            elif rank < top10pct:
                plan.cost = rng.uniform(0.76, 0.82)
            elif rank >= top20pct and rng.random() < 0.12:  # small and fussy: many tiny orders, complaints
                plan.profile, plan.late = "fussy", 0.35
                plan.count *= 2
                plan.window_orders *= 2
                plan.avg_cents = max(2_000, int(plan.avg_cents / 2.5))
                losers.append((plan, rng.uniform(0.15, 0.6), 0.05))
        if len(ranked) > 1 and ranked[0].revenue < 1.3 * ranked[1].revenue:
            # a clear first, so that the biggest customer is the same one in the first run
            ranked[0].avg_cents = int(ranked[0].avg_cents * 1.3 * ranked[1].revenue / ranked[0].revenue)

        losing = {id(plan) for plan, _share, _least in losers}
        others = [plan.profit(order_cents) for plan in ranked[1:] if id(plan) not in losing]
        gains = sum(p for p in others if p > 0)
        target = LOSS_SHARE * gains - sum(-p for p in others if p < 0)
        losses = sum(share * plan.revenue for plan, share, _least in losers)
        scale = min(4.0, max(0.25, target / losses)) if losses > 0 else 1.0
        for plan, share, least in losers:
            plan.aim(-max(least, scale * share) * plan.revenue, order_cents)
        if ranked:  # a quarter of the expected average profit (after its complaints): less than the average
            complaints = min(len(self.order_plans) // 5, settings.DEMO_COMPLAINTS_MAX)
            weights = sum(COMPLAINT_WEIGHTS[plan.profile] for plan in self.order_plans)
            its_complaints = complaints * COMPLAINT_WEIGHTS["thin"] / weights * COMPLAINTS_IN_WINDOW
            ranked[0].aim(
                0.25 * (1 - LOSS_SHARE) * gains / len(ranked) + its_complaints * int(COMPLAINT_HANDLING_COST * 100),
                order_cents,
            )
        self.say(
            f"order plans: {len(ranked):,} customers in the window; expected gains {gains / 100:,.0f}, "
            f"losses scaled by {scale:.2f}"
        )

    def orders_and_invoices(self) -> None:
        rng = self.rng
        invoices = []
        self.activity = {}  # pk -> (first order day, last order day, revenue cents)
        number = [0]

        def orders():
            for plan in self.order_plans:
                pk, first, span, avg_cents = plan.pk, plan.first, plan.span, plan.avg_cents
                cost_ratio, service_ratio = plan.cost, plan.service
                per_month = defaultdict(int)
                revenue_total = 0
                first_day = last_day = None
                for n in range(plan.count):  # spread evenly over the customer's months
                    day = first + datetime.timedelta(days=int(span * (n + rng.random()) / plan.count))
                    revenue = max(100, int(avg_cents * rng.lognormvariate(0, 0.5)))
                    roll = rng.random()
                    state = (
                        "cancelled"
                        if roll < 0.02
                        else "returned"
                        if roll < 0.03
                        else ("open" if (self.end - day).days < 10 and rng.random() < 0.6 else "delivered")
                    )
                    promised = day + datetime.timedelta(days=rng.randint(3, 14))
                    delivered = None
                    if state in ("delivered", "returned"):
                        delivered = (
                            promised - datetime.timedelta(days=rng.randint(0, 3))
                            if rng.random() < 0.9
                            else promised + datetime.timedelta(days=rng.randint(1, 10))
                        )
                    number[0] += 1
                    if state in ("open", "delivered"):
                        per_month[day.replace(day=1)] += revenue
                        revenue_total += revenue
                        first_day = day if first_day is None or day < first_day else first_day
                        last_day = day if last_day is None or day > last_day else last_day
                    yield (
                        f"SO{number[0]:09d}",
                        pk,
                        day.isoformat(),
                        money(revenue),
                        money(int(revenue * cost_ratio)),
                        money(int(revenue * service_ratio)),
                        rng.randint(1, 200),
                        promised.isoformat(),
                        delivered.isoformat() if delivered else None,
                        rng.random() < 0.02,
                        state,
                    )
                self.activity[pk] = (first_day, last_day, revenue_total)
                invoices.append((pk, plan.late, sorted(per_month.items())))

        columns = (
            "number",
            "customer_id",
            "ordered_on",
            "revenue",
            "cost",
            "service_cost",
            "quantity",
            "promised_on",
            "delivered_on",
            "entry_error",
            "status",
        )
        count = RowWriter(Order, columns).write(orders())
        self.say(f"{count:,} orders")

        def invoice_rows():
            serial = 0
            for pk, late, months in invoices:
                for month, cents in months:
                    serial += 1
                    issued = min(add_months(month, 1) - datetime.timedelta(days=1), self.end)
                    due = issued + datetime.timedelta(days=30)
                    roll = rng.random()
                    if roll < 0.95 - late:
                        paid = due - datetime.timedelta(days=rng.randint(0, 20))
                    elif roll < 0.95:
                        paid = due + datetime.timedelta(days=rng.randint(1, 30 if late < 0.3 else 90))
                    else:
                        paid = None
                    if paid is not None and paid > self.end:
                        paid = None
                    yield (
                        f"INV{serial:09d}",
                        pk,
                        issued.isoformat(),
                        due.isoformat(),
                        money(cents),
                        paid.isoformat() if paid else None,
                    )

        count = RowWriter(Invoice, ("number", "customer_id", "issued_on", "due_on", "amount", "paid_on")).write(
            invoice_rows()
        )
        self.say(f"{count:,} invoices")

    def keep_up_with_follow_ups(self) -> int:
        """Reps work their follow-ups: one due more than three weeks before the demo's end was done
        around its day (within five days before to three after; the interactions do not record it),
        so My tasks shows the last weeks' work, a few overdue, not years of it. Returns how many."""
        old = list(
            Task.objects.filter(state=State.OPEN, due_on__lt=self.end - datetime.timedelta(days=21)).only(
                "pk", "due_on", "assignee_id"
            )
        )
        zone = timezone.get_current_timezone()
        for task in old:
            day = task.due_on + datetime.timedelta(days=self.rng.randint(-5, 3))
            task.state = State.DONE
            task.completed_at = datetime.datetime.combine(day, datetime.time(17, 0), tzinfo=zone)
            task.completed_by_id = task.assignee_id
        return Task.objects.bulk_update(old, ["state", "completed_at", "completed_by"], batch_size=5000)

    def interactions_and_surveys(self) -> None:
        rng = self.rng
        top = sorted(self.activity, key=lambda pk: -self.activity[pk][2])[: max(1, len(self.activity) // 5)]
        neglected = {pk for pk in top if rng.random() < 0.3}

        def interactions():
            for pk, (first_day, _last_day, _revenue) in self.activity.items():
                if first_day is None:
                    continue
                latest = self.end - datetime.timedelta(days=70) if pk in neglected else self.end
                for _ in range(rng.randint(1, 6)):
                    day = first_day + datetime.timedelta(days=rng.randint(0, max(0, (latest - first_day).days)))
                    follow_up = day + datetime.timedelta(days=rng.randint(7, 30)) if rng.random() < 0.3 else None
                    yield (
                        pk,
                        rng.choice(("visit", "call", "email", "meeting")),
                        day.isoformat(),
                        self.owner_of.get(pk),
                        rng.choice(SUMMARIES),
                        follow_up.isoformat() if follow_up else None,
                        self.started,
                    )

        columns = ("customer_id", "kind", "occurred_on", "by_id", "summary", "next_follow_up", "created_at")
        count = RowWriter(Interaction, columns).write(interactions())
        self.say(f"{count:,} interactions")
        # The rows went in without save(), so without the signal that turns a next follow-up date into a follow-up.
        self.say(f"{tasks_from_follow_ups():,} follow-ups ({self.keep_up_with_follow_ups():,} done on their day)")

        def surveys():
            for pk, (first_day, last_day, _revenue) in self.activity.items():
                if first_day is None or rng.random() > 0.6:
                    continue
                for year in range(2):
                    day = self.end - datetime.timedelta(days=rng.randint(0, 364) + 365 * year)
                    if first_day <= day <= last_day + datetime.timedelta(days=30):
                        yield (
                            pk,
                            day.isoformat(),
                            rng.choices([1, 2, 3, 4, 5], [4, 8, 18, 40, 30])[0],
                            rng.choice(SURVEY_COMMENTS),
                        )

        count = RowWriter(Survey, ("customer_id", "answered_on", "score", "comment")).write(surveys())
        self.say(f"{count:,} surveys")

    def cost_model(self) -> None:
        """The demo charges every order and complaint, so the costs to serve show in profit."""
        executive = get_user_model().objects.filter(username="executive").first()
        data = {"order_handling_cost": ORDER_HANDLING_COST, "complaint_handling_cost": COMPLAINT_HANDLING_COST}
        save_version(which="cost", data=data, by=executive)
        self.say(f"cost model: {ORDER_HANDLING_COST} per order, {COMPLAINT_HANDLING_COST} per complaint")

    def complaints(self) -> None:
        """About one complaint per five ordering customers; the loss-makers complain most, the biggest often."""
        ordered = [plan.pk for plan in self.order_plans if self.activity[plan.pk][0] is not None]
        count = min(len(ordered) // 5, settings.DEMO_COMPLAINTS_MAX)
        profile = {plan.pk: plan.profile for plan in self.order_plans}
        weighted = [pk for pk in ordered for _ in range(COMPLAINT_WEIGHTS[profile[pk]])]
        made = seed_complaints(
            rng=self.rng, customer_ids=weighted, reps=self.service, end=self.end, count=count, log=self.say
        )
        self.say(f"{made:,} complaints")

    def run(self, password: str, admin_password: str) -> list[tuple[str, str, str]]:
        with transaction.atomic():
            logins = self.users(password, admin_password)
            self.customers()
            self.contacts()
            self.cost_model()
            self.plan_orders()
            self.orders_and_invoices()
            self.interactions_and_surveys()
            monthly_totals_rebuild()
            self.say("monthly totals")
            self.complaints()
        return logins


def _years_before(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def password_problems(password: str, *, usernames: Iterable[str]) -> list[str]:
    """Why AUTH_PASSWORD_VALIDATORS refuse `password` for these users (empty when they accept it),
    each reason once, naming the users when it holds for some of them only."""
    User = get_user_model()
    usernames = list(usernames)
    users_by_reason: dict[str, list[str]] = {}
    for username in usernames:
        try:
            validate_password(password, user=User(username=username))
        except ValidationError as refused:
            for reason in refused.messages:
                users_by_reason.setdefault(reason, []).append(username)
    return [
        reason if len(users) == len(usernames) else f"{reason} ({', '.join(users)})"
        for reason, users in users_by_reason.items()
    ]


def new_password(*, other_than: str = "") -> str:
    """A random password that the validators accept for every demo user, `admin` included."""
    while True:
        password = secrets.token_urlsafe(9)
        if password != other_than and not password_problems(password, usernames=DEMO_USERNAMES + ["admin"]):
            return password
