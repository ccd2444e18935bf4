"""Every page of the app, for every role, on a realistic data set.

Two functions shared by the tests that must cover the whole app (the money a service rep may
never see, the layout and accessibility checks, the translations):

- `build_dataset()` makes customers with Chinese names and distinctive money figures, their
  orders, invoices, interactions, contacts and surveys, complaints in several states, a problem
  (root cause), an import job and a published analysis run, all through the product's services.
- `pages_for(user, data)` returns every GET URL of the app, enumerated from the URL conf, each
  with its kind (html, csv, xlsx, json, redirect, admin) and the status that user's role should get.

A URL pattern this module does not know fails loudly (`UnknownPage`): a new page must be added to
`ROUTES` below, with how to fill its arguments and what each role gets, so no page escapes the checks.
"""

from __future__ import annotations

import array
import base64
import datetime
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib import admin
from django.contrib.auth.models import Group
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from crm.roles import Role, user_roles

from .factories import (
    ContactFactory,
    CustomerFactory,
    IndustryFactory,
    InteractionFactory,
    InvoiceFactory,
    OrderFactory,
    RegionFactory,
    SurveyFactory,
    UserFactory,
    make_complaint,
)

# The distinctive money figures of the data set: a service rep must see none of them, in any format.
CREDIT_LIMIT = Decimal("158000.00")
ORDER_REVENUE = Decimal("27130141.25")
ORDER_COST = Decimal("19876543.21")
ORDER_SERVICE_COST = Decimal("1234567.89")
INVOICE_AMOUNT = Decimal("4381906.37")
OTHER_ORDER_REVENUE = Decimal("3615274.83")
OTHER_ORDER_COST = Decimal("2961805.47")
MONEY_FIGURES = (CREDIT_LIMIT, ORDER_REVENUE, ORDER_COST, ORDER_SERVICE_COST, INVOICE_AMOUNT, OTHER_ORDER_REVENUE)

# Kinds of response
HTML, CSV, XLSX, JSON, REDIRECT, ADMIN = "html", "csv", "xlsx", "json", "redirect", "admin"
# Statuses; OWN: 200 when the user owns the filled customer, else 403; WORKER: 200 when the filled
# complaint is unassigned or assigned to the user, else 403.
OK, FORBIDDEN, FOUND, MOVED = 200, 403, 302, 301
OWN, WORKER = "own", "worker"
ROLES = ("sales", "service", "executive", "admin")
PASSWORD = "pw-for-tests-1"


class UnknownPage(AssertionError):
    """A URL pattern tests/pages.py cannot fill: add it to ROUTES."""


@dataclass
class Dataset:
    sales: object
    other_sales: object
    service: object
    other_service: object
    executive: object
    admin: object
    customer: object  # 华东精密机械, owned by `sales`: credit limit 158,000.00, order revenue 27,130,141.25
    other_customer: object  # owned by `other_sales`
    customers: list
    orders: list
    invoices: list
    complaints: dict  # state -> complaint; open: new, new_breaching (SLA breached), acknowledged, investigating
    problem: object
    run: object
    import_job: object
    whatif: object = None  # the executive's what-if preview (a changed weight), computed
    survey_invitation: object = None  # the survey e-mailed after the closed complaint, unanswered

    def users(self) -> dict:
        return {"sales": self.sales, "service": self.service, "executive": self.executive, "admin": self.admin}


@dataclass(frozen=True)
class Page:
    name: str  # the URL name, namespaced: "crm:customer_detail"
    url: str
    kind: str  # html csv xlsx json redirect admin
    status: int  # what the user's role should get

    def __str__(self):
        return f"{self.name} {self.url} ({self.kind}, {self.status})"


@dataclass(frozen=True)
class Fill:
    kwargs: dict = field(default_factory=dict)
    query: str = ""
    owner: object = None  # the customer's owner, for OWN
    assignee: object = None  # the complaint's assignee, for WORKER
    kind: str | None = None  # overrides the route's kind (an export's format)
    status: dict | None = None  # overrides the route's statuses (the job status endpoint: each kind's readers)


@dataclass(frozen=True)
class Route:
    kind: str
    status: dict  # role -> status (or OWN); "*" for every role
    fills: Callable[[Dataset], list[Fill]] = lambda data: [Fill()]

    def expected(self, role: str, user, fill: Fill) -> int:
        statuses = fill.status or self.status
        status = statuses.get(role, statuses.get("*"))
        if status is None:
            raise UnknownPage(f"no status for role {role!r}")
        if status == OWN:
            return OK if fill.owner is not None and fill.owner.pk == user.pk else FORBIDDEN
        if status == WORKER:
            return OK if fill.assignee is None or fill.assignee.pk == user.pk else FORBIDDEN
        return status


def _everyone(status):
    return {"*": status}


def _only(*roles, other=FORBIDDEN):
    return {role: (OK if role in roles else other) for role in ROLES}


MONEY_ROLES = ("sales", "executive", "admin")
REPORT_ROLES = ("executive", "admin")
COMPLAINT_READERS = ROLES  # sales read complaints and problems too; only service reps (and admins) work them


def _customers(data):
    return [Fill({"pk": c.pk}, owner=c.owner) for c in (data.customer, data.other_customer)]


def _customer_contacts(data):
    """Each customer's first contact (the data set gives both customers one)."""
    return [
        Fill({"pk": c.pk, "contact_pk": c.contacts.order_by("pk").first().pk}, owner=c.owner)
        for c in (data.customer, data.other_customer)
    ]


def _complaints(data):
    return [Fill({"pk": c.pk}, assignee=c.assignee) for c in data.complaints.values()]


def _formats(data):
    return [Fill({"fmt": "csv"}, kind=CSV), Fill({"fmt": "xlsx"}, kind=XLSX)]


def _report_csvs(data):
    from analytics.reports import CHARTS

    return [Fill({"name": name}) for name in CHARTS]


def _report_sections(data):
    from analytics.reports import SECTIONS

    return [Fill({"section": slug}) for slug in SECTIONS]


def _run_pair(data):
    return f"a={data.run.pk}&b={data.run.pk}"


def _compare_csvs(data):
    from analytics.reports.compare import CARDS

    return [Fill({"name": name}, query=query) for name in CARDS for query in ("", _run_pair(data))]


def _survey_token(data):
    # The invitation is part of the data set (written and committed with it): a row made here, inside
    # a browser test's transaction, is not seen by a live server on PostgreSQL (its own connection).
    from notifications.surveys import survey_token

    return survey_token(data.survey_invitation)


def _import_templates(data):
    from exchange.columns import KINDS

    return [
        Fill({"kind": kind, "file_format": fmt}, kind=CSV if fmt == "csv" else XLSX)
        for kind in KINDS
        for fmt in ("csv", "xlsx")
    ]


# Every named GET page: its kind, who gets what, and how its arguments are filled.
# POST-only class-based views (their http_method_names lack "get") are left out automatically.
ROUTES: dict[str, Route] = {
    "home": Route(REDIRECT, _everyone(FOUND)),
    "favicon": Route(REDIRECT, _everyone(MOVED)),
    "login": Route(REDIRECT, _everyone(FOUND)),  # a signed-in user is sent on
    "set_language": Route(REDIRECT, _everyone(FOUND), lambda data: [Fill(query="next=/customers/")]),
    "healthz": Route(JSON, _everyone(OK)),
    # the top bar's search: empty, too short, a Chinese name fragment, a code, a number, a contact, a description
    "search": Route(
        HTML,
        _everyone(OK),
        lambda data: [
            Fill(),
            Fill(query="q=华"),
            Fill(query="q=华东"),
            Fill(query=f"q={data.customer.code}"),
            Fill(query=f"q={data.complaints['new'].number}"),
            Fill(query="q=赵敏"),  # a contact
            Fill(query="q=发票"),  # words of a complaint's description
        ],
    ),
    # crm
    "crm:customer_list": Route(
        HTML,
        _everyone(OK),
        # the money columns asked for by name, and the largest page: a service rep still gets neither money nor 500
        lambda data: [Fill(), Fill(query="q=华东"), Fill(query="cols=revenue,profit,industry,region&per_page=200")],
    ),
    "crm:customer_export": Route(CSV, _only(*MONEY_ROLES), _formats),
    "crm:customer_detail": Route(HTML, _everyone(OK), _customers),
    "crm:customer_update": Route(
        HTML, {"sales": OWN, "service": FORBIDDEN, "executive": FORBIDDEN, "admin": OK}, _customers
    ),
    "crm:customer_orders": Route(HTML, _everyone(OK), _customers),
    # bulk reassignment's confirmation (executives, admins): ticked customers, or all matching a filter
    "crm:customer_reassign": Route(
        HTML,
        _only(*REPORT_ROLES),
        lambda data: [
            Fill(query=f"ids={data.customer.pk}&ids={data.other_customer.pk}&to={data.other_sales.pk}"),
            Fill(query=f"all=1&q=华东&to={data.other_sales.pk}"),
            Fill(query=f"ids={data.customer.pk}"),  # no new owner yet: it is asked for
        ],
    ),
    # contacts: written by whoever may edit the customer (its owner, admins); read on the customer page
    "crm:contact_create": Route(
        HTML, {"sales": OWN, "service": FORBIDDEN, "executive": FORBIDDEN, "admin": OK}, _customers
    ),
    "crm:contact_update": Route(
        HTML, {"sales": OWN, "service": FORBIDDEN, "executive": FORBIDDEN, "admin": OK}, _customer_contacts
    ),
    "crm:contact_retire": Route(
        HTML, {"sales": OWN, "service": FORBIDDEN, "executive": FORBIDDEN, "admin": OK}, _customer_contacts
    ),
    "crm:customer_timeline": Route(
        HTML, _everyone(OK), lambda data: [*_customers(data), Fill({"pk": data.customer.pk}, query="kind=order")]
    ),
    # complaints
    "complaints:queue": Route(
        HTML,
        _only(*COMPLAINT_READERS),
        lambda data: [Fill(), Fill(query="tab=mine"), Fill(query="tab=unassigned"), Fill(query="tab=breaching")],
    ),
    # the board: every reader sees it; a move's form opens for whoever may work the complaint
    "complaints:board": Route(
        HTML,
        _only(*COMPLAINT_READERS),
        lambda data: [
            Fill(),
            Fill(query="scope=all"),
            Fill(query="scope=unassigned&severity=high"),
            Fill(query=f"scope=all&move={data.complaints['acknowledged'].pk}&to=rejected"),
        ],
    ),
    "complaints:export": Route(CSV, _only(*COMPLAINT_READERS), _formats),
    # bulk reassignment's confirmation (the service lead: admins), with a complaint that is not open
    "complaints:complaint_reassign": Route(
        HTML,
        _only("admin"),
        lambda data: [
            Fill(
                query=f"ids={data.complaints['new'].pk}&ids={data.complaints['acknowledged'].pk}"
                f"&to={data.other_service.pk}"
            ),
            Fill(query=f"ids={data.complaints['new'].pk}&ids={data.complaints['closed'].pk}&to={data.service.pk}"),
        ],
    ),
    "complaints:complaint_create": Route(
        HTML, _only("service", "admin"), lambda data: [Fill(), Fill(query=f"customer={data.customer.code}")]
    ),
    "complaints:customer_lookup": Route(
        JSON, _only("service", "admin"), lambda data: [Fill(query="q=华"), Fill(query=f"q={data.customer.code}")]
    ),
    "complaints:complaint_detail": Route(HTML, _only(*COMPLAINT_READERS), _complaints),
    "complaints:complaint_edit": Route(
        HTML, {"sales": FORBIDDEN, "service": WORKER, "executive": FORBIDDEN, "admin": OK}, _complaints
    ),
    "complaints:problem_list": Route(HTML, _only(*COMPLAINT_READERS)),
    "complaints:problem_create": Route(HTML, _only("service", "admin")),
    "complaints:problem_detail": Route(HTML, _only(*COMPLAINT_READERS), lambda data: [Fill({"pk": data.problem.pk})]),
    "complaints:problem_edit": Route(HTML, _only("service", "admin"), lambda data: [Fill({"pk": data.problem.pk})]),
    "complaints:sla_targets": Route(HTML, _only(*COMPLAINT_READERS)),
    "complaints:kpis": Route(HTML, _only(*COMPLAINT_READERS)),
    # analytics
    "analytics:dashboard": Route(HTML, _only(*REPORT_ROLES)),
    "analytics:runs": Route(HTML, _only(*MONEY_ROLES)),
    "analytics:settings": Route(HTML, _only(*REPORT_ROLES)),
    # a what-if preview: its author's (the executive's) and the admins'
    "analytics:whatif": Route(HTML, _only(*REPORT_ROLES), lambda data: [Fill({"pk": data.whatif.pk})]),
    "analytics:reports": Route(HTML, _only(*REPORT_ROLES)),
    "analytics:report_profit_volume": Route(JSON, _only(*REPORT_ROLES)),
    "analytics:report_customer": Route(JSON, _only(*REPORT_ROLES), lambda data: [Fill({"pk": data.customer.pk})]),
    "analytics:report_csv": Route(CSV, _only(*REPORT_ROLES), _report_csvs),
    "analytics:report_section": Route(HTML, _only(*REPORT_ROLES), _report_sections),
    "analytics:portfolio": Route(HTML, _only(*MONEY_ROLES)),
    # with one published run: the empty state, and that run against itself (every card drawn)
    "analytics:compare": Route(HTML, _only(*REPORT_ROLES), lambda data: [Fill(), Fill(query=_run_pair(data))]),
    "analytics:compare_csv": Route(CSV, _only(*REPORT_ROLES), _compare_csvs),
    "analytics:team": Route(HTML, _only(*REPORT_ROLES)),
    "analytics:team_csv": Route(CSV, _only(*REPORT_ROLES)),
    # exchange
    "exchange:imports": Route(HTML, _only(*REPORT_ROLES)),
    "exchange:import_detail": Route(HTML, _only(*REPORT_ROLES), lambda data: [Fill({"pk": data.import_job.pk})]),
    "exchange:template": Route(CSV, _only(*REPORT_ROLES), _import_templates),
    # notifications: each signed-in user's own
    # tasks: My tasks (the team's for executives and admins); a new follow-up on a customer its owner (or an admin) adds
    "tasks:my_tasks": Route(
        HTML,
        _everyone(OK),
        lambda data: [Fill(), Fill(query="state=snoozed"), Fill(query="state=done"), Fill(query="due=overdue")],
    ),
    "tasks:task_create": Route(
        HTML,
        {"sales": OWN, "service": FORBIDDEN, "executive": FORBIDDEN, "admin": OK},
        lambda data: [
            Fill(query=f"customer={c.pk}{source}", owner=c.owner)
            for c in (data.customer, data.other_customer)
            for source in ("", "&source=neglected")
        ],
    ),
    "notifications:list": Route(HTML, _everyone(OK)),
    "notifications:preferences": Route(HTML, _everyone(OK)),
    # the public survey page (no login): a valid link opens it for anyone
    "notifications:survey": Route(HTML, _everyone(OK), lambda data: [Fill({"token": _survey_token(data)})]),
    # background jobs: one status endpoint, each kind read by its own roles
    "jobs:status": Route(
        JSON,
        _only(),
        lambda data: [
            Fill({"kind": "run", "pk": data.run.pk}, status=_only(*MONEY_ROLES)),
            Fill({"kind": "import", "pk": data.import_job.pk}, status=_only(*REPORT_ROLES)),
            Fill({"kind": "whatif", "pk": data.whatif.pk}, status=_only(*REPORT_ROLES)),
        ],
    ),
}


def role_of(user) -> str:
    if user.is_superuser:
        return "admin"
    roles = user_roles(user)
    for role, key in ((Role.EXECUTIVE, "executive"), (Role.SALES, "sales"), (Role.SERVICE, "service")):
        if role in roles:
            return key
    raise UnknownPage(f"{user} has no role")


# URL conf ---------------------------------------------------------------------------------------


def _accepts_get(callback) -> bool:
    view_class = getattr(callback, "view_class", None)
    if view_class is None:
        return True  # a function view: it must be in ROUTES
    return "get" in view_class.http_method_names and hasattr(view_class, "get")


def url_patterns() -> Iterator[tuple[str, str, object]]:
    """(namespaced name, route, callback) of every pattern outside the admin."""

    def walk(patterns, prefix, namespace):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                ns = ":".join(filter(None, [namespace, pattern.namespace]))
                if ns == "admin":
                    continue  # the admin's pages come from its registry (admin_pages)
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern), ns)
            elif isinstance(pattern, URLPattern):
                name = ":".join(filter(None, [namespace, pattern.name])) if pattern.name else None
                yield name, prefix + str(pattern.pattern), pattern.callback

    yield from walk(get_resolver().url_patterns, "", "")


def admin_pages(user) -> list[Page]:
    """The admin's index and each registered model's list: staff get 200, others the login."""
    status = OK if user.is_staff else FOUND
    urls = [reverse("admin:index")] + [
        reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist") for model in admin.site._registry
    ]
    return [Page("admin", url, ADMIN, status) for url in urls]


def pages_for(user, data: Dataset, *, include_admin: bool = False) -> list[Page]:
    """Every GET URL of the app with the status `user`'s role should get. Raises UnknownPage for a
    pattern that ROUTES does not know (add it there) or a route whose pattern has gone."""
    role = role_of(user)
    pages, seen, unknown = [], set(), []
    for name, route_text, callback in url_patterns():
        if not _accepts_get(callback):
            continue
        if name is None or name not in ROUTES:
            unknown.append(f"{name or '(unnamed)'} at /{route_text}")
            continue
        seen.add(name)
        route = ROUTES[name]
        for fill in route.fills(data):
            url = reverse(name, kwargs=fill.kwargs or None) + (f"?{fill.query}" if fill.query else "")
            pages.append(Page(name, url, fill.kind or route.kind, route.expected(role, user, fill)))
    if unknown:
        raise UnknownPage(
            "tests/pages.py cannot fill these GET pages; add each to ROUTES with its arguments and each "
            "role's status: " + "; ".join(unknown)
        )
    gone = set(ROUTES) - seen
    if gone:
        raise UnknownPage(f"ROUTES names pages the URL conf no longer has: {sorted(gone)}")
    if include_admin:
        pages += admin_pages(user)
    return pages


# Data set ---------------------------------------------------------------------------------------


def _user(username, role: Role | None, **fields):
    user = UserFactory(username=username, **fields)
    if role is not None:
        user.groups.add(Group.objects.get(name=role.value))
    return user


def build_dataset() -> Dataset:
    """A small, realistic company: money values chosen so that none can appear by chance, and a
    published analysis run over them (as of today)."""
    from analytics.models import AnalysisRun
    from analytics.services.runs import run_compute, run_request
    from complaints.models import ComplaintNote, State
    from complaints.services import complaint_add_note, complaint_mark_breaches, complaint_update, problem_create
    from complaints.workflow import complaint_transition
    from crm.models import Customer, Interaction
    from crm.services import customer_update
    from exchange.models import ImportJob

    today = timezone.localdate()

    def ago(days):
        return today - datetime.timedelta(days=days)

    sales = _user("wangfang", Role.SALES, first_name="芳", last_name="王")
    other_sales = _user("lina", Role.SALES, first_name="娜", last_name="李")
    service = _user("zhangwei", Role.SERVICE, first_name="伟", last_name="张")
    other_service = _user("liuyang", Role.SERVICE, first_name="洋", last_name="刘")
    executive = _user("chenjing", Role.EXECUTIVE, first_name="静", last_name="陈")
    admin_user = _user("root", None, is_staff=True, is_superuser=True)

    east, north = RegionFactory(name="华东 East China"), RegionFactory(name="华北 North China")
    machinery, retail = IndustryFactory(name="机械制造 Machinery"), IndustryFactory(name="零售 Retail")

    customer = CustomerFactory(
        code="HD0001",
        name="华东精密机械有限公司",
        owner=sales,
        region=east,
        industry=machinery,
        since=datetime.date(2019, 3, 1),
        credit_terms=Customer.CreditTerms.CREDIT,
        credit_limit=Decimal("100000.00"),
        email="purchasing@hdjm.example.cn",
        phone="021-5555-0101",
        strategic=True,
        strategic_note="长期合作伙伴",
    )
    # The limit raised through the service: the change history holds the old and new limits too.
    customer_update(customer=customer, data={"credit_limit": CREDIT_LIMIT}, by=sales)
    other_customer = CustomerFactory(
        code="BJ0002",
        name="北京远航贸易",
        owner=other_sales,
        region=north,
        industry=retail,
        since=datetime.date(2021, 6, 1),
        credit_terms=Customer.CreditTerms.CREDIT,
        credit_limit=Decimal("86000.00"),
    )
    small = CustomerFactory(code="GZ0003", name="广州小林商行", owner=sales, region=east, industry=retail)
    churned = CustomerFactory(
        code="SZ0004",
        name="深圳旧友电子",
        owner=other_sales,
        region=east,
        industry=machinery,
        status=Customer.Status.CHURNED,
        churned_on=ago(40),
        churn_reason=Customer.ChurnReason.choices[0][0],
    )
    prospect = CustomerFactory(code="CD0005", name="成都新星科技", owner=None, status=Customer.Status.PROSPECT)
    customers = [customer, other_customer, small, churned, prospect]

    ContactFactory(customer=customer, name="赵敏", title="采购经理", decision_maker=True, phone="13800000001")
    ContactFactory(customer=other_customer, name="孙立", title="总经理")
    ContactFactory(customer=customer, name="钱前任", title="前采购经理", retired_at=timezone.now())  # shown apart
    InteractionFactory(
        customer=customer,
        by=sales,
        kind=Interaction.Kind.VISIT,
        occurred_on=ago(20),
        summary="季度拜访，讨论明年框架协议",
        next_follow_up=today + datetime.timedelta(days=2),
    )
    InteractionFactory(customer=other_customer, by=other_sales, occurred_on=ago(70), summary="电话回访")

    orders = [
        OrderFactory(
            customer=customer,
            number="SO-HD-0001",
            ordered_on=ago(60),
            revenue=ORDER_REVENUE,
            cost=ORDER_COST,
            service_cost=ORDER_SERVICE_COST,
            quantity=1200,
            promised_on=ago(50),
            delivered_on=ago(52),
        ),
        OrderFactory(
            customer=other_customer,
            number="SO-BJ-0001",
            ordered_on=ago(90),
            revenue=OTHER_ORDER_REVENUE,
            cost=OTHER_ORDER_COST,
            service_cost=Decimal("98765.43"),
            promised_on=ago(80),
            delivered_on=ago(75),
        ),
        OrderFactory(
            customer=other_customer,
            number="SO-BJ-0002",
            ordered_on=ago(400),
            revenue=Decimal("2400581.19"),
            cost=Decimal("1877002.61"),
            service_cost=Decimal("50311.07"),
        ),
        OrderFactory(
            customer=small,
            number="SO-GZ-0001",
            ordered_on=ago(30),
            revenue=Decimal("48213.77"),
            cost=Decimal("51320.09"),
            service_cost=Decimal("2280.13"),
            entry_error=True,
        ),
        OrderFactory(
            customer=churned,
            number="SO-SZ-0001",
            ordered_on=ago(200),
            revenue=Decimal("731904.58"),
            cost=Decimal("600412.31"),
            service_cost=Decimal("10233.55"),
        ),
    ]
    invoices = [
        InvoiceFactory(
            customer=customer,
            number="INV-HD-0001",
            issued_on=ago(58),
            due_on=ago(28),
            amount=INVOICE_AMOUNT,
            paid_on=ago(30),
        ),
        InvoiceFactory(
            customer=other_customer,
            number="INV-BJ-0001",
            issued_on=ago(88),
            due_on=ago(58),
            amount=Decimal("1807637.41"),
            paid_on=None,
        ),
    ]

    # Complaints through the workflow, in several states.
    problem = problem_create(
        by=service,
        data={
            "title": "包装破损 Damaged packaging",
            "category": "delivery",
            "description": "外箱强度不足",
            "corrective_action": "更换五层瓦楞纸箱",
        },
    )
    now = timezone.now()
    complaints = {}
    complaints[State.NEW] = make_complaint(
        customer=customer, by=service, description="交货延迟三天", category="delivery", severity="high"
    )
    complaints[State.NEW + "_breaching"] = make_complaint(
        customer=other_customer,
        by=service,
        description="发票抬头错误",
        category="billing",
        received_at=now - datetime.timedelta(days=12),
    )
    acknowledged = make_complaint(
        customer=customer,
        by=service,
        order=orders[0],
        description="部分零件尺寸不符",
        category="product_quality",
        assignee=service,
    )
    complaints[State.ACKNOWLEDGED] = complaint_transition(complaint=acknowledged, to=State.ACKNOWLEDGED, by=service)
    investigating = make_complaint(
        customer=other_customer,
        by=service,
        description="送货员态度差",
        category="service_attitude",
        assignee=other_service,
    )
    investigating = complaint_transition(complaint=investigating, to=State.ACKNOWLEDGED, by=other_service)
    complaints[State.INVESTIGATING] = complaint_transition(
        complaint=investigating, to=State.INVESTIGATING, by=other_service
    )
    resolved = make_complaint(
        customer=customer,
        by=service,
        order=orders[0],
        description="外包装破损，货物受潮",
        category="delivery",
        significant=True,
        assignee=service,
        received_at=now - datetime.timedelta(days=3),
    )
    for to in (State.ACKNOWLEDGED, State.INVESTIGATING):
        resolved = complaint_transition(complaint=resolved, to=to, by=service)
    complaint_add_note(
        complaint=resolved, by=service, body="已致电客户说明处理方案", visibility=ComplaintNote.Visibility.CUSTOMER
    )
    resolved.refresh_from_db()
    resolved = complaint_transition(
        complaint=resolved,
        to=State.ACTION_COMMUNICATED,
        by=service,
        action_plan="补发受损货物并更换包装",
        customer_notified_at=now - datetime.timedelta(hours=1),
    )
    complaints[State.RESOLVED] = complaint_transition(
        complaint=resolved,
        to=State.RESOLVED,
        by=service,
        root_cause="外箱强度不足",
        problem=problem,
        internal_review_notes="物流部已评审",
    )
    closed = make_complaint(
        customer=small,
        by=service,
        description="价格疑问",
        category="billing",
        assignee=service,
        received_at=now - datetime.timedelta(days=2),
    )
    for to in (State.ACKNOWLEDGED, State.INVESTIGATING):
        closed = complaint_transition(complaint=closed, to=to, by=service)
    closed = complaint_transition(
        complaint=closed,
        to=State.ACTION_COMMUNICATED,
        by=service,
        action_plan="已解释价格构成",
        customer_notified_at=now - datetime.timedelta(minutes=30),
    )
    closed = complaint_transition(complaint=closed, to=State.RESOLVED, by=service, root_cause="报价单说明不清")
    complaints[State.CLOSED] = complaint_transition(complaint=closed, to=State.CLOSED, by=service)
    complaint_update(complaint=complaints[State.NEW], data={"order": orders[0]}, by=service)
    complaint_mark_breaches()  # as the beat task does: the 12-day-old complaint breached both targets

    SurveyFactory(
        customer=customer, answered_on=ago(10), score=4, comment="服务及时", complaint=complaints[State.RESOLVED]
    )
    SurveyFactory(customer=other_customer, answered_on=ago(45), score=2, comment="交货太慢")

    run, created = run_request(trigger=AnalysisRun.Trigger.COMMAND, as_of=today, enqueue=False)
    assert created
    run_compute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == AnalysisRun.Status.SUCCEEDED, run.error

    import_job = ImportJob.objects.create(
        kind=ImportJob.Kind.ORDERS,
        original_name="订单2026.csv",
        file="imports/orders.csv",
        requested_by=executive,
        status=ImportJob.Status.SUCCEEDED,
        progress=100,
    )
    from analytics.models import WhatIf
    from analytics.services.whatif import whatif_compute

    whatif = WhatIf.objects.create(
        which="scoring", draft={"profit": 10, "revenue": 90}, run=run, requested_by=executive
    )
    whatif_compute(whatif_id=whatif.pk)
    whatif.refresh_from_db()
    from notifications.models import SurveyInvitation

    survey_invitation = SurveyInvitation.objects.create(complaint=complaints["closed"], sent_to="survey@example.com")
    return Dataset(
        sales=sales,
        other_sales=other_sales,
        service=service,
        other_service=other_service,
        executive=executive,
        admin=admin_user,
        customer=customer,
        other_customer=other_customer,
        customers=customers,
        orders=orders,
        invoices=invoices,
        complaints=complaints,
        problem=problem,
        run=run,
        import_job=import_job,
        whatif=whatif,
        survey_invitation=survey_invitation,
    )


def money_texts(amount: Decimal) -> set[str]:
    """The ways a page, CSV or JSON could write `amount`: 158,000.00 158000.00 158000 158,000 and,
    for amounts of ten thousand or more, in 万 (15.8万 is too short to be telling and is left out)."""
    whole = int(amount)
    texts = {f"{amount:,.2f}", f"{amount:.2f}", f"{amount:.1f}", f"{amount:,.1f}", f"{whole:,}", str(whole)}
    if amount >= 1_000_000:
        wan = amount / 10_000
        texts |= {f"{wan:,.2f}万", f"{wan:.2f}万", f"{int(wan):,}万", f"{int(wan)}万"}
    return texts


def money_in(text: str, amounts=MONEY_FIGURES) -> list[str]:
    """The money texts of `amounts` found in `text`."""
    return sorted({t for amount in amounts for t in money_texts(amount) if t in text})


TYPED_ARRAY = re.compile(r'\{"dtype":\s*"(?P<dtype>[iuf][1248])",\s*"bdata":\s*"(?P<bdata>[A-Za-z0-9+/=]*)"')
# analytics.reports.value.money_cents: the cents beyond int32 travel beside the array as [[index, cents], ...]
WIDE_CENTS = re.compile(r'"wide":\s*\[(?P<pairs>[-0-9,\s\[\]]*)\]')
TYPED_CODES = {"i1": "b", "u1": "B", "i2": "h", "u2": "H", "i4": "i", "u4": "I", "f4": "f", "f8": "d"}


def money_in_typed_arrays(text: str, amounts=MONEY_FIGURES) -> list[str]:
    """Money figures hidden from a text search in Plotly's typed arrays ({"dtype", "bdata"}: base64
    numbers) and in the wide cents beside them: each value within float32's precision of an amount,
    in units or in cents, counts."""
    targets = [float(amount) for amount in amounts] + [float(amount * 100) for amount in amounts]
    found = []
    for match in TYPED_ARRAY.finditer(text):
        values = array.array(TYPED_CODES[match["dtype"]])
        values.frombytes(base64.b64decode(match["bdata"]))
        found += [
            f"{value} ({match['dtype']})"
            for value in values
            for target in targets
            if abs(value - target) <= max(0.005, abs(target) * 1e-7)
        ]
    for match in WIDE_CENTS.finditer(text):
        wide = [int(n) for n in re.findall(r"-?\d+", match["pairs"])][1::2]  # [[index, cents], ...]: the cents
        found += [f"{value} (wide cents)" for value in wide for target in targets if abs(value - target) <= 0.5]
    return found
