"""Bulk reassignment of customer owners (issue 19): who may, the confirmation, one request for
1,000 customers with one history entry each, all or nothing, and a selection that changed refused."""

import datetime
import threading
import time
from decimal import Decimal
from unittest import mock

import pytest
from django.contrib.messages import get_messages
from django.db import connection, transaction
from django.urls import reverse

from analytics.models import AnalysisRun, ScoringModel
from analytics.reports.portfolio import ownership_version, portfolio_cached
from analytics.reports.team import team_run_figures
from analytics.services.runs import run_compute, run_request
from crm import services
from crm.bulk import fingerprint
from crm.models import Customer
from crm.services import REASSIGN_REASON, ReassignError, customer_update, customers_reassign_owner
from tests.factories import CustomerFactory, OrderFactory

pytestmark = pytest.mark.django_db

URL = reverse("crm:customer_reassign")
LIST = reverse("crm:customer_list")


@pytest.fixture
def users(sales_user, other_sales_user, service_user, executive_user, admin_user_):
    return {
        "sales": sales_user,
        "service": service_user,
        "executive": executive_user,
        "admin": admin_user_,
        "target": other_sales_user,
    }


@pytest.fixture
def three(sales_user):
    return [CustomerFactory(code=f"R{i}", name=f"Reassigned {i}", owner=sales_user) for i in range(3)]


def texts(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def owners(customers) -> list:
    return list(
        Customer.objects.filter(pk__in=[c.pk for c in customers]).order_by("pk").values_list("owner", flat=True)
    )


def confirm_fields(client, params) -> dict:
    """The hidden fields of the confirmation page's form, as a browser posts them back."""
    response = client.get(URL, params)
    assert response.status_code == 200
    context = response.context
    fields = {name: [] for name, _value in context["carried"]}
    for name, value in context["carried"]:
        fields[name].append(value)
    fields.update(to=context["to"].pk, count=context["selection"].count, fingerprint=context["selection"].fingerprint)
    return fields


class TestWhoMay:
    @pytest.mark.parametrize("role, status", [("sales", 403), ("service", 403), ("executive", 200), ("admin", 200)])
    def test_confirmation_page(self, client, users, three, role, status):
        client.force_login(users[role])
        response = client.get(URL, {"ids": [c.pk for c in three], "to": users["target"].pk})
        assert response.status_code == status

    @pytest.mark.parametrize("role", ["sales", "service"])
    def test_others_cannot_post(self, client, users, three, role):
        client.force_login(users[role])
        ids = sorted(c.pk for c in three)
        response = client.post(URL, {"ids": ids, "to": users["target"].pk, "count": 3, "fingerprint": fingerprint(ids)})
        assert response.status_code == 403
        assert owners(three) == [users["sales"].pk] * 3

    @pytest.mark.parametrize(
        "role, ticks", [("sales", False), ("service", False), ("executive", True), ("admin", True)]
    )
    def test_only_they_get_tick_boxes(self, client, users, three, role, ticks):
        client.force_login(users[role])
        page = client.get(LIST).content.decode()
        assert ('name="ids"' in page) is ticks
        assert ('id="bulk-reassign"' in page) is ticks
        assert (reverse("crm:customer_reassign") in page) is ticks

    def test_tick_boxes_are_the_first_column(self, client, users, three):
        client.force_login(users["executive"])
        table = client.get(LIST).context["table"]
        assert [column.name for column in table.columns][:3] == ["select", "code", "name"]
        page = client.get(LIST).content.decode()
        assert f'value="{three[0].pk}"' in page and 'form="bulk-reassign"' in page


class TestConfirmation:
    def test_lists_count_sample_old_owners_and_new_owner(self, client, users, three):
        CustomerFactory(code="X9", name="Already theirs", owner=users["target"])
        client.force_login(users["executive"])
        response = client.get(URL, {"all": "1", "q": "e", "to": users["target"].pk})
        page = response.content.decode()
        assert response.context["selection"].count == 4
        assert response.context["already"] == 1 and response.context["moving"] == 3
        assert [(row["owner__username"], row["customers"]) for row in response.context["owners"]] == [
            ("sales1", 3),
            ("sales2", 1),
        ]
        assert "4 customers match the list's filter." in page
        assert "3 customers go to sales2, each with an entry in its history." in page
        assert "1 is already theirs and stays as it is." in page
        assert "Reassign 4 customers to sales2" in page
        for code in ("R0", "R1", "R2", "X9"):
            assert code in page
        assert f'name="fingerprint" value="{response.context["selection"].fingerprint}"' in page

    def test_without_a_target_asks_for_one(self, client, users, three):
        client.force_login(users["admin"])
        page = client.get(URL, {"ids": [three[0].pk]}).content.decode()
        assert "Choose the sales rep who gets the customers." in page
        assert 'name="fingerprint"' not in page

    def test_a_service_rep_is_no_target(self, client, users, three):
        client.force_login(users["admin"])
        page = client.get(URL, {"ids": [three[0].pk], "to": users["service"].pk}).content.decode()
        assert "Customers can only be given to an active sales rep." in page
        assert 'name="fingerprint"' not in page

    def test_nothing_selected(self, client, users):
        client.force_login(users["executive"])
        page = client.get(URL, {"to": users["target"].pk}).content.decode()
        assert "Tick the customers to reassign on the list, or select every customer matching the filter." in page

    def test_a_vanished_tick(self, client, users, three):
        client.force_login(users["executive"])
        page = client.get(URL, {"ids": [three[0].pk, 999999], "to": users["target"].pk}).content.decode()
        assert "1 of the ticked customers no longer exists; go back to the list and select again." in page


class TestReassign:
    def test_a_thousand_customers_in_one_request(self, client, users, django_assert_max_num_queries):
        old, target, executive = users["sales"], users["target"], users["executive"]
        Customer.objects.bulk_create([Customer(code=f"K{i:04d}", name=f"客户 {i}", owner=old) for i in range(1000)])
        CustomerFactory(code="OTHER", owner=None)  # outside the filter: stays as it is
        client.force_login(executive)
        fields = confirm_fields(client, {"all": "1", "owner": old.pk, "to": target.pk})
        assert fields["count"] == 1000
        with django_assert_max_num_queries(20):
            response = client.post(URL, fields)
        assert response.status_code == 302 and response.url == f"{LIST}?owner={target.pk}"
        assert texts(response) == ["1000 customers now belong to sales2."]
        assert Customer.objects.filter(owner=target).count() == 1000
        assert Customer.objects.get(code="OTHER").owner is None
        history = Customer.history.filter(history_type="~")
        assert history.count() == 1000
        assert set(history.values_list("history_user", "history_change_reason", "owner")) == {
            (executive.pk, REASSIGN_REASON, target.pk)
        }
        assert history.values("id").distinct().count() == 1000

    def test_ticked_customers_and_those_already_theirs(self, client, users, three):
        target = users["target"]
        theirs = CustomerFactory(code="T1", owner=target)
        client.force_login(users["admin"])
        fields = confirm_fields(client, {"ids": [*(c.pk for c in three), theirs.pk], "to": target.pk})
        response = client.post(URL, fields)
        assert texts(response) == [
            "3 customers now belong to sales2.",
            "1 was already theirs and was left as it was.",
        ]
        assert owners(three) == [target.pk] * 3
        assert theirs.history.count() == 1  # its "Created" entry only
        for customer in three:
            newest, older = customer.history.all()[:2]
            assert (newest.owner_id, older.owner_id) == (target.pk, users["sales"].pk)
            assert newest.history_user == users["admin"]

    def test_a_filter_whose_customers_changed_is_refused(self, client, users, three):
        target = users["target"]
        client.force_login(users["executive"])
        fields = confirm_fields(client, {"all": "1", "owner": users["sales"].pk, "to": target.pk})
        CustomerFactory(code="NEW", owner=users["sales"])  # joins the filter after the confirmation
        response = client.post(URL, fields)
        assert texts(response) == [
            "The selection changed since you confirmed it: 3 customers then, 4 now. "
            "Nothing was reassigned; check the selection below and confirm again."
        ]
        assert response.url.startswith(URL + "?all=1&owner=")
        assert Customer.objects.filter(owner=target).count() == 0
        assert Customer.history.filter(history_type="~").count() == 0

    def test_a_ticked_customer_gone_is_refused(self, client, users, three):
        client.force_login(users["executive"])
        fields = confirm_fields(client, {"ids": [c.pk for c in three], "to": users["target"].pk})
        three[2].delete()
        response = client.post(URL, fields)
        assert texts(response) == ["1 of the ticked customers no longer exists; go back to the list and select again."]
        assert owners(three[:2]) == [users["sales"].pk] * 2

    def test_a_forged_target_is_refused(self, client, users, three):
        client.force_login(users["executive"])
        fields = confirm_fields(client, {"ids": [c.pk for c in three], "to": users["target"].pk})
        response = client.post(URL, {**fields, "to": users["service"].pk})
        assert texts(response) == ["Customers can only be given to an active sales rep."]
        assert owners(three) == [users["sales"].pk] * 3


class TestService:
    def test_all_or_nothing_when_history_fails(self, users, three):
        with mock.patch.object(services, "history_change_entries", side_effect=RuntimeError("disk full")):
            with pytest.raises(RuntimeError):
                customers_reassign_owner(customer_ids=[c.pk for c in three], owner=users["target"], by=users["admin"])
        assert owners(three) == [users["sales"].pk] * 3

    def test_an_unknown_id_changes_nothing(self, users, three):
        with pytest.raises(ReassignError) as refused:
            customers_reassign_owner(
                customer_ids=[c.pk for c in three] + [999998, 999999], owner=users["target"], by=users["admin"]
            )
        assert refused.value.messages == [
            "2 of the selected customers no longer exist (ids 999998, 999999); nothing was reassigned. "
            "Go back to the list and select them again."
        ]
        assert owners(three) == [users["sales"].pk] * 3

    @pytest.mark.parametrize("who", ["service", "executive", "inactive"])
    def test_only_an_active_sales_rep_gets_them(self, users, three, who):
        owner = users["target"] if who == "inactive" else users[who]
        if who == "inactive":
            owner.is_active = False
            owner.save()
        with pytest.raises(ReassignError) as refused:
            customers_reassign_owner(customer_ids=[c.pk for c in three], owner=owner, by=users["admin"])
        assert refused.value.messages == ["Customers can only be given to an active sales rep."]
        assert owners(three) == [users["sales"].pk] * 3

    def test_a_selection_changed_once_locked_is_refused(self, users, three):
        ids = [c.pk for c in three]
        with pytest.raises(ReassignError) as refused:
            customers_reassign_owner(
                customer_ids=ids, owner=users["target"], by=users["admin"], reselect=lambda: ids[:2]
            )
        assert refused.value.messages == [
            "The selection changed while it was being reassigned: 3 customers then, 2 now. "
            "Nothing was reassigned; check the selection and confirm again."
        ]
        assert owners(three) == [users["sales"].pk] * 3

    def test_result_counts(self, users, three):
        ids = [c.pk for c in three]
        first = customers_reassign_owner(customer_ids=ids, owner=users["target"], by=users["admin"])
        again = customers_reassign_owner(customer_ids=ids, owner=users["target"], by=users["admin"])
        assert (first.changed, first.already, again.changed, again.already) == (3, 0, 0, 3)
        assert Customer.history.filter(history_type="~").count() == 3


class TestCachedOwnership:
    def test_a_reassignment_renews_the_ownership_version(self, users, three, django_capture_on_commit_callbacks):
        before = ownership_version()
        assert ownership_version() == before  # stable while nobody changes owner
        with django_capture_on_commit_callbacks(execute=True):
            customers_reassign_owner(customer_ids=[three[0].pk], owner=users["target"], by=users["admin"])
        assert ownership_version() != before

    def test_nothing_changed_keeps_it(self, users, three, django_capture_on_commit_callbacks):
        before = ownership_version()
        with django_capture_on_commit_callbacks(execute=True):
            customers_reassign_owner(customer_ids=[three[0].pk], owner=users["sales"], by=users["admin"])
        assert ownership_version() == before

    def test_one_customer_edited_to_another_owner_renews_it(self, users, three, django_capture_on_commit_callbacks):
        before = ownership_version()
        with django_capture_on_commit_callbacks(execute=True):
            customer_update(customer=three[0], data={"name": "Renamed"}, by=users["admin"])
        assert ownership_version() == before
        with django_capture_on_commit_callbacks(execute=True):
            customer_update(customer=three[0], data={"owner": users["target"]}, by=users["admin"])
        assert ownership_version() != before


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_customer_that_leaves_the_filter_while_locked_refuses_the_batch(sales_user, other_sales_user, admin_user_):
    """Another writer holds one of the selected customers and gives it away: the reassignment waits
    for its lock, then finds the filter selects other customers, and changes nothing."""
    chosen = [CustomerFactory(code=f"L{i}", owner=sales_user) for i in range(3)]
    ids = [c.pk for c in chosen]
    locked, results = threading.Event(), []

    def other_writer():
        try:
            with transaction.atomic():
                Customer.objects.select_for_update().get(pk=ids[2])
                locked.set()
                time.sleep(0.5)  # the reassignment arrives and waits for this row
                Customer.objects.filter(pk=ids[2]).update(owner=None)
        finally:
            connection.close()

    writer = threading.Thread(target=other_writer)
    writer.start()
    assert locked.wait(5)
    try:
        customers_reassign_owner(
            customer_ids=ids,
            owner=other_sales_user,
            by=admin_user_,
            reselect=lambda: list(Customer.objects.filter(owner=sales_user).values_list("pk", flat=True)),
        )
    except ReassignError as refused:
        results.append(refused.messages[0])
    writer.join()
    assert results == [
        "The selection changed while it was being reassigned: 3 customers then, 2 now. "
        "Nothing was reassigned; check the selection and confirm again."
    ]
    assert owners(chosen) == [sales_user.pk, sales_user.pk, None]
    assert Customer.history.filter(history_type="~").count() == 0


def test_the_portfolio_and_team_figures_kept_in_the_cache_follow_a_reassignment(
    users, django_capture_on_commit_callbacks
):
    """Kept per run and owner for minutes (analytics.reports.portfolio.CACHED_FOR): read once before,
    they would still say who owned what. The reassignment renews the ownership version in their keys."""
    ScoringModel.objects.create(factors=[["profit", 1]])
    old, new = users["sales"], users["target"]
    moved, kept = CustomerFactory(code="M1", owner=old), CustomerFactory(code="M2", owner=old)
    for customer in (moved, kept):
        OrderFactory(customer=customer, ordered_on=datetime.date(2026, 3, 1), revenue=Decimal("100.00"))
    run, _created = run_request(trigger=AnalysisRun.Trigger.COMMAND, as_of=datetime.date(2026, 6, 30), enqueue=False)
    run_compute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == AnalysisRun.Status.SUCCEEDED, run.error

    def customers_of():
        team = team_run_figures(run=run)
        return (
            team.get(old.pk, {}).get("customers", 0),
            team.get(new.pk, {}).get("customers", 0),
            portfolio_cached(run=run, owner=old)["customers_total"],
            portfolio_cached(run=run, owner=new)["customers_total"],
        )

    assert customers_of() == (2, 0, 2, 0)  # now in the cache
    with django_capture_on_commit_callbacks(execute=True):
        customers_reassign_owner(customer_ids=[moved.pk], owner=new, by=users["executive"])
    assert customers_of() == (1, 1, 1, 1)
