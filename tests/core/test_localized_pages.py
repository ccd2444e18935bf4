"""The pages in both languages, through the test client: each form posted back as the browser would
send it untouched changes nothing; dates, money and codes are shown in the language's one format."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from analytics.models import AnalysisRun, CostModel, CustomerResult, ScoringModel, TierRules
from analytics.services.runs import run_compute, run_request
from complaints.models import Complaint, Problem, SlaTarget
from complaints.services import complaint_create, problem_create
from crm.models import Customer, Interaction
from tests.factories import CustomerFactory, OrderFactory

from .html_forms import form_data

pytestmark = pytest.mark.django_db
LANGUAGES = ["en", "zh-hans"]


def open_as(client, user, language):
    client.force_login(user)
    client.cookies["django_language"] = language
    return client


@pytest.fixture
def customer(sales_user):
    return CustomerFactory(
        owner=sales_user,
        name="杭州大客户有限公司",
        since=datetime.date(2019, 11, 16),
        credit_terms="credit",
        credit_limit=Decimal("27130141.25"),
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_customer_saved_untouched_keeps_its_dates_and_history(client, sales_user, customer, language):
    """zh-hans wrote "2019/11/16" into the date input, the browser showed it empty, and the save erased it."""
    open_as(client, sales_user, language)
    url = reverse("crm:customer_update", args=[customer.pk])
    page = client.get(url).content.decode()
    assert 'type="date" name="since" value="2019-11-16"' in page
    before = (list(Customer.objects.filter(pk=customer.pk).values()), customer.history.count())
    response = client.post(url, form_data(page, containing="since"))
    assert response.status_code == 302
    assert (list(Customer.objects.filter(pk=customer.pk).values()), customer.history.count()) == before


@pytest.mark.parametrize("language, legend", [("en", "Required field"), ("zh-hans", "必填项")])
def test_required_fields_are_marked(client, sales_user, customer, language, legend):
    page = (
        open_as(client, sales_user, language).get(reverse("crm:customer_update", args=[customer.pk])).content.decode()
    )
    name_field = page[page.index('<label for="id_name"') : page.index('<label for="id_kind"')]
    assert 'class="required-mark" aria-hidden="true">*</span>' in name_field and " required " in name_field + " "
    email_field = page[page.index('<label for="id_email"') : page.index('<label for="id_phone"')]
    assert "required" not in email_field
    assert legend in page


@pytest.mark.parametrize("language", LANGUAGES)
def test_interaction_form_comes_with_todays_date_and_can_be_sent(client, sales_user, customer, language):
    open_as(client, sales_user, language)
    page = client.get(customer.get_absolute_url()).content.decode()
    today = datetime.date.today().isoformat()
    assert f'type="date" name="occurred_on" value="{today}"' in page
    data = form_data(page, containing="occurred_on") | {"summary": "电话跟进报价。"}
    response = client.post(reverse("crm:interaction_create", args=[customer.pk]), data)
    assert response.status_code == 302
    assert Interaction.objects.get(customer=customer).occurred_on == datetime.date.today()


@pytest.mark.parametrize(
    "language, since, grouped, loyal, potential",
    [
        ("en", "16 Nov 2019", "27,130,141.25", "Loyal", "Potential"),
        ("zh-hans", "2019年11月16日", "27,130,141.25", "忠诚客户", "成长潜力"),
    ],
)
def test_customer_page_formats_and_labels(client, sales_user, customer, language, since, grouped, loyal, potential):
    OrderFactory(customer=customer, number="SO-OK", ordered_on=datetime.date(2026, 2, 11))
    OrderFactory(customer=customer, number="SO-BAD", ordered_on=datetime.date(2026, 2, 11), entry_error=True)
    run, _ = run_request(trigger=AnalysisRun.Trigger.COMMAND, enqueue=False)
    run_compute(run_id=run.pk)
    CustomerResult.objects.filter(run=run, customer=customer).update(protection="loyal;potential")
    page = open_as(client, sales_user, language).get(customer.get_absolute_url()).content.decode()
    assert f"<dd>{since}</dd>" in page and grouped in page
    assert f'<span class="badge">{loyal}</span>' in page and f'<span class="badge">{potential}</span>' in page
    assert '<span class="badge">loyal</span>' not in page and '<span class="badge">potential</span>' not in page
    rows = {number: page[page.index(f">{number}<") :].split("</tr>")[0] for number in ("SO-OK", "SO-BAD")}
    assert "✘" not in rows["SO-OK"] and "✔" not in rows["SO-OK"]
    assert "✘" in rows["SO-BAD"] and '<span class="visually-hidden">' in rows["SO-BAD"]
    assert "2/11/2026" not in page and "02/11/2026" not in page and "Feb. 11, 2026" not in page


@pytest.mark.parametrize("language", LANGUAGES)
def test_complaint_and_problem_edits_saved_untouched_change_nothing(client, service_user, language):
    customer = CustomerFactory()
    complaint = complaint_create(
        customer=customer,
        by=service_user,
        data={
            "channel": "phone",
            "category": "delivery",
            "severity": "high",
            "description": "订单延迟五天到货。\n第二行",
        },
    )
    problem = problem_create(
        by=service_user, data={"title": "承运商延误", "category": "delivery", "description": "旺季"}
    )
    open_as(client, service_user, language)
    for record, url in (
        (complaint, reverse("complaints:complaint_edit", args=[complaint.pk])),
        (problem, reverse("complaints:problem_edit", args=[problem.pk])),
    ):
        model = type(record)
        before = (list(model.objects.filter(pk=record.pk).values()), record.history.count())
        page = client.get(url).content.decode()
        response = client.post(url, form_data(page, containing="category"))
        assert response.status_code == 302, response.content.decode()[:2000]
        assert (list(model.objects.filter(pk=record.pk).values()), record.history.count()) == before


@pytest.mark.parametrize("language", LANGUAGES)
def test_sla_targets_and_model_settings_saved_untouched_change_nothing(client, executive_user, language):
    open_as(client, executive_user, language)
    url = reverse("complaints:sla_targets")
    before = (list(SlaTarget.objects.order_by("pk").values()), SlaTarget.history.count())
    page = client.get(url).content.decode()
    assert client.post(url, form_data(page, containing="form-0-first_response_hours")).status_code == 302
    assert (list(SlaTarget.objects.order_by("pk").values()), SlaTarget.history.count()) == before
    url = reverse("analytics:settings")
    counts = (CostModel.objects.count(), ScoringModel.objects.count(), TierRules.objects.count())
    page = client.get(url).content.decode()
    for field in ("order_handling_cost", "profit", "core_pct"):
        response = client.post(url, form_data(page, containing=field), follow=True)
        assert response.status_code == 200
    assert (CostModel.objects.count(), ScoringModel.objects.count(), TierRules.objects.count()) == counts
    assert ("Nothing changed" if language == "en" else "没有改动") in response.content.decode()


def test_complaint_received_at_shown_in_the_language_format(client, service_user):
    complaint = complaint_create(
        customer=CustomerFactory(),
        by=service_user,
        data={
            "received_at": datetime.datetime(2026, 3, 2, 1, 5, 7, tzinfo=datetime.UTC),
            "channel": "phone",
            "category": "delivery",
            "severity": "low",
            "description": "x",
        },
    )
    page = open_as(client, service_user, "zh-hans").get(complaint.get_absolute_url()).content.decode()
    assert "2026年3月2日 09:05" in page
    assert Complaint.objects.filter(pk=complaint.pk).exists() and Problem.objects.count() == 0
