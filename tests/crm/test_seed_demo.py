"""seed_demo: deterministic, realistic, complete, and careful with an existing database."""

import datetime
import re
import stat
from decimal import Decimal

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.db.models import Count, Max, Q, Sum

from analytics.models import CustomerMonth
from complaints.models import Complaint, State
from crm.models import Customer, Interaction, Invoice, Order, Survey

pytestmark = pytest.mark.django_db
END = datetime.date(2026, 6, 30)
HISTORY_START = datetime.date(2024, 6, 1)  # the 24 months ending END


@pytest.fixture(autouse=True)
def logins_in_tmp(settings, tmp_path):
    """The command writes BASE_DIR/.demo-logins: keep the tests' logins away from the real demo's."""
    settings.BASE_DIR = tmp_path
    return tmp_path / ".demo-logins"


def seed(customers=150, seed=7, **kwargs):
    call_command("seed_demo", customers=customers, seed=seed, password="demo-pw-123", end=END, **kwargs)


def fingerprint():
    return (
        list(
            Customer.objects.order_by("code").values_list(
                "code", "name", "status", "since", "churned_on", "owner__username"
            )
        ),
        Order.objects.aggregate(n=Count("id"), revenue=Sum("revenue"), cost=Sum("cost"), service=Sum("service_cost")),
        Invoice.objects.aggregate(n=Count("id"), amount=Sum("amount")),
        Complaint.objects.count(),
    )


def counted_revenue_by_customer():
    rows = (
        Order.objects.filter(status__in=Order.COUNTED_STATUSES)
        .values("customer")
        .annotate(total=Sum("revenue"), margin=Sum("revenue") - Sum("cost") - Sum("service_cost"))
        .order_by("-total", "customer")
    )
    return list(rows)


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


def test_users_roles_and_password(seeded, logins_in_tmp):
    expected = {"sales": "Sales", "sales2": "Sales", "sales5": "Sales", "service": "Service", "executive": "Executive"}
    for username, group in expected.items():
        user = authenticate(username=username, password="demo-pw-123")
        assert user is not None and list(user.groups.values_list("name", flat=True)) == [group]
    logins = logins_in_tmp.read_text(encoding="utf-8")
    assert "executive" in logins and "demo-pw-123" in logins
    # the superuser has a generated password of its own, printed and saved with the others
    assert authenticate(username="admin", password="demo-pw-123") is None
    admin_password = re.search(r"^\s+admin\s+(\S+)\s+\(Admin\)$", logins, re.M)[1]
    admin = authenticate(username="admin", password=admin_password)
    assert admin.is_superuser and admin.is_staff
    assert stat.S_IMODE(logins_in_tmp.stat().st_mode) == 0o600
    # `sales` owns a realistic share; the other reps own most of the rest
    owners = dict(Customer.objects.values_list("owner__username").annotate(n=Count("id")))
    assert 0.1 <= owners["sales"] / Customer.objects.count() <= 0.3
    assert {"sales2", "sales3", "sales4", "sales5"} <= set(owners)


def test_without_password_one_is_generated_and_existing_users_are_reset(capsys, logins_in_tmp):
    # given: a demo user from an earlier database, with another password
    get_user_model().objects.create_user("sales", password="old-password")
    # when
    call_command("seed_demo", customers=20, seed=3, end=END)
    # then: the printed and saved password (token_urlsafe(9): 12 characters) logs everyone in
    password = re.search(r"^\s+sales\s+(\S+)\s+\(Sales\)$", capsys.readouterr().out, re.M)[1]
    assert len(password) == 12 and password != "old-password"
    assert authenticate(username="sales", password=password) is not None
    assert authenticate(username="executive", password=password) is not None
    assert password in logins_in_tmp.read_text(encoding="utf-8")


def test_prospects_have_no_orders_and_churned_stop_ordering(seeded):
    assert not Order.objects.filter(customer__status=Customer.Status.PROSPECT).exists()
    churned = Customer.objects.filter(status=Customer.Status.CHURNED)
    assert churned.exists()
    assert not churned.filter(Q(churn_reason="") | Q(churned_on__isnull=True)).exists()
    assert not churned.filter(Q(churned_on__lt=HISTORY_START) | Q(churned_on__gt=END)).exists()
    for customer in churned.annotate(last=Max("orders__ordered_on")):
        assert customer.last is None or customer.last <= customer.churned_on


def test_every_customer_is_valid(seeded):
    for customer in Customer.objects.all():
        customer.full_clean()


def test_shape_pareto_losses_chinese_history_invoices_and_neglect(seeded):
    rows = counted_revenue_by_customer()
    revenue = [row["total"] for row in rows]
    top = revenue[: len(revenue) // 5]
    assert sum(top) / sum(revenue) >= Decimal("0.6")
    top_tenth = rows[: max(1, len(rows) // 10)]
    assert any(row["margin"] < 0 for row in top_tenth), "a big customer loses money"
    assert Customer.objects.filter(name__regex=r"[\u4e00-\u9fff]").count() > 50
    assert Customer.objects.filter(name__regex=r"^[A-Za-z]").exists()
    assert Customer.objects.filter(kind=Customer.Kind.INDIVIDUAL).exists()
    first, last = (
        Order.objects.order_by("ordered_on").first().ordered_on,
        Order.objects.order_by("ordered_on").last().ordered_on,
    )
    assert first >= HISTORY_START and last <= END
    assert Order.objects.count() > 150 * 25
    assert (
        Survey.objects.exists()
        and Interaction.objects.exists()
        and Invoice.objects.filter(paid_on__isnull=True).exists()
    )

    # invoices bill the counted orders; some top customers had no contact in 60 days
    assert Invoice.objects.aggregate(total=Sum("amount"))["total"] == sum(revenue)
    biggest = [row["customer"] for row in rows[:30]]
    recent = Interaction.objects.filter(customer__in=biggest, occurred_on__gt=END - datetime.timedelta(days=60))
    assert set(biggest) - set(recent.values_list("customer", flat=True)), "a top customer with no contact in 60 days"
    assert Interaction.objects.filter(next_follow_up__gt=END).exists()


def test_complaints_in_every_state_and_monthly_totals_built(seeded):
    states = set(Complaint.objects.values_list("state", flat=True))
    assert states == set(State.values)
    assert Complaint.objects.exclude(problem=None).exists()
    counted = Order.objects.filter(status__in=Order.COUNTED_STATUSES).aggregate(total=Sum("revenue"))["total"]
    # SQLite sums decimals in floating point, so both sides are compared to the cent.
    cent = Decimal("0.01")
    assert CustomerMonth.objects.aggregate(total=Sum("revenue"))["total"].quantize(cent) == counted.quantize(cent)


def test_if_empty_leaves_an_existing_database_alone(seeded, capsys):
    before = fingerprint()
    call_command("seed_demo", customers=10, if_empty=True)
    assert "already has customers" in capsys.readouterr().out
    assert fingerprint() == before
    with pytest.raises(CommandError, match="The database already has customers"):
        call_command("seed_demo", customers=10)


def test_the_demo_opens_with_a_published_analysis_run_as_of_its_last_day(seeded):
    from analytics.services.runs import published_run

    run = published_run(with_company=True)
    assert run is not None and run.results.count() == Customer.objects.count()
    assert run.as_of == END
    assert run.company["tiers"]["D"] > 0  # loss-making customers show up as drains
