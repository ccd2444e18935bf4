"""seed_demo: deterministic, realistic, complete, and careful with an existing database."""
import datetime
from decimal import Decimal

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.db.models import Count, Q, Sum

from analytics.models import CustomerMonth
from complaints.models import Complaint, State
from crm.models import Customer, Interaction, Invoice, Order, Survey

pytestmark = pytest.mark.django_db
END = datetime.date(2026, 6, 30)


def seed(customers=150, seed=7, **kwargs):
    call_command("seed_demo", customers=customers, seed=seed, password="demo-pw-123", end=END, **kwargs)


def fingerprint():
    return (
        list(Customer.objects.order_by("code").values_list("code", "name", "status", "since", "churned_on", "owner__username")),
        Order.objects.aggregate(n=Count("id"), revenue=Sum("revenue"), cost=Sum("cost"), service=Sum("service_cost")),
        Invoice.objects.aggregate(n=Count("id"), amount=Sum("amount")),
        Complaint.objects.count(),
    )


@pytest.fixture
def seeded():
    seed()


def test_same_seed_same_data():
    with transaction.atomic():
        seed()
        first = fingerprint()
        transaction.set_rollback(True)
    assert not Customer.objects.exists()
    seed()
    assert fingerprint() == first
    assert first[1]["n"] > 0


def test_another_seed_other_data():
    with transaction.atomic():
        seed(seed=1)
        first = fingerprint()
        transaction.set_rollback(True)
    seed(seed=2)
    assert fingerprint() != first


def test_users_roles_and_password(seeded, settings):
    expected = {"sales": "Sales", "sales2": "Sales", "service": "Service", "executive": "Executive"}
    for username, group in expected.items():
        user = authenticate(username=username, password="demo-pw-123")
        assert user is not None and list(user.groups.values_list("name", flat=True)) == [group]
    admin = authenticate(username="admin", password="demo-pw-123")
    assert admin.is_superuser and admin.is_staff
    logins = (settings.BASE_DIR / ".demo-logins").read_text(encoding="utf-8")
    assert "executive" in logins and "demo-pw-123" in logins


def test_prospects_have_no_orders_and_churned_stop_ordering(seeded):
    assert not Order.objects.filter(customer__status=Customer.Status.PROSPECT).exists()
    churned = Customer.objects.filter(status=Customer.Status.CHURNED)
    assert churned.exists()
    assert not churned.filter(Q(churn_reason="") | Q(churned_on__isnull=True)).exists()
    for customer in churned:
        assert not customer.orders.filter(ordered_on__gt=customer.churned_on).exists()


def test_every_customer_is_valid(seeded):
    for customer in Customer.objects.all():
        customer.full_clean()


def test_shape_pareto_losses_chinese_and_history(seeded):
    revenue = sorted(
        (row["total"] for row in Order.objects.filter(status__in=Order.COUNTED_STATUSES)
         .values("customer").annotate(total=Sum("revenue"))),
        reverse=True,
    )  # fmt: skip
    top = revenue[: len(revenue) // 5]
    assert sum(top) / sum(revenue) >= Decimal("0.6")
    margins = Order.objects.filter(status__in=Order.COUNTED_STATUSES).values("customer").annotate(
        margin=Sum("revenue") - Sum("cost") - Sum("service_cost"), total=Sum("revenue"))
    assert any(row["margin"] < 0 and row["total"] >= top[-1] for row in margins), "a big customer loses money"
    assert Customer.objects.filter(name__regex=r"[\u4e00-\u9fff]").count() > 50
    assert Customer.objects.filter(name__regex=r"^[A-Za-z]").exists()
    first, last = Order.objects.order_by("ordered_on").first().ordered_on, Order.objects.order_by("ordered_on").last().ordered_on
    assert first >= datetime.date(2024, 6, 1) and last <= END
    assert Order.objects.count() > 150 * 25
    assert Survey.objects.exists() and Interaction.objects.exists() and Invoice.objects.filter(paid_on__isnull=True).exists()


def test_complaints_in_every_state_and_monthly_totals_built(seeded):
    states = set(Complaint.objects.values_list("state", flat=True))
    assert states == set(State.values)
    assert Complaint.objects.exclude(problem=None).exists()
    counted = Order.objects.filter(status__in=Order.COUNTED_STATUSES).aggregate(total=Sum("revenue"))["total"]
    assert CustomerMonth.objects.aggregate(total=Sum("revenue"))["total"] == counted


def test_if_empty_leaves_an_existing_database_alone(seeded, capsys):
    before = fingerprint()
    call_command("seed_demo", customers=10, if_empty=True)
    assert "already has customers" in capsys.readouterr().out
    assert fingerprint() == before
    with pytest.raises(CommandError, match="The database already has customers"):
        call_command("seed_demo", customers=10)


def test_the_demo_opens_with_a_published_analysis_run(seeded):
    from analytics.services.runs import published_run

    run = published_run(with_company=True)
    assert run is not None and run.results.count() == Customer.objects.count()
    assert run.company["tiers"]["D"] > 0  # loss-making customers show up as drains
