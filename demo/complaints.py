"""Demo complaints for seed_demo: every state, realistic timings, problems and recurrences.

Complaints go through the real services and workflow with simulated clocks, so their SLA
fields, transition logs and notes are exactly what the product would have recorded.
"""

import datetime
import random

from django.utils import timezone

from complaints.models import Category, Channel, Complaint, Severity, State
from complaints.services import complaint_add_note, complaint_create, complaint_mark_breaches, problem_create
from complaints.workflow import complaint_transition
from crm.models import Customer, Survey

PROBLEMS = [
    (
        "包装不牢导致运输破损 Packaging too thin for long-haul transport",
        Category.PRODUCT_QUALITY,
        "Switch to double-wall cartons on routes over 800 km",
        "Packing standard reviewed quarterly",
    ),
    (
        "承运商延误 Carrier delays in peak season",
        Category.DELIVERY,
        "Second carrier for East China",
        "Book peak-season capacity two months ahead",
    ),
    (
        "发票抬头错误 Wrong invoice title",
        Category.BILLING,
        "Reissue invoices the same day",
        "Invoice titles checked against the customer master",
    ),
    (
        "客服响应慢 Slow hotline answers",
        Category.SERVICE_ATTITUDE,
        "Extra staff on Monday mornings",
        "Weekly hotline wait-time review",
    ),
    (
        "批次色差 Colour variation between batches",
        Category.PRODUCT_QUALITY,
        "Batch sampling before shipment",
        "Supplier quality agreement updated",
    ),
]

DESCRIPTIONS = {
    Category.PRODUCT_QUALITY: [
        "收到的货物有破损，要求换货。",
        "Several units failed within a week of delivery.",
        "产品颜色与样品不一致。",
    ],
    Category.DELIVERY: [
        "订单延迟五天到货，影响了生产。",
        "Delivery arrived at the wrong warehouse.",
        "到货数量少于订单数量。",
    ],
    Category.BILLING: [
        "发票金额与合同价格不符。",
        "We were invoiced twice for the same order.",
        "发票抬头写错了，需要重开。",
    ],
    Category.SERVICE_ATTITUDE: [
        "客服电话等了二十分钟无人接听。",
        "The sales rep did not return our calls.",
        "服务人员态度不好。",
    ],
    Category.OTHER: ["希望增加电子对账单。", "Question about the new return policy."],
}

# Where demo complaints end up, with weights: every state of the workflow appears.
OUTCOMES = [
    (State.NEW, 6),
    (State.ACKNOWLEDGED, 5),
    (State.INVESTIGATING, 8),
    (State.AWAITING_CUSTOMER, 4),
    (State.ACTION_COMMUNICATED, 5),
    (State.RESOLVED, 10),
    (State.CLOSED, 52),
    (State.REJECTED, 4),
    (State.DUPLICATE, 3),
    ("reopened", 3),
]

STILL_OPEN = {State.NEW, State.ACKNOWLEDGED, State.INVESTIGATING, State.AWAITING_CUSTOMER, State.ACTION_COMMUNICATED}


def seed_complaints(
    *, rng: random.Random, customer_ids: list[int], reps: list, end: datetime.date, count: int, log=print
) -> int:
    """Creates `count` complaints over the 24 months before `end` (recent ones still open)."""
    if not customer_ids or not count:
        return 0
    author = reps[0] if reps else None
    problems = [
        problem_create(
            by=author,
            data={
                "title": title,
                "category": category,
                "description": title,
                "corrective_action": corrective,
                "preventive_action": preventive,
            },
        )
        for title, category, corrective, preventive in PROBLEMS
    ]
    end_at = timezone.make_aware(datetime.datetime.combine(end, datetime.time(18, 0)))
    states, weights = zip(*OUTCOMES, strict=False)
    made: list[Complaint] = []
    for index in range(count):
        # The first few take each outcome once, so every state shows up even in a small demo.
        outcome = states[index] if index < len(states) else rng.choices(states, weights)[0]
        # Open complaints are recent; resolved ones await confirmation; the rest spread over two years.
        if outcome in STILL_OPEN:
            age_days = rng.uniform(0, 9)
        elif outcome == State.RESOLVED:
            age_days = rng.uniform(3, 12)
        else:
            age_days = rng.uniform(15, 720)
        received = end_at - datetime.timedelta(days=age_days, minutes=rng.randint(0, 600))
        category = rng.choice(list(Category))
        complaint = complaint_create(
            customer=_customer(rng, customer_ids),
            by=author,
            data={
                "received_at": received,
                "channel": rng.choice(list(Channel)),
                "category": category,
                "severity": rng.choices(list(Severity), [35, 40, 20, 5])[0],
                "significant": rng.random() < 0.15,
                "description": rng.choice(DESCRIPTIONS[category]),
                # Only fresh complaints wait for someone to take them.
                "assignee": None if not reps or (outcome == State.NEW and rng.random() < 0.6) else rng.choice(reps),
            },
        )
        _walk(rng, complaint, outcome, end_at, problems, made, author)
        made.append(complaint)
        if (index + 1) % 500 == 0:
            log(f"  complaints: {index + 1:,}/{count:,}")
    complaint_mark_breaches(now=end_at)
    _post_complaint_surveys(rng, made, end_at)
    return len(made)


def _customer(rng, customer_ids):
    return Customer.objects.get(pk=rng.choice(customer_ids))


def _walk(rng, complaint, outcome, end_at, problems, made, by):
    """Moves the complaint along the workflow with a plausible clock, stopping at `outcome`."""
    clock = complaint.received_at
    budget = end_at - clock

    def tick(hours_low, hours_high):
        nonlocal clock
        step = datetime.timedelta(hours=rng.uniform(hours_low, hours_high))
        clock = min(clock + step, end_at - datetime.timedelta(minutes=1))
        return clock

    by = complaint.assignee or by
    if outcome == State.DUPLICATE and made:
        original = next((c for c in reversed(made[-20:]) if c.state != State.DUPLICATE), None)
        if original is not None:
            complaint_transition(
                complaint=complaint,
                to=State.DUPLICATE,
                by=by,
                now=tick(0.2, 3),
                duplicate_of=original,
                note="同一问题已登记 Same issue already logged",
            )
            return
        outcome = State.NEW
    if outcome == State.REJECTED:
        complaint_transition(
            complaint=complaint, to=State.REJECTED, by=by, now=tick(0.5, 6), note="非我司产品 Not our product"
        )
        return
    if outcome == State.NEW:
        return
    complaint = complaint_transition(complaint=complaint, to=State.ACKNOWLEDGED, by=by, now=tick(0.2, 6))
    complaint_add_note(
        complaint=complaint,
        by=by,
        visibility="customer",
        at=tick(0.1, rng.choice([2, 6, 12, 30])),
        body=rng.choice(["已致电客户说明处理进度。", "Called the customer to confirm we are on it."]),
    )
    if outcome == State.ACKNOWLEDGED:
        return
    complaint = complaint_transition(complaint=complaint, to=State.INVESTIGATING, by=by, now=tick(1, 8))
    complaint_add_note(
        complaint=complaint,
        by=by,
        visibility="internal",
        at=tick(0.5, 12),
        body=rng.choice(["检查了仓库记录。", "Checked the shipping records with the warehouse."]),
    )
    if rng.random() < 0.3 or outcome == State.AWAITING_CUSTOMER:
        complaint = complaint_transition(
            complaint=complaint,
            to=State.AWAITING_CUSTOMER,
            by=by,
            now=tick(1, 12),
            note="等待客户提供照片 Waiting for photos",
        )
        if outcome == State.AWAITING_CUSTOMER:
            return
        complaint = complaint_transition(complaint=complaint, to=State.INVESTIGATING, by=by, now=tick(6, 72))
    if outcome == State.INVESTIGATING:
        return
    notified = tick(1, 24)
    complaint = complaint_transition(
        complaint=complaint,
        to=State.ACTION_COMMUNICATED,
        by=by,
        now=tick(0, 2),
        customer_notified_at=notified,
        action_plan=rng.choice(
            ["免费换货并承担运费。", "Replacement shipped express at our cost.", "重开发票并致歉。"]
        ),
    )
    if outcome == State.ACTION_COMMUNICATED:
        return
    problem = rng.choice(problems) if rng.random() < 0.7 else None
    complaint = complaint_transition(
        complaint=complaint,
        to=State.RESOLVED,
        by=by,
        now=tick(2, rng.choice([24, 36, 72]) if budget.days > 5 else 12),
        problem=problem,
        root_cause=problem.title if problem else "一次性失误 One-off mistake",
        internal_review_notes="内部复盘会已讨论 Discussed in the weekly review" if complaint.significant else "",
    )
    if outcome == State.RESOLVED:
        return
    complaint = complaint_transition(complaint=complaint, to=State.CLOSED, by=by, now=tick(24, 200))
    if outcome == "reopened":
        complaint = complaint_transition(
            complaint=complaint,
            to=State.INVESTIGATING,
            by=by,
            now=tick(24, 100),
            note="客户反映问题再次出现 The problem came back",
        )


def _post_complaint_surveys(rng, complaints, end_at):
    """About half the closed complaints get a follow-up survey; faster resolution, happier customer."""
    surveys = []
    for complaint in complaints:
        complaint.refresh_from_db(fields=["state", "closed_at", "resolution_seconds", "customer"])
        if complaint.state != State.CLOSED or rng.random() < 0.5:
            continue
        fast = (complaint.resolution_seconds or 0) < 3 * 86400
        score = rng.choices([1, 2, 3, 4, 5], [2, 4, 10, 40, 44] if fast else [10, 20, 30, 30, 10])[0]
        surveys.append(
            Survey(
                customer_id=complaint.customer_id,
                complaint=complaint,
                score=score,
                answered_on=min(complaint.closed_at, end_at).date(),
                comment=rng.choice(["", "处理及时", "Thanks for the quick fix", "希望以后不要再发生"]),
            )
        )
    Survey.objects.bulk_create(surveys)
