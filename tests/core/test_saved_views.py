"""Saved views, column choice and page size on the customer list and the complaint queue (core.saved_views)."""

from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth.models import Group
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import QuerySet
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.models import SavedView
from core.saved_views import saved_view_change, saved_view_create, saved_views_for
from crm.roles import Role
from tests.crm.test_customer_figures import published  # noqa: F401 - the fixture
from tests.factories import CustomerFactory, RegionFactory, make_complaint

pytestmark = pytest.mark.django_db

CUSTOMERS, QUEUE = "crm:customer_list", "complaints:queue"
DUPLICATE = (
    "You already have a view called “Key accounts” on this list. Choose another name, or open that view and save "
    "over it."
)
LEFT_OUT = "Some of this view's filters or columns are no longer available to you and were left out."


def shown(response) -> list[str]:
    return [column.name for column in response.context["table"].columns]


def rows(response) -> int:
    return len(response.context["table"].paginated_rows)


def flashed(response) -> list[str]:
    """The messages this response added (earlier ones, not yet shown, come before them)."""
    return [str(message) for message in get_messages(response.wsgi_request)][-1:]


def query_of(url: str) -> dict:
    return parse_qs(urlsplit(url).query)


def save(client, name, query="", cols="", list_key="crm.customers"):
    return client.post(
        reverse("saved_views:create"), {"name": name, "list_key": list_key, "query": query, "cols": cols}
    )


@pytest.fixture
def users(sales_user, other_sales_user, service_user, executive_user, admin_user_):
    return {
        "sales": sales_user,
        "other_sales": other_sales_user,
        "service": service_user,
        "executive": executive_user,
        "admin": admin_user_,
    }


# Column choice ---------------------------------------------------------------------------------


class TestColumns:
    def test_default_columns_are_unchanged(self, client, service_user):
        CustomerFactory()
        client.force_login(service_user)
        assert shown(client.get(reverse(CUSTOMERS))) == [
            "code",
            "name",
            "kind",
            "industry",
            "region",
            "owner",
            "status",
            "since",
            "growth_potential",
            "strategic",
        ]

    def test_chosen_columns_and_the_code_always(self, client, service_user):
        CustomerFactory(code="C1", region=RegionFactory(name="华东"))
        client.force_login(service_user)
        response = client.get(reverse(CUSTOMERS), {"cols": "region,name"})
        assert shown(response) == ["code", "name", "region"]
        head = response.content.decode().split("<thead", 1)[1].split("</thead>", 1)[0]
        assert "Region" in head and "Industry" not in head and "Owner" not in head
        # repeated (as the checkboxes send them) works the same; the code cannot be taken away
        assert shown(client.get(reverse(CUSTOMERS) + "?cols=region&cols=code")) == ["code", "region"]

    def test_unknown_columns_are_ignored_and_none_left_means_the_default(self, client, service_user):
        client.force_login(service_user)
        assert shown(client.get(reverse(CUSTOMERS), {"cols": "region,nonsense"})) == ["code", "region"]
        assert len(shown(client.get(reverse(CUSTOMERS), {"cols": "nonsense"}))) == 10

    def test_a_service_rep_is_never_offered_or_shown_money(self, client, service_user, published):  # noqa: F811
        client.force_login(service_user)
        response = client.get(reverse(CUSTOMERS), {"cols": "revenue,profit,tier,region"})
        assert shown(response) == ["code", "region"]
        offered = [column["name"] for column in response.context["list_views"]["columns"]]
        assert not {"revenue", "profit", "score", "rank", "tier", "quadrant", "action", "protection"} & set(offered)
        assert 'value="revenue"' not in response.content.decode()

    def test_money_roles_choose_figures_and_crm_columns_the_figures_table_leaves_out(
        self,
        client,
        sales_user,
        published,  # noqa: F811
    ):
        client.force_login(sales_user)
        response = client.get(reverse(CUSTOMERS), {"cols": "profit,industry,name", "sort": "-profit"})
        assert shown(response) == ["code", "name", "profit", "industry"]
        offered = [column["name"] for column in response.context["list_views"]["columns"]]
        assert {"revenue", "profit", "tier", "kind", "industry", "since"} <= set(offered)
        assert [row.record.code for row in response.context["table"].paginated_rows] == ["MID", "BIG", "NEW", "LOSS"]
        assert "2,000.00" in response.content.decode()  # MID's profit

    @pytest.mark.parametrize("user_fixture", ["sales_user", "service_user"])
    def test_columns_add_no_query_per_row(self, request, client, published, user_fixture):  # noqa: F811
        client.force_login(request.getfixturevalue(user_fixture))
        url, params = reverse(CUSTOMERS), {"cols": "name,industry,region,owner,kind", "per_page": "100"}
        CustomerFactory.create_batch(5)
        client.get(url)
        with CaptureQueriesContext(connection) as plain:
            client.get(url)
        with CaptureQueriesContext(connection) as few:
            client.get(url, params)
        CustomerFactory.create_batch(120)
        with CaptureQueriesContext(connection) as many:
            response = client.get(url, params)
        assert rows(response) == 100
        assert len(many.captured_queries) == len(few.captured_queries) == len(plain.captured_queries)

    def test_queue_columns_and_page_size_add_no_query_per_row(self, client, service_user):
        client.force_login(service_user)
        url, params = reverse(QUEUE), {"tab": "open", "cols": "customer,state,assignee,sla", "per_page": "50"}
        make_complaint(assignee=service_user)
        client.get(url, {"tab": "open"})
        with CaptureQueriesContext(connection) as plain:
            client.get(url, {"tab": "open"})
        with CaptureQueriesContext(connection) as few:
            client.get(url, params)
        for _ in range(55):
            make_complaint(assignee=service_user)
        with CaptureQueriesContext(connection) as many:
            response = client.get(url, params)
        assert rows(response) == 50 and shown(response) == ["number", "customer", "state", "assignee", "sla"]
        assert len(many.captured_queries) == len(few.captured_queries) == len(plain.captured_queries)

    def test_exports_keep_their_own_columns(self, client, sales_user):
        """The exports are the import file's columns (crm/exports.py), not the table's: ?cols= leaves them."""
        CustomerFactory(code="C1")
        client.force_login(sales_user)
        plain = client.get(reverse("crm:customer_export", args=["csv"]))
        chosen = client.get(reverse("crm:customer_export", args=["csv"]), {"cols": "region", "per_page": "25"})
        assert b"".join(chosen.streaming_content) == b"".join(plain.streaming_content)

    def test_the_complaint_queue_columns(self, client, service_user):
        make_complaint(assignee=service_user)
        client.force_login(service_user)
        response = client.get(reverse(QUEUE), {"tab": "mine", "cols": "state,customer,sla"})
        assert shown(response) == ["number", "customer", "state", "sla"]
        assert rows(response) == 1


# Page size -------------------------------------------------------------------------------------


class TestPageSize:
    @pytest.mark.parametrize(
        "asked, listed", [("", 50), ("25", 25), ("100", 100), ("200", 200), ("1000", 50), ("0", 50), ("abc", 50)]
    )
    def test_customer_list_page_sizes_are_bounded(self, client, service_user, asked, listed):
        CustomerFactory.create_batch(210)
        client.force_login(service_user)
        response = client.get(reverse(CUSTOMERS), {"per_page": asked, "sort": "code"})
        assert rows(response) == listed
        assert response.context["table"].paginator.per_page == listed

    def test_queue_default_stays_25_and_50_is_offered(self, client, service_user):
        for _ in range(60):
            make_complaint(assignee=service_user)
        client.force_login(service_user)
        assert rows(client.get(reverse(QUEUE), {"tab": "mine"})) == 25
        assert rows(client.get(reverse(QUEUE), {"tab": "mine", "per_page": "50"})) == 50
        assert rows(client.get(reverse(QUEUE), {"tab": "mine", "per_page": "5000"})) == 25

    def test_page_size_and_columns_are_kept_by_sort_page_filter_and_tab_links(self, client, service_user):
        CustomerFactory.create_batch(60)
        client.force_login(service_user)
        response = client.get(reverse(CUSTOMERS), {"per_page": "25", "cols": "name,region", "sort": "name"})
        page = response.content.decode()
        assert 'href="?per_page=25&amp;cols=name%2Cregion&amp;sort=-name"' in page  # the sort link
        assert 'href="?per_page=25&amp;cols=name%2Cregion&amp;sort=name&amp;page=2"' in page  # the next page
        assert '<input type="hidden" name="per_page" value="25">' in page  # the filter form keeps them
        assert '<input type="hidden" name="cols" value="name,region">' in page
        make_complaint(assignee=service_user)
        page = client.get(reverse(QUEUE), {"tab": "mine", "per_page": "100"}).content.decode()
        assert 'href="?tab=unassigned&amp;per_page=100"' in page


# Saved views -----------------------------------------------------------------------------------


class TestSave:
    @pytest.mark.parametrize("role", ["sales", "service", "executive", "admin"])
    def test_every_role_saves_a_customer_view_normalised(self, client, users, role):
        region = RegionFactory()
        client.force_login(users[role])
        response = save(
            client,
            "Key accounts",
            query=f"sort=-name&page=4&bogus=1&region={region.pk}&status=active&per_page=100&q=",
            cols="region,nonsense,name",
        )
        view = SavedView.objects.get(user=users[role])
        assert (view.list_key, view.name, view.columns) == ("crm.customers", "Key accounts", ["name", "region"])
        assert view.query == f"region={region.pk}&status=active&sort=-name&per_page=100"
        assert response.status_code == 302
        assert response["Location"] == (
            f"/customers/?region={region.pk}&status=active&sort=-name&per_page=100&cols=name%2Cregion&view={view.pk}"
        )

    @pytest.mark.parametrize(
        "name, error",
        [
            ("", "Give the view a name."),
            ("   ", "Give the view a name."),
            ("x" * 81, "Ensure this value has at most 80 characters (it has 81)."),
            ("Key accounts", DUPLICATE),
        ],
    )
    def test_refused_names_say_why(self, client, sales_user, name, error):
        client.force_login(sales_user)
        save(client, "Key accounts", query="status=active")
        response = save(client, name, query="status=churned")
        assert response.status_code == 200
        assert response.context["form"].errors["name"] == [error]
        assert error.replace("“", "&ldquo;") in response.content.decode() or error in response.content.decode()
        assert SavedView.objects.filter(user=sales_user).count() == 1
        assert SavedView.objects.get(user=sales_user).query == "status=active"

    def test_the_same_name_is_free_on_another_list_and_for_another_user(self, client, sales_user, other_sales_user):
        client.force_login(sales_user)
        save(client, "Key accounts")
        assert save(client, "Key accounts", query="tab=all", list_key="complaints.queue").status_code == 302
        client.force_login(other_sales_user)
        assert save(client, "Key accounts").status_code == 302
        assert SavedView.objects.count() == 3

    def test_an_unknown_list_is_404_and_anonymous_goes_to_login(self, client, sales_user):
        assert client.post(reverse("saved_views:create"), {"name": "x", "list_key": "crm.customers"}).status_code == 302
        client.force_login(sales_user)
        assert save(client, "x", list_key="nothing.here").status_code == 404
        assert not SavedView.objects.exists()

    def test_a_user_without_the_list_gets_403(self, client, make_user):
        client.force_login(make_user(None, username="nobody"))
        assert client.get(reverse(CUSTOMERS)).status_code == 403
        assert save(client, "x").status_code == 403
        assert save(client, "x", list_key="complaints.queue").status_code == 403
        assert not SavedView.objects.exists()

    def test_a_name_taken_by_a_concurrent_save_is_refused_by_the_constraint(self, sales_user, monkeypatch):
        SavedView.objects.create(user=sales_user, list_key="crm.customers", name="Key accounts")
        monkeypatch.setattr(QuerySet, "exists", lambda self: False)  # the other request saved it after our check
        with pytest.raises(ValidationError) as refused:
            saved_view_create(user=sales_user, list_key="crm.customers", name="Key accounts", query="", columns=[])
        assert refused.value.messages == [DUPLICATE]
        assert SavedView.objects.filter(user=sales_user).count() == 1

    def test_the_queue_keeps_its_tab(self, client, service_user):
        client.force_login(service_user)
        save(client, "Waiting", query="tab=unassigned&severity=high&sort=-received_at", list_key="complaints.queue")
        view = SavedView.objects.get()
        assert view.query == "severity=high&tab=unassigned&sort=-received_at"
        response = client.get(reverse(QUEUE), {"open_view": view.pk})
        assert response["Location"] == f"/complaints/?severity=high&tab=unassigned&sort=-received_at&view={view.pk}"
        assert client.get(response["Location"]).context["current_tab"] == "unassigned"


class TestOpen:
    def test_open_own_view_restores_the_state(self, client, service_user):
        CustomerFactory.create_batch(30, status="active")
        client.force_login(service_user)
        save(client, "Active", query="status=active&sort=-code&per_page=25", cols="name,status")
        view = SavedView.objects.get()
        response = client.get(reverse(CUSTOMERS), {"open_view": view.pk})
        assert response.status_code == 302
        listed = client.get(response["Location"])
        assert shown(listed) == ["code", "name", "status"] and rows(listed) == 25
        assert listed.context["list_views"]["current"] == view
        assert listed.context["list_views"]["current_is_mine"]
        assert f'<option value="{view.pk}" selected>Active</option>' in listed.content.decode()

    def test_someone_elses_unshared_view_does_not_open(self, client, sales_user, other_sales_user):
        client.force_login(other_sales_user)
        save(client, "Mine only", query="status=active")
        view = SavedView.objects.get()
        client.force_login(sales_user)
        response = client.get(reverse(CUSTOMERS), {"open_view": view.pk})
        assert response["Location"] == "/customers/"
        assert flashed(response) == ["That saved view does not exist, or is not shared with you."]
        assert client.get(reverse(CUSTOMERS)).context["list_views"]["views"] == []

    def test_a_view_of_the_other_list_does_not_open_here(self, client, service_user):
        client.force_login(service_user)
        save(client, "Queue", query="tab=all", list_key="complaints.queue")
        response = client.get(reverse(CUSTOMERS), {"open_view": SavedView.objects.get().pk})
        assert response["Location"] == "/customers/"

    def test_a_stale_view_opens_without_what_no_longer_exists(self, client, sales_user):
        region = RegionFactory()
        view = SavedView.objects.create(
            user=sales_user,
            list_key="crm.customers",
            name="Old",
            query="region=999999&bogus=1&status=active&status_old=x&sort=-gone&per_page=7",
            columns=["gone", "region"],
        )
        client.force_login(sales_user)
        response = client.get(reverse(CUSTOMERS), {"open_view": view.pk})
        assert response["Location"] == f"/customers/?status=active&cols=region&view={view.pk}"
        assert flashed(response) == [LEFT_OUT]
        assert client.get(response["Location"]).status_code == 200
        # a region that still exists is kept, and nothing is said
        view.query, view.columns = f"region={region.pk}", ["region"]
        view.save()
        response = client.get(reverse(CUSTOMERS), {"open_view": view.pk})
        assert response["Location"] == f"/customers/?region={region.pk}&cols=region&view={view.pk}"
        assert flashed(response) == []

    def test_a_stale_queue_tab_is_left_out_not_404(self, client, service_user):
        view = SavedView.objects.create(user=service_user, list_key="complaints.queue", name="Old", query="tab=gone")
        client.force_login(service_user)
        response = client.get(reverse(QUEUE), {"open_view": view.pk})
        assert response["Location"] == f"/complaints/?view={view.pk}"
        assert client.get(response["Location"]).status_code == 200


class TestShare:
    @pytest.fixture
    def shared(self, client, executive_user, published):  # noqa: F811
        client.force_login(executive_user)
        save(client, "Top tier", query="tier=A&sort=-profit&status=active", cols="profit,region,revenue")
        view = SavedView.objects.get()
        response = client.post(
            reverse("saved_views:settings", args=[view.pk]),
            {"settings-name": "Top tier", "settings-shared_with": Group.objects.get(name=Role.SERVICE).pk},
        )
        assert response["Location"] == f"/customers/?open_view={view.pk}"
        view.refresh_from_db()
        assert view.shared_with.name == "Service"
        return view

    def test_a_service_rep_opens_an_executives_view_without_money(self, client, service_user, shared):
        client.force_login(service_user)
        page = client.get(reverse(CUSTOMERS))
        assert page.context["list_views"]["views"] == [shared]
        assert "Top tier · shared by exec1" in page.content.decode()
        response = client.get(reverse(CUSTOMERS), {"open_view": shared.pk})
        assert response["Location"] == f"/customers/?status=active&cols=region&view={shared.pk}"
        assert flashed(response) == [LEFT_OUT]
        listed = client.get(response["Location"])
        assert shown(listed) == ["code", "region"]
        assert not listed.context["list_views"]["current_is_mine"]
        text = listed.content.decode()
        assert "is shared by exec1 and read-only for you" in text
        assert "Revenue" not in text and "Profit" not in text
        # and typing the money columns into the address changes nothing
        assert shown(client.get(response["Location"] + "&cols=revenue,profit")) == ["code", "region"]

    def test_the_view_is_read_only_for_the_role_and_invisible_to_others(self, client, service_user, sales_user, shared):
        before = (shared.name, shared.query, shared.columns, shared.updated_at)
        client.force_login(service_user)
        for name, data in [
            ("saved_views:update", {"query": "status=churned"}),
            ("saved_views:settings", {"settings-name": "Mine now"}),
            ("saved_views:delete", {}),
        ]:
            assert client.post(reverse(name, args=[shared.pk]), data).status_code == 403
        client.force_login(sales_user)  # not in Service: the view does not exist for them
        for name in ("saved_views:update", "saved_views:settings", "saved_views:delete"):
            assert client.post(reverse(name, args=[shared.pk]), {}).status_code == 404
        assert client.get(reverse(CUSTOMERS), {"open_view": shared.pk})["Location"] == "/customers/"
        shared.refresh_from_db()
        assert (shared.name, shared.query, shared.columns, shared.updated_at) == before

    def test_a_member_saves_a_copy_of_their_own(self, client, service_user, shared):
        client.force_login(service_user)
        assert save(client, "Top tier", query="tier=A&status=active", cols="region,revenue").status_code == 302
        copy = SavedView.objects.get(user=service_user)
        assert (copy.query, copy.columns) == ("status=active", ["region"])
        assert [view.name for view in saved_views_for(user=service_user, list_key="crm.customers")] == [
            "Top tier",
            "Top tier",
        ]


class TestChange:
    @pytest.fixture
    def view(self, client, sales_user):
        client.force_login(sales_user)
        save(client, "Key accounts", query="status=active", cols="name,region")
        save(client, "Lost", query="status=churned")
        return SavedView.objects.get(name="Key accounts")

    def test_save_over_with_the_current_state(self, client, view):
        response = client.post(
            reverse("saved_views:update", args=[view.pk]), {"query": "status=churned&x=1", "cols": "kind"}
        )
        view.refresh_from_db()
        assert (view.query, view.columns) == ("status=churned", ["kind"])
        assert response["Location"] == f"/customers/?status=churned&cols=kind&view={view.pk}"
        assert flashed(response) == ["View “Key accounts” saved."]

    def test_saved_untouched_changes_nothing(self, client, view):
        updated = view.updated_at
        response = client.post(
            reverse("saved_views:update", args=[view.pk]), {"query": "status=active", "cols": "name,region"}
        )
        assert flashed(response) == ["Nothing changed in “Key accounts”."]
        response = client.post(
            reverse("saved_views:settings", args=[view.pk]),
            {"settings-name": "Key accounts", "settings-shared_with": ""},
        )
        assert flashed(response) == ["Nothing changed in “Key accounts”."]
        view.refresh_from_db()
        assert view.updated_at == updated

    def test_rename_and_its_errors(self, client, view):
        url = reverse("saved_views:settings", args=[view.pk])
        response = client.post(url, {"settings-name": "Lost"})
        assert response.status_code == 200
        assert response.context["form"].errors["name"] == [
            "You already have a view called “Lost” on this list. Choose another name, or open that view and save over it."
        ]
        assert client.post(url, {"settings-name": ""}).context["form"].errors["name"] == ["Give the view a name."]
        client.post(url, {"settings-name": "Big ones"})
        view.refresh_from_db()
        assert view.name == "Big ones"

    def test_the_service_refuses_a_taken_name(self, view, sales_user):
        with pytest.raises(Exception, match="Lost"):
            saved_view_change(user=sales_user, pk=view.pk, name="Lost")

    def test_delete_own(self, client, view):
        response = client.post(reverse("saved_views:delete", args=[view.pk]))
        assert response["Location"] == "/customers/"
        assert flashed(response) == ["View “Key accounts” deleted."]
        assert not SavedView.objects.filter(pk=view.pk).exists()
        assert client.post(reverse("saved_views:delete", args=[view.pk])).status_code == 404

    def test_get_is_not_allowed(self, client, view):
        assert client.get(reverse("saved_views:delete", args=[view.pk])).status_code == 405
        assert SavedView.objects.filter(pk=view.pk).exists()
