"""The role matrix of DESIGN section 2, page by page: who may do what, and what a wrong role gets."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from crm.models import Customer, Interaction
from tests.factories import CustomerFactory, InvoiceFactory, OrderFactory

pytestmark = pytest.mark.django_db

# Amounts unlikely to appear on a page by accident; a service rep must never receive them.
REVENUE = Decimal("98765.43")
COST = Decimal("61234.56")
SERVICE_COST = Decimal("4321.09")
INVOICE = Decimal("55555.17")


@pytest.fixture
def customer_with_money(owned_customer):
    OrderFactory(
        customer=owned_customer, revenue=REVENUE, cost=COST, service_cost=SERVICE_COST, ordered_on=datetime.date.today()
    )
    InvoiceFactory(customer=owned_customer, amount=INVOICE)
    return owned_customer


def money_strings():
    strings = []
    for amount in (REVENUE, COST, SERVICE_COST, INVOICE):
        strings += [f"{amount}", f"{amount:,}", f"{float(amount)}"]
    return strings


def edit_payload(customer, **overrides):
    data = {
        "name": customer.name,
        "kind": customer.kind,
        "industry": customer.industry_id or "",
        "region": customer.region_id or "",
        "status": customer.status,
        "since": customer.since.isoformat() if customer.since else "",
        "churned_on": "",
        "churn_reason": "",
        "credit_terms": customer.credit_terms,
        "credit_limit": "0.00",
        "strategic_note": "",
        "growth_potential": customer.growth_potential,
        "value_orientation": "",
        "email": "",
        "phone": "",
        "address": "",
        "language": customer.language,
        "referred_by_code": "",
    }
    data.update(overrides)
    return data


class TestAnonymous:
    @pytest.mark.parametrize(
        "name, args",
        [
            ("crm:customer_list", []),
            ("crm:customer_export", ["csv"]),
            ("crm:customer_detail", ["pk"]),
            ("crm:customer_update", ["pk"]),
            ("crm:customer_orders", ["pk"]),
        ],
    )
    def test_every_page_sends_to_login(self, client, owned_customer, name, args):
        url = reverse(name, args=[owned_customer.pk if a == "pk" else a for a in args])
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login") + "?next=")

    def test_logging_an_interaction_sends_to_login_and_writes_nothing(self, client, owned_customer):
        response = client.post(
            reverse("crm:interaction_create", args=[owned_customer.pk]),
            {"kind": "call", "occurred_on": "2026-01-01", "summary": "x"},
        )
        assert response.status_code == 302
        assert not Interaction.objects.exists()

    def test_login_page_is_open(self, client):
        assert client.get(reverse("login")).status_code == 200


class TestSales:
    def test_reads_list_and_any_customer(self, client, sales_user, other_sales_user):
        theirs = CustomerFactory(owner=other_sales_user)
        client.force_login(sales_user)
        assert client.get(reverse("crm:customer_list")).status_code == 200
        response = client.get(theirs.get_absolute_url())
        assert response.status_code == 200
        assert response.context["can_edit"] is False

    def test_edits_own_customer_and_history_records_who(self, client, sales_user, owned_customer):
        client.force_login(sales_user)
        response = client.post(
            reverse("crm:customer_update", args=[owned_customer.pk]),
            edit_payload(owned_customer, name="新名字 New name", growth_potential=5),
        )
        assert response.status_code == 302
        owned_customer.refresh_from_db()
        assert owned_customer.name == "新名字 New name"
        assert owned_customer.growth_potential == 5
        latest = owned_customer.history.first()
        assert latest.history_user == sales_user
        changed = {change.field for change in latest.diff_against(latest.prev_record).changes}
        assert changed == {"name", "growth_potential"}

    def test_cannot_edit_someone_elses_customer(self, client, sales_user, other_sales_user):
        theirs = CustomerFactory(owner=other_sales_user, name="Original")
        client.force_login(sales_user)
        url = reverse("crm:customer_update", args=[theirs.pk])
        assert client.get(url).status_code == 403
        assert client.post(url, edit_payload(theirs, name="Hijacked")).status_code == 403
        theirs.refresh_from_db()
        assert theirs.name == "Original"

    def test_logs_interaction_on_own_customer_only(self, client, sales_user, other_sales_user, owned_customer):
        theirs = CustomerFactory(owner=other_sales_user)
        client.force_login(sales_user)
        payload = {"kind": "visit", "occurred_on": "2026-03-02", "summary": "拜访客户", "next_follow_up": "2026-03-20"}
        response = client.post(reverse("crm:interaction_create", args=[owned_customer.pk]), payload)
        assert response.status_code == 302
        interaction = Interaction.objects.get()
        assert (interaction.customer, interaction.by, interaction.summary) == (owned_customer, sales_user, "拜访客户")
        assert client.post(reverse("crm:interaction_create", args=[theirs.pk]), payload).status_code == 403
        assert Interaction.objects.count() == 1

    def test_invalid_interaction_comes_back_with_the_error(self, client, sales_user, owned_customer):
        client.force_login(sales_user)
        response = client.post(
            reverse("crm:interaction_create", args=[owned_customer.pk]),
            {"kind": "call", "occurred_on": "2026-03-02", "summary": "x", "next_follow_up": "2026-03-01"},
        )
        assert response.status_code == 400
        assert response.context["interaction_form"].errors == {
            "next_follow_up": ["The follow-up cannot be before the interaction."]
        }
        assert not Interaction.objects.exists()

    def test_sees_money(self, client, sales_user, customer_with_money):
        client.force_login(sales_user)
        page = client.get(customer_with_money.get_absolute_url()).content.decode()
        assert "98,765.43" in page
        assert "55,555.17" in page


class TestService:
    def test_reads_customers_and_contacts(self, client, service_user, customer_with_money):
        client.force_login(service_user)
        assert client.get(reverse("crm:customer_list")).status_code == 200
        response = client.get(customer_with_money.get_absolute_url())
        assert response.status_code == 200
        assert customer_with_money.name in response.content.decode()

    def test_never_receives_money_on_the_customer_page(self, client, service_user, customer_with_money):
        client.force_login(service_user)
        response = client.get(customer_with_money.get_absolute_url())
        page = response.content.decode()
        for text in money_strings():
            assert text not in page
        assert "revenue_chart" not in response.context
        assert "invoices" not in response.context
        assert "plotly" not in page

    def test_never_receives_money_on_the_order_list(self, client, service_user, customer_with_money):
        client.force_login(service_user)
        response = client.get(reverse("crm:customer_orders", args=[customer_with_money.pk]))
        assert response.status_code == 200
        page = response.content.decode()
        assert customer_with_money.orders.get().number in page
        for text in money_strings():
            assert text not in page

    def test_cannot_export_edit_or_log_interactions(self, client, service_user, customer_with_money):
        client.force_login(service_user)
        assert client.get(reverse("crm:customer_export", args=["csv"])).status_code == 403
        assert client.get(reverse("crm:customer_export", args=["xlsx"])).status_code == 403
        assert client.get(reverse("crm:customer_update", args=[customer_with_money.pk])).status_code == 403
        response = client.post(
            reverse("crm:interaction_create", args=[customer_with_money.pk]),
            {"kind": "call", "occurred_on": "2026-01-01", "summary": "x"},
        )
        assert response.status_code == 403
        assert not Interaction.objects.exists()


class TestExecutive:
    def test_reads_everything_including_money(self, client, executive_user, customer_with_money):
        client.force_login(executive_user)
        assert client.get(reverse("crm:customer_list")).status_code == 200
        response = client.get(customer_with_money.get_absolute_url())
        page = response.content.decode()
        assert "98,765.43" in page and "55,555.17" in page
        assert response.context["revenue_chart"]["data"][0]["y"][-1] == float(REVENUE)
        assert client.get(reverse("crm:customer_export", args=["csv"])).status_code == 200
        assert client.get(reverse("crm:customer_orders", args=[customer_with_money.pk])).status_code == 200

    def test_records_are_read_only(self, client, executive_user, customer_with_money):
        client.force_login(executive_user)
        url = reverse("crm:customer_update", args=[customer_with_money.pk])
        assert client.get(url).status_code == 403
        assert client.post(url, edit_payload(customer_with_money, name="Changed")).status_code == 403
        response = client.post(
            reverse("crm:interaction_create", args=[customer_with_money.pk]),
            {"kind": "call", "occurred_on": "2026-01-01", "summary": "x"},
        )
        assert response.status_code == 403
        assert Customer.objects.get(pk=customer_with_money.pk).name != "Changed"


class TestNoRole:
    def test_logged_in_user_without_a_role_gets_403_everywhere(self, client, make_user, owned_customer):
        client.force_login(make_user(None, username="nobody"))
        for url in (
            reverse("crm:customer_list"),
            reverse("crm:customer_export", args=["csv"]),
            owned_customer.get_absolute_url(),
            reverse("crm:customer_update", args=[owned_customer.pk]),
            reverse("crm:customer_orders", args=[owned_customer.pk]),
        ):
            assert client.get(url).status_code == 403, url


class TestAdmin:
    def test_admin_edits_any_customer_and_opens_django_admin(self, client, admin_user_, owned_customer):
        client.force_login(admin_user_)
        response = client.post(
            reverse("crm:customer_update", args=[owned_customer.pk]), edit_payload(owned_customer, name="By admin")
        )
        assert response.status_code == 302
        owned_customer.refresh_from_db()
        assert owned_customer.name == "By admin"
        assert client.get(reverse("admin:crm_customer_changelist")).status_code == 200
