"""Saving with history (core.records): only what changed, nothing when nothing did; first entries
for records written in bulk (the demo seed); history entries shown with labels, not codes."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse

from analytics.models import CostModel, ScoringModel, TierRules
from analytics.services.settings_versions import save_version
from complaints.models import Complaint, Problem
from complaints.services import problem_create, problem_update
from core.records import changed_fields, history_first_entries, record_update
from crm.models import Customer
from crm.services import customer_update
from tests.factories import CustomerFactory, RegionFactory

pytestmark = pytest.mark.django_db


def entries(record) -> int:
    return record.history.count()


def test_a_save_that_changes_nothing_writes_nothing(sales_user):
    customer = CustomerFactory(credit_limit=Decimal("158000.00"), since=datetime.date(2019, 11, 16))
    before, updated_at = entries(customer), customer.updated_at
    data = {
        "name": customer.name,
        "credit_limit": Decimal("158000"),
        "since": datetime.date(2019, 11, 16),
        "region": customer.region,
        "email": "",
        "churn_reason": "",
        "growth_potential": "3",
    }
    assert customer_update(customer=customer, data=data, by=sales_user) == []
    customer.refresh_from_db()
    assert entries(customer) == before and customer.updated_at == updated_at


def test_only_the_changed_fields_are_saved_with_one_history_entry(sales_user):
    customer = CustomerFactory(name="Old name", phone="1")
    Customer.objects.filter(pk=customer.pk).update(phone="2")  # someone else's change since it was read
    changed = customer_update(customer=customer, data={"name": "上海新名字有限公司", "phone": "1"}, by=sales_user)
    # The phone differs from the stored "2" too: it is saved, as asked (the comparison is with the database).
    assert changed == ["name", "phone"]
    changed = customer_update(
        customer=customer, data={"name": "上海新名字有限公司", "email": "a@example.com"}, by=sales_user
    )
    assert changed == ["email"]
    Customer.objects.filter(pk=customer.pk).update(phone="3")
    customer_update(customer=customer, data={"strategic": True}, by=sales_user)
    customer.refresh_from_db()
    assert customer.phone == "3"  # update_fields: a field not changed here is not written back
    latest = customer.history.first()
    assert latest.history_user == sales_user and latest.history_type == "~"
    assert [c.field for c in latest.diff_against(latest.prev_record).changes] == ["strategic"]


def test_times_are_compared_at_the_second_an_input_shows(sales_user):
    problem = problem_create(by=sales_user, data={"title": "包装破损", "category": "delivery"})
    complaint_at = datetime.datetime(2026, 3, 2, 9, 5, 7, 123456, tzinfo=datetime.UTC)
    customer = CustomerFactory()
    complaint = Complaint.objects.create(
        customer=customer,
        number="CP1",
        received_at=complaint_at,
        channel="phone",
        category="delivery",
        severity="low",
        description="x",
        first_response_due_at=complaint_at,
        resolution_due_at=complaint_at,
    )
    assert changed_fields(complaint, {"received_at": complaint_at.replace(microsecond=0)}) == []
    assert changed_fields(complaint, {"received_at": complaint_at.replace(second=8, microsecond=0)}) == ["received_at"]
    assert changed_fields(complaint, {"problem": None, "customer": customer.pk}) == []
    assert changed_fields(complaint, {"problem": problem}) == ["problem"]


def test_problem_edit_saved_untouched_adds_no_history(sales_user):
    problem = problem_create(
        by=sales_user, data={"title": "包装破损", "category": "delivery", "description": "多行\n说明"}
    )
    assert entries(problem) == 1
    problem_update(
        problem=problem, data={"title": "包装破损", "category": "delivery", "description": "多行\n说明"}, by=sales_user
    )
    assert entries(problem) == 1
    problem_update(problem=problem, data={"title": "包装太薄"}, by=sales_user)
    assert entries(problem) == 2 and Problem.objects.get(pk=problem.pk).title == "包装太薄"


def test_record_update_validates_what_it_saves(sales_user):
    customer = CustomerFactory()
    with pytest.raises(ValidationError):
        record_update(customer, data={"growth_potential": 9}, by=sales_user)
    assert Customer.objects.get(pk=customer.pk).growth_potential == 3


def test_first_entries_for_records_written_in_bulk():
    Customer.objects.bulk_create([Customer(code=f"B{i}", name=f"批量客户 {i}") for i in range(3)])
    assert Customer.history.count() == 0
    assert history_first_entries(Customer) == 3
    assert history_first_entries(Customer) == 0  # once only
    for customer in Customer.objects.all():
        first = customer.history.get()
        assert first.history_type == "+" and first.name == customer.name and first.history_date == customer.created_at


def test_the_demo_seed_gives_every_record_its_first_entry(settings, tmp_path):
    settings.BASE_DIR = tmp_path  # the command writes its logins there
    call_command("seed_demo", customers=60, seed=5, password="demo-pw-Long-1234", end=datetime.date(2026, 5, 31))
    customers = Customer.objects.count()
    assert Customer.history.filter(history_type="+").count() == customers == Customer.history.count()
    referred = Customer.objects.exclude(referred_by=None).first()
    if referred is not None:  # the first entry is the record as seeded, referral included
        assert referred.history.get().referred_by_id == referred.referred_by_id
    for model in (Complaint, Problem):
        assert model.objects.exists()
        assert not model.objects.exclude(pk__in=model.history.filter(history_type="+").values("id")).exists()


def test_settings_saved_untouched_make_no_new_version(executive_user):
    counts = (CostModel.objects.count(), ScoringModel.objects.count(), TierRules.objects.count())
    cost, tiers, scoring = CostModel.objects.latest(), TierRules.objects.latest(), ScoringModel.objects.latest()
    data = {
        "order_handling_cost": Decimal(str(cost.order_handling_cost)),
        "complaint_handling_cost": cost.complaint_handling_cost,
    }
    assert save_version(which="cost", data=data, by=executive_user) == (cost, False)
    assert (
        save_version(which="tiers", data={"core_pct": tiers.core_pct, "key_pct": tiers.key_pct}, by=executive_user)[1]
        is False
    )
    reordered = list(reversed(scoring.factors))
    assert save_version(which="scoring", data={"factors": reordered}, by=executive_user)[1] is False
    assert (CostModel.objects.count(), ScoringModel.objects.count(), TierRules.objects.count()) == counts
    version, created = save_version(
        which="tiers", data={"core_pct": tiers.core_pct + 1, "key_pct": tiers.key_pct}, by=executive_user
    )
    assert created and TierRules.objects.latest() == version


@pytest.mark.parametrize(
    "language, expected",
    [
        (
            "en",
            [
                "Status: Active → Churned",
                "Region: 华东 East China → 华南 South China",
                "Strategic: No → Yes",
                "Churned on: — → 2 Mar 2026",
                "Credit limit: 0.00 → 27,130,141.25",
            ],
        ),
        (
            "zh-hans",
            [
                "状态: 活跃 → 已流失",
                "区域: 华东 East China → 华南 South China",
                "战略客户: 否 → 是",
                "流失日期: — → 2026年3月2日",
                "信用额度: 0.00 → 27,130,141.25",
            ],
        ),
    ],
)
def test_history_shows_labels_names_and_formats_not_codes(client, sales_user, language, expected):
    east, south = RegionFactory(name="华东 East China"), RegionFactory(name="华南 South China")
    customer = CustomerFactory(owner=sales_user, region=east, since=datetime.date(2019, 11, 16))
    history_first_entries(Customer)
    customer_update(
        customer=customer,
        by=sales_user,
        data={
            "status": "churned",
            "churned_on": datetime.date(2026, 3, 2),
            "churn_reason": "price",
            "region": south,
            "strategic": True,
            "credit_limit": Decimal("27130141.25"),
        },
    )
    client.force_login(sales_user)
    client.cookies["django_language"] = language
    page = client.get(reverse("crm:customer_detail", args=[customer.pk])).content.decode()
    history = page[page.index('id="timeline"') :]  # the record's changes are on the customer's timeline
    for line in expected:
        assert line in history, line
    assert "churned" not in history.replace("churned_on", "")  # no raw code
