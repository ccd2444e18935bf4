"""Issue 14, acceptance 1: every create and edit form each role can reach, in headless Chromium, in
English and in Chinese. Saved untouched, a form leaves its record and the record's history as they
were (zh-hans used to empty every date input, and a save without a touch erased "Customer since");
then one field of each kind is changed (date, datetime, number, money, choice, Chinese text) and
the stored value is proved.

The forms, from the URL confs (crm, complaints, analytics, exchange):
  sales      crm:customer_update (own customer), crm:interaction_create (on the customer page),
             crm:contact_create, crm:contact_update (own customer's contacts)
  service    complaints:complaint_create, complaints:complaint_edit, complaints:problem_create,
             complaints:problem_edit
  executive  complaints:sla_targets, analytics:settings (cost model, scoring model, tier rules)
  admin      crm:customer_update, crm:contact_create, crm:contact_update (any customer), and everything above
Not here: complaint moves and notes (each submit is a step of the workflow, never a no-op: tests/
complaints), the import upload (a file, tests/e2e/test_import_flow.py), report filters (GET, no
record), the Django admin's own forms.
"""

import datetime
import zoneinfo
from decimal import Decimal

import pytest

from analytics.models import CostModel, ScoringModel, TierRules
from complaints.models import Complaint, Problem, SlaTarget
from complaints.services import complaint_create, problem_create
from crm.models import Contact, Customer, Interaction
from tests.factories import CustomerFactory, RegionFactory

from .browsing import replaced, wait

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

LANGUAGES = ["en", "zh-hans"]
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


# ------------------------------------------------------------------------------------------- helpers


def state(model, pk) -> tuple:
    """A record as stored (every column, updated_at included) and the length of its history."""
    record = model.objects.get(pk=pk)
    return list(model.objects.filter(pk=pk).values()), record.history.count()


def open_page(browser, live_server, path: str):
    browser.get(live_server.url + path)
    wait(browser, lambda d: d.execute_script("return document.readyState") == "complete")


def submit(browser, form):
    """Clicks the form's submit button as a person would and waits for the next page."""
    from selenium.webdriver.common.by import By

    page = browser.find_element(By.TAG_NAME, "html")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait(browser, replaced(page))
    wait(browser, lambda d: d.execute_script("return document.readyState") == "complete")
    errors = [e.text for e in browser.find_elements(By.CSS_SELECTOR, ".error") if e.text]
    assert not errors, errors


def form_with(browser, name: str):
    """The form that holds the field `name`."""
    from selenium.webdriver.common.by import By

    return browser.find_element(By.NAME, name).find_element(By.XPATH, "./ancestor::form")


def field(browser, name):
    from selenium.webdriver.common.by import By

    return browser.find_element(By.NAME, name)


def set_value(browser, name: str, value):
    """Types into a text or number box, picks an option, or sets a date or time as the picker does
    (the value of a date input is ISO whatever the language; its look is the browser's)."""
    from selenium.webdriver.support.ui import Select

    element = field(browser, name)
    if element.tag_name == "select":
        Select(element).select_by_value(str(value))
    elif element.get_attribute("type") in ("date", "datetime-local"):
        browser.execute_script(
            "arguments[0].value = arguments[1];"
            "arguments[0].dispatchEvent(new Event('input', {bubbles: true}));"
            "arguments[0].dispatchEvent(new Event('change', {bubbles: true}));",
            element,
            value,
        )
        assert element.get_attribute("value") == value  # the browser took it
    else:
        element.clear()
        element.send_keys(str(value))


def assert_dates_shown(browser, names):
    """What the bug looked like: a date input the browser could not read is empty."""
    for name in names:
        value = field(browser, name).get_attribute("value")
        assert value, f"{name} is empty in the browser"


@pytest.fixture(autouse=True)
def no_charts(browser):
    """plotly.js (4.8 MB) is not what these tests are about: the pages load without it."""
    browser.execute_cdp_cmd("Network.enable", {})
    browser.execute_cdp_cmd("Network.setBlockedURLs", {"urls": ["*/vendor/plotly.min.js"]})


@pytest.fixture
def world(sales_user, other_sales_user):
    east = RegionFactory(name="华东 East China")
    mine = CustomerFactory(
        code="MINE",
        name="杭州大客户有限公司",
        owner=sales_user,
        region=east,
        since=datetime.date(2019, 11, 16),
        credit_terms="credit",
        credit_limit=Decimal("158000.00"),
        strategic_note="行业标杆客户",
    )
    theirs = CustomerFactory(
        code="THEIRS",
        name="Harbor Logistics Ltd",
        owner=other_sales_user,
        status=Customer.Status.CHURNED,
        since=datetime.date(2018, 1, 5),
        churned_on=datetime.date(2025, 7, 31),
        churn_reason="price",
    )
    return {"mine": mine, "theirs": theirs}


# ------------------------------------------------------------------------------------------- sales


@pytest.mark.parametrize("language", LANGUAGES)
def test_sales_customer_edit(browser, log_in, live_server, sales_user, world, language):
    customer = world["mine"]
    log_in(sales_user, language)
    path = f"/customers/{customer.pk}/edit/"

    # untouched
    before = state(Customer, customer.pk)
    open_page(browser, live_server, path)
    assert_dates_shown(browser, ["since"])
    assert field(browser, "since").get_attribute("value") == "2019-11-16"
    submit(browser, form_with(browser, "since"))
    assert state(Customer, customer.pk) == before

    # one field of each kind
    open_page(browser, live_server, path)
    set_value(browser, "since", "2020-02-29")  # date
    set_value(browser, "growth_potential", 5)  # number
    set_value(browser, "credit_limit", "27130141.25")  # money
    set_value(browser, "value_orientation", "assurance")  # choice
    set_value(browser, "name", "上海华强贸易有限公司")  # Chinese text
    submit(browser, form_with(browser, "since"))
    customer.refresh_from_db()
    assert (
        customer.since,
        customer.growth_potential,
        customer.credit_limit,
        customer.value_orientation,
        customer.name,
    ) == (datetime.date(2020, 2, 29), 5, Decimal("27130141.25"), "assurance", "上海华强贸易有限公司")
    latest = customer.history.first()
    assert latest.history_user == sales_user
    assert sorted(c.field for c in latest.diff_against(latest.prev_record).changes) == [
        "credit_limit",
        "growth_potential",
        "name",
        "since",
        "value_orientation",
    ]
    assert customer.history.count() == before[1] + 1
    # the page shows it in the language's formats
    assert ("2020年2月29日" if language == "zh-hans" else "29 Feb 2020") in browser.page_source
    assert "27,130,141.25" in browser.page_source


@pytest.mark.parametrize("language", LANGUAGES)
def test_sales_interaction_create(browser, log_in, live_server, sales_user, world, language):
    from selenium.webdriver.common.by import By

    customer = world["mine"]
    log_in(sales_user, language)
    before = state(Customer, customer.pk)

    # as it comes: today's date is there (in zh-hans it was empty, so the form could not be sent)
    open_page(browser, live_server, f"/customers/{customer.pk}/")
    today = datetime.date.today()
    assert field(browser, "occurred_on").get_attribute("value") == today.isoformat()
    set_value(browser, "summary", "电话跟进报价。")  # the only blank that must be filled
    submit(browser, form_with(browser, "occurred_on"))
    logged = Interaction.objects.get(customer=customer)
    assert (logged.occurred_on, logged.kind, logged.summary, logged.next_follow_up, logged.by) == (
        today,
        Interaction.Kind.CALL,
        "电话跟进报价。",
        None,
        sales_user,
    )
    assert state(Customer, customer.pk) == before  # logging an interaction leaves the customer as it was

    # one field of each kind it has: dates, a choice, Chinese text
    set_value(browser, "occurred_on", "2026-01-05")
    set_value(browser, "next_follow_up", "2026-01-19")
    set_value(browser, "kind", "visit")
    set_value(browser, "summary", "季度拜访，讨论下季度订单。")
    submit(browser, form_with(browser, "occurred_on"))
    visit = Interaction.objects.get(customer=customer, kind="visit")
    assert (visit.occurred_on, visit.next_follow_up, visit.summary) == (
        datetime.date(2026, 1, 5),
        datetime.date(2026, 1, 19),
        "季度拜访，讨论下季度订单。",
    )
    shown = browser.find_element(By.ID, "timeline").text  # the logged interaction, on the customer's timeline
    assert ("2026年1月5日" if language == "zh-hans" else "5 Jan 2026") in shown
    assert "季度拜访，讨论下季度订单。" in shown


@pytest.mark.parametrize("language", LANGUAGES)
def test_sales_contact_create_and_edit(browser, log_in, live_server, sales_user, world, language):
    customer = world["mine"]
    log_in(sales_user, language)

    # create: Chinese text, an e-mail, a phone, a flag
    open_page(browser, live_server, f"/customers/{customer.pk}/contacts/new/")
    set_value(browser, "name", "王经理")
    set_value(browser, "title", "采购经理")
    set_value(browser, "email", "wang@huadong.example")
    set_value(browser, "phone", "+86 21 5555 0101")
    field(browser, "decision_maker").click()
    submit(browser, form_with(browser, "name"))
    contact = Contact.objects.get(customer=customer)
    assert (contact.name, contact.title, contact.email, contact.phone, contact.decision_maker) == (
        "王经理",
        "采购经理",
        "wang@huadong.example",
        "+86 21 5555 0101",
        True,
    )
    assert [(r.history_type, r.history_user) for r in contact.history.all()] == [("+", sales_user)]

    # edit, untouched
    path = f"/customers/{customer.pk}/contacts/{contact.pk}/edit/"
    before = state(Contact, contact.pk)
    open_page(browser, live_server, path)
    submit(browser, form_with(browser, "name"))
    assert state(Contact, contact.pk) == before

    # edit: Chinese text and the flag
    open_page(browser, live_server, path)
    set_value(browser, "title", "采购总监")
    field(browser, "decision_maker").click()
    submit(browser, form_with(browser, "name"))
    contact.refresh_from_db()
    assert (contact.title, contact.decision_maker, contact.phone) == ("采购总监", False, "+86 21 5555 0101")
    assert contact.history.count() == before[1] + 1


# ------------------------------------------------------------------------------------------- service


@pytest.mark.parametrize("language", LANGUAGES)
def test_service_complaint_create_and_edit(browser, log_in, live_server, service_user, world, language):
    customer = world["theirs"]
    log_in(service_user, language)

    # create, as it comes (customer given by the customer page's link; the required description typed)
    open_page(browser, live_server, f"/complaints/new/?customer={customer.code}")
    assert field(browser, "received_at").get_attribute("step") == "1"
    set_value(browser, "description", "收到的货物有破损，要求换货。")
    started = datetime.datetime.now(datetime.UTC)
    submit(browser, form_with(browser, "description"))
    complaint = Complaint.objects.get(customer=customer)
    assert complaint.description == "收到的货物有破损，要求换货。" and complaint.received_at >= started.replace(
        microsecond=0
    )
    assert complaint.assignee == service_user and complaint.history.count() >= 1

    # create with a time to the second, a choice, a flag
    open_page(browser, live_server, f"/complaints/new/?customer={customer.code}")
    set_value(browser, "received_at", "2026-03-02T09:05:07")  # datetime
    set_value(browser, "severity", "high")  # choice
    set_value(browser, "channel", "email")
    set_value(browser, "description", "发票金额与合同价格不符。")
    submit(browser, form_with(browser, "description"))
    second = Complaint.objects.filter(customer=customer).order_by("-pk").first()
    assert second.received_at == datetime.datetime(2026, 3, 2, 9, 5, 7, tzinfo=SHANGHAI)
    assert (second.severity, second.channel) == ("high", "email")

    # edit, untouched
    path = f"/complaints/{second.pk}/edit/"
    before = state(Complaint, second.pk)
    open_page(browser, live_server, path)
    submit(browser, form_with(browser, "description"))
    assert state(Complaint, second.pk) == before

    # edit: a choice and Chinese text
    open_page(browser, live_server, path)
    set_value(browser, "category", "billing")
    set_value(browser, "description", "发票抬头写错了，需要重开。")
    submit(browser, form_with(browser, "description"))
    second.refresh_from_db()
    assert (second.category, second.description) == ("billing", "发票抬头写错了，需要重开。")
    assert second.history.count() == before[1] + 1


@pytest.mark.parametrize("language", LANGUAGES)
def test_service_problem_create_and_edit(browser, log_in, live_server, service_user, language):
    log_in(service_user, language)

    open_page(browser, live_server, "/complaints/problems/new/")
    set_value(browser, "title", "承运商延误")
    set_value(browser, "category", "delivery")
    submit(browser, form_with(browser, "title"))
    problem = Problem.objects.get(title="承运商延误")
    assert (problem.category, problem.created_by, problem.history.count()) == ("delivery", service_user, 1)

    path = f"/complaints/problems/{problem.pk}/edit/"
    before = state(Problem, problem.pk)
    open_page(browser, live_server, path)
    submit(browser, form_with(browser, "title"))
    assert state(Problem, problem.pk) == before

    open_page(browser, live_server, path)
    set_value(browser, "corrective_action", "旺季增加第二家承运商")
    set_value(browser, "category", "service_attitude")
    submit(browser, form_with(browser, "title"))
    problem.refresh_from_db()
    assert (problem.corrective_action, problem.category) == ("旺季增加第二家承运商", "service_attitude")
    assert problem.history.count() == 2


# ------------------------------------------------------------------------------------------- executive


@pytest.mark.parametrize("language", LANGUAGES)
def test_executive_sla_targets(browser, log_in, live_server, executive_user, language):
    log_in(executive_user, language)
    targets = list(SlaTarget.objects.order_by("pk").values_list("pk", flat=True))
    before = [state(SlaTarget, pk) for pk in targets]
    open_page(browser, live_server, "/complaints/sla/")
    submit(browser, form_with(browser, "form-0-first_response_hours"))
    assert [state(SlaTarget, pk) for pk in targets] == before

    open_page(browser, live_server, "/complaints/sla/")
    row = field(browser, "form-0-id").get_attribute("value")
    set_value(browser, "form-0-first_response_hours", 3)  # number
    submit(browser, form_with(browser, "form-0-first_response_hours"))
    target = SlaTarget.objects.get(pk=row)
    assert target.first_response_hours == 3 and target.history.count() == before[targets.index(target.pk)][1] + 1
    assert [state(SlaTarget, pk) for pk in targets if pk != target.pk] == [
        b for pk, b in zip(targets, before, strict=False) if pk != target.pk
    ]


@pytest.mark.parametrize("language", LANGUAGES)
def test_executive_model_settings(browser, log_in, live_server, executive_user, language):
    log_in(executive_user, language)

    def versions():
        return [list(model.objects.order_by("pk").values()) for model in (CostModel, ScoringModel, TierRules)]

    before = versions()
    for name in ("order_handling_cost", "profit", "core_pct"):  # the cost model, the scoring model, the tier rules
        open_page(browser, live_server, "/analytics/settings/")
        submit(browser, form_with(browser, name))
        assert versions() == before, name

    open_page(browser, live_server, "/analytics/settings/")
    set_value(browser, "order_handling_cost", "12.34")  # money
    submit(browser, form_with(browser, "order_handling_cost"))
    assert CostModel.objects.latest().order_handling_cost == Decimal("12.34")

    open_page(browser, live_server, "/analytics/settings/")
    set_value(browser, "profit", 40)  # number
    submit(browser, form_with(browser, "profit"))
    assert ScoringModel.objects.latest().weights["profit"] == 40

    open_page(browser, live_server, "/analytics/settings/")
    set_value(browser, "core_pct", 25)
    submit(browser, form_with(browser, "core_pct"))
    assert TierRules.objects.latest().core_pct == 25
    assert [len(v) for v in versions()] == [len(v) + 1 for v in before]


# ------------------------------------------------------------------------------------------- admin


@pytest.mark.parametrize("language", LANGUAGES)
def test_admin_edits_any_customer(browser, log_in, live_server, admin_user_, world, service_user, language):
    """A churned customer (two dates and a reason) edited by an admin; then a complaint and a problem
    made by a service rep, which the admin may edit too."""
    customer = world["theirs"]
    complaint = complaint_create(
        customer=customer,
        by=service_user,
        data={"channel": "phone", "category": "delivery", "severity": "low", "description": "订单延迟五天到货。"},
    )
    problem = problem_create(by=service_user, data={"title": "包装不牢", "category": "product_quality"})
    log_in(admin_user_, language)
    for model, pk, path, name in (
        (Customer, customer.pk, f"/customers/{customer.pk}/edit/", "churned_on"),
        (Complaint, complaint.pk, f"/complaints/{complaint.pk}/edit/", "description"),
        (Problem, problem.pk, f"/complaints/problems/{problem.pk}/edit/", "title"),
    ):
        before = state(model, pk)
        open_page(browser, live_server, path)
        if model is Customer:
            assert_dates_shown(browser, ["since", "churned_on"])
        submit(browser, form_with(browser, name))
        assert state(model, pk) == before, path

    open_page(browser, live_server, f"/customers/{customer.pk}/edit/")
    set_value(browser, "churned_on", "2025-08-01")
    set_value(browser, "churn_reason", "competitor")
    submit(browser, form_with(browser, "churned_on"))
    customer.refresh_from_db()
    assert (customer.churned_on, customer.churn_reason) == (datetime.date(2025, 8, 1), "competitor")


@pytest.mark.parametrize("language", LANGUAGES)
def test_admin_contact_forms_on_any_customer(browser, log_in, live_server, admin_user_, world, language):
    customer = world["theirs"]
    log_in(admin_user_, language)
    open_page(browser, live_server, f"/customers/{customer.pk}/contacts/new/")
    set_value(browser, "name", "Li Na")
    submit(browser, form_with(browser, "name"))
    contact = Contact.objects.get(customer=customer)

    path = f"/customers/{customer.pk}/contacts/{contact.pk}/edit/"
    before = state(Contact, contact.pk)
    open_page(browser, live_server, path)
    submit(browser, form_with(browser, "name"))
    assert state(Contact, contact.pk) == before

    open_page(browser, live_server, path)
    set_value(browser, "phone", "(021) 5555-0102 ext. 8")
    submit(browser, form_with(browser, "name"))
    contact.refresh_from_db()
    assert contact.phone == "(021) 5555-0102 ext. 8" and contact.history.first().history_user == admin_user_


@pytest.mark.parametrize("language", LANGUAGES)
def test_notification_settings(browser, log_in, live_server, service_user, language):
    """Saved untouched, a person's choices stay as they were; then one box is unticked and stored."""
    from notifications.models import NotificationPreference

    NotificationPreference.objects.create(user=service_user, language="zh-hans", email_off=["weekly_digest"])
    before = list(NotificationPreference.objects.filter(user=service_user).values())
    log_in(service_user, language)
    open_page(browser, live_server, "/notifications/settings/")
    submit(browser, form_with(browser, "email_kinds"))  # "language" also names the top bar's switcher
    assert list(NotificationPreference.objects.filter(user=service_user).values()) == before

    open_page(browser, live_server, "/notifications/settings/")
    box = browser.find_element("css selector", "input[name=email_kinds][value=sla_breached]")
    browser.find_element("css selector", f"label[for={box.get_attribute('id')}]").click()  # as a person does
    assert not box.is_selected()
    submit(browser, form_with(browser, "email_kinds"))  # "language" also names the top bar's switcher
    preference = NotificationPreference.objects.get(user=service_user)
    assert (preference.language, sorted(preference.email_off)) == ("zh-hans", ["sla_breached", "weekly_digest"])
