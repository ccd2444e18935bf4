"""The customer list's lean rows (crm.tables.LeanRowsMixin) and its pages (IdsFirstPaginator).

The rows are written without django-tables2's BoundRow/BoundCell per cell; these tests hold
them to the cells django-tables2's own template writes for the same page, for both tables
(with and without money), in English and in Chinese, and check the pages and counts.
"""

import datetime
import re
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from analytics.customer_figures import CustomerValueTable
from analytics.models import AnalysisRun
from analytics.services.runs import run_compute, run_request
from crm.models import Customer
from crm.tables import LEAN_TEMPLATE, CustomerTable
from tests.factories import CustomerFactory, OrderFactory, RegionFactory

pytestmark = pytest.mark.django_db

STOCK_TEMPLATE = "django_tables2/bootstrap5.html"


def tbody(html: str) -> str:
    """The table body with the whitespace between tags removed (the stock template indents)."""
    body = re.search(r"<tbody[^>]*>(.*?)</tbody>", html, re.S)[1]
    return re.sub(r">\s+<", "><", body).strip()


def stock_tbody(response, language: str) -> str:
    """The same page's table written by django-tables2's own template (BoundRow/BoundCell per cell)."""
    return tbody(stock_html(response.context["table"], response.wsgi_request, language))


def stock_html(table, request, language: str) -> str:
    lean_template = table.template_name
    table.template_name = STOCK_TEMPLATE
    try:
        with translation.override(language):
            return table.as_html(request)
    finally:
        table.template_name = lean_template


def cells(html: str) -> list[list[str]]:
    return [re.findall(r"<td[^>]*>(.*?)</td>", row) for row in re.findall(r"<tr[^>]*>(.*?)</tr>", tbody(html))]


def get(client, user, language="en", **params):
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client.get(reverse("crm:customer_list"), params)


@pytest.fixture
def published(sales_user):
    """Customers that exercise every kind of cell: loss, large figures, no owner/region, markup in a name."""
    today = datetime.date.today()
    east = RegionFactory(name="华东 East China")
    big = CustomerFactory(
        code="BIG", name="杭州大客户有限公司", owner=sales_user, region=east, since=datetime.date(2021, 3, 9)
    )
    loss = CustomerFactory(
        code="LOSS", name="<b>Loss & Co</b>", region=None, industry=None, since=today - datetime.timedelta(days=400)
    )
    CustomerFactory(code="NEW", name="New prospect", status=Customer.Status.PROSPECT, since=None, strategic=True)
    CustomerFactory(code="GONE", name="Gone Ltd", status=Customer.Status.CHURNED, churned_on=today)
    OrderFactory(
        customer=big,
        ordered_on=today,
        revenue=Decimal("1234567.89"),
        cost=Decimal("1000000.00"),
        service_cost=Decimal("0"),
    )
    OrderFactory(
        customer=loss,
        ordered_on=today,
        revenue=Decimal("2000.00"),
        cost=Decimal("1900.00"),
        service_cost=Decimal("300.00"),
    )
    run, _ = run_request(trigger=AnalysisRun.Trigger.COMMAND, enqueue=False)
    run_compute(run_id=run.pk)
    return run


class TestLeanRowsEqualDjangoTables2:
    @pytest.mark.parametrize("language", ["en", "zh-hans"])
    @pytest.mark.parametrize("sort", ["name", "-profit", "code"])
    def test_money_table(self, client, sales_user, published, language, sort):
        response = get(client, sales_user, language, sort=sort)
        table = response.context["table"]
        assert isinstance(table, CustomerValueTable) and table.template_name == LEAN_TEMPLATE
        page = response.content.decode()
        assert tbody(page) == stock_tbody(response, language)
        assert len(cells(page)) == 4 and all(len(row) == 13 for row in cells(page))

    @pytest.mark.parametrize("language", ["en", "zh-hans"])
    def test_table_without_money(self, client, service_user, published, language):
        response = get(client, service_user, language, sort="code")
        assert type(response.context["table"]) is CustomerTable
        page = response.content.decode()
        assert tbody(page) == stock_tbody(response, language)
        codes = ("BIG", "GONE", "LOSS", "NEW")
        links = [f'<a href="{Customer.objects.get(code=code).get_absolute_url()}">{code}</a>' for code in codes]
        assert [row[0] for row in cells(page)] == links

    @pytest.mark.parametrize("user_fixture", ["sales_user", "service_user"])
    def test_every_column_is_written_without_a_bound_row(self, request, client, published, user_fixture):
        """The fast path serves every column of both tables (the fallback is for columns it cannot write)."""
        table = get(client, request.getfixturevalue(user_fixture), sort="code").context["table"]
        writers = [table._lean_cell_writer(column) for column in table.columns]
        assert [w.__name__ for w in writers] == ["write"] * len(table.columns)

    def test_empty_state_is_the_tables_empty_text(self, client, sales_user, published):
        response = get(client, sales_user, q="nothing-like-this")
        page = response.content.decode()
        assert tbody(page) == stock_tbody(response, "en")
        assert tbody(page) == (
            '<tr><td colspan="13">No customer matches these filters. '
            "Clear a filter or search for another code or name.</td></tr>"
        )


class TestCells:
    def row_of(self, page, code):
        return next(row for row in cells(page) if f">{code}</a>" in row[0])

    def test_money_cells_in_english(self, client, sales_user, published):
        page = get(client, sales_user, sort="code").content.decode()
        big, loss, new = (self.row_of(page, code) for code in ("BIG", "LOSS", "NEW"))
        big_pk = Customer.objects.get(code="BIG").pk
        assert big[:5] == [
            f'<a href="/customers/{big_pk}/">BIG</a>',
            f'<a href="/customers/{big_pk}/">杭州大客户有限公司</a>',
            "华东 East China",
            "sales1",
            "Active",
        ]
        assert big[5:7] == ["1,234,567.89", '<span class="">234,567.89</span>']  # revenue, profit
        assert loss[1].endswith(">&lt;b&gt;Loss &amp; Co&lt;/b&gt;</a>")  # markup in a name is text
        assert loss[2:4] == ["—", "—"]  # no region, no owner
        assert loss[6] == '<span class="neg">-200.00</span>'  # a loss is marked
        assert loss[9] == '<span class="tier tier-D">D</span>' and loss[11] == "Reduce"
        assert new[6] == '<span class="">0.00</span>' and new[9] == '<span class="tier tier-P">P</span>'
        assert '<td class="num">1,234,567.89</td>' in page  # the column's attributes are kept

    def test_cells_in_chinese(self, client, sales_user, service_user, published):
        page = get(client, sales_user, "zh-hans", sort="code").content.decode()
        big, loss = self.row_of(page, "BIG"), self.row_of(page, "LOSS")
        assert big[4:7] == ["活跃", "1,234,567.89", '<span class="">234,567.89</span>']  # grouped in Chinese too
        assert loss[6] == '<span class="neg">-200.00</span>' and loss[11] == "减少投入"  # Reduce
        service_page = get(client, service_user, "zh-hans", sort="code").content.decode()
        assert self.row_of(service_page, "BIG")[7] == "2021年3月9日"  # customer since, zh-hans date
        assert self.row_of(service_page, "NEW")[9] == (  # strategic: a mark named for screen readers
            '<span class="flag strategic" title="战略客户">★<span class="visually-hidden">战略客户</span></span>'
        )
        assert self.row_of(service_page, "BIG")[9] == ""  # not strategic: no mark at all


class TestPages:
    def test_sort_links_and_pagination_stay(self, client, sales_user):
        CustomerFactory.create_batch(60)
        page = get(client, sales_user, sort="name", page=2).content.decode()
        assert '<a href="?sort=-name&amp;page=2">Name</a>' in page  # next sort of the sorted column
        assert '<a href="?sort=profit&amp;page=2">' not in page  # no run published: no figure columns
        assert 'href="?sort=name&amp;page=1"' in page  # back to page 1
        assert 'class="page-item active"' in page

    def test_pages_split_equal_names_without_overlap(self, client, sales_user):
        """Sorting on a name many customers share: the primary key breaks the tie, page by page."""
        CustomerFactory.create_batch(60, name="同名客户")
        client.force_login(sales_user)
        first = [row.record.pk for row in get(client, sales_user, sort="name").context["table"].paginated_rows]
        second = [row.record.pk for row in get(client, sales_user, sort="name", page=2).context["table"].paginated_rows]
        assert len(first) == 50 and len(second) == 10
        assert first + second == sorted(Customer.objects.values_list("pk", flat=True))
        down = [row.record.pk for row in get(client, sales_user, sort="-name", page=2).context["table"].paginated_rows]
        assert down == sorted(Customer.objects.values_list("pk", flat=True))[50:]  # ties ascending by key either way

    def test_a_deep_page_holds_the_rows_of_the_plain_offset(self, client, sales_user, published):
        CustomerFactory.create_batch(120)
        response = get(client, sales_user, sort="-profit", page=3)
        by_profit = Customer.objects.filter(results__run=published).order_by("-results__profit", "pk")
        expected = list(by_profit.values_list("code", flat=True)[100:])
        table = response.context["table"]
        assert [row.record.code for row in table.paginated_rows] == expected
        assert table.paginator.count == 124
        assert tbody(response.content.decode()) == stock_tbody(response, "en")  # figures came with the rows

    @pytest.mark.parametrize(
        "user_fixture, params, first",
        [
            ("sales_user", {"sort": "name"}, 10),
            ("sales_user", {"sort": "-profit", "page": 2}, 60),
            ("sales_user", {"tier": "P", "sort": "-score"}, 10),
            ("service_user", {"sort": "region", "page": 2}, 60),
            ("service_user", {"q": "Customer"}, 10),
        ],
    )
    def test_query_count_does_not_grow_with_customers(self, request, client, published, user_fixture, params, first):
        """10 then 60 customers on the first page; 60 then 110 on the second (which needs more than 50)."""
        user = request.getfixturevalue(user_fixture)
        CustomerFactory.create_batch(first)
        client.force_login(user)
        url = reverse("crm:customer_list")
        client.get(url, params)  # the top bar's unread count is read once, then cached: measure the pages after
        with CaptureQueriesContext(connection) as few:
            client.get(url, params)
        CustomerFactory.create_batch(50)
        with CaptureQueriesContext(connection) as many:
            response = client.get(url, params)
        assert response.status_code == 200 and response.context["table"].paginated_rows
        assert len(many.captured_queries) == len(few.captured_queries) <= 13


class TestCount:
    def count_sql(self, client, user, params):
        client.force_login(user)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("crm:customer_list"), params)
        # the list's own count (the top bar's unread notifications are counted apart)
        counts = [
            q["sql"]
            for q in queries.captured_queries
            if "count(" in q["sql"].lower() and "notification" not in q["sql"]
        ]
        assert len(counts) == 1
        return response, counts[0]

    def test_sorting_by_a_figure_counts_without_the_results(self, client, sales_user, published):
        response, sql = self.count_sql(client, sales_user, {"sort": "-profit"})
        assert "analytics_customerresult" not in sql.lower()
        assert response.context["table"].paginator.count == 4

    @pytest.mark.parametrize(
        "params, joined",
        [
            ({"sort": "code", "page": 2}, False),
            ({"sort": "region"}, False),
            ({"sort": "-profit"}, True),
            ({"tier": "P", "sort": "name"}, True),  # the figure filter needs the run's rows
        ],
    )
    def test_the_page_keys_join_the_results_only_when_sorted_or_filtered_on_them(
        self, client, sales_user, published, params, joined
    ):
        CustomerFactory.create_batch(60)
        client.force_login(sales_user)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("crm:customer_list"), params)
        page_sql = [q["sql"] for q in queries.captured_queries if "LIMIT" in q["sql"] and "IN (SELECT" in q["sql"]]
        assert len(page_sql) == 1
        keys = page_sql[0].split("IN (SELECT", 1)[1]
        assert ("analytics_customerresult" in keys) is joined
        assert response.context["table"].paginated_rows  # and the page has its rows

    def test_a_figure_filter_alone_counts_the_runs_rows(self, client, sales_user, published):
        response, sql = self.count_sql(client, sales_user, {"tier": "D", "sort": "-score"})
        assert 'FROM "analytics_customerresult"' in sql and "crm_customer" not in sql
        assert response.context["table"].paginator.count == 1
        assert [row.record.code for row in response.context["table"].paginated_rows] == ["LOSS"]

    def test_figure_and_customer_filters_count_together(self, client, sales_user, published):
        response, sql = self.count_sql(client, sales_user, {"tier": "P", "q": "prospect"})
        assert "crm_customer" in sql and "analytics_customerresult" in sql
        assert response.context["table"].paginator.count == 1
        response, _sql = self.count_sql(client, sales_user, {"tier": "P", "status": "active"})
        assert response.context["table"].paginator.count == 0  # tier P holds no active customer


class TestShortChineseSearch:
    NAMES = ["杭州西湖茶业", "西湖物流", "湖南商贸", "Harbor 湖 Ltd", "杭州", "Lakeside"]

    @pytest.mark.parametrize("term", ["西湖", "湖", "州西", "杭州", "商贸", "茶业有"])
    def test_finds_every_name_containing_the_term(self, client, sales_user, term):
        for index, name in enumerate(self.NAMES):
            CustomerFactory(code=f"S{index}", name=name)
        client.force_login(sales_user)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("crm:customer_list"), {"q": term, "sort": "code"})
        listed = [row.record.name for row in response.context["table"].paginated_rows]
        assert listed == [name for name in self.NAMES if term in name]
        assert response.context["table"].paginator.count == len(listed)
        uses_grams = any("crm_short_grams" in q["sql"] for q in queries.captured_queries)
        assert uses_grams == (connection.vendor == "postgresql" and len(term) <= 2)

    @pytest.mark.postgres
    def test_the_gram_index_answers_a_two_character_search(self, sales_user):
        from crm.filters import CustomerFilter

        CustomerFactory.create_batch(30, name="Plain name")
        CustomerFactory(code="HZ", name="杭州西湖茶业")
        queryset = CustomerFilter({"q": "西湖"}, queryset=Customer.objects.all()).qs
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
            # GIN answers through a bitmap scan; without this the planner may walk the code index
            # (the list's order) over a few test rows instead, which says nothing about the search.
            cursor.execute("SET LOCAL enable_indexscan = off")
            sql, params = queryset.query.sql_with_params()
            cursor.execute(f"EXPLAIN {sql}", params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
        assert "customer_name_short_grams_idx" in plan
        assert list(queryset.values_list("code", flat=True)) == ["HZ"]


def test_columns_the_fast_path_cannot_write_fall_back_to_the_same_cells(rf):
    """Attributes computed per record, a dotted accessor, a computed link: django-tables2's own cells."""
    import django_tables2 as tables

    from crm.tables import LeanRowsMixin

    class OddTable(LeanRowsMixin, tables.Table):
        code = tables.Column(attrs={"td": {"data-code": lambda record: record.code.lower()}})
        name = tables.Column(linkify=lambda record: f"/elsewhere/{record.pk}/")
        region_name = tables.Column(accessor="region__name")

        class Meta:
            model = Customer
            fields = ("code", "name", "region_name")
            template_name = LEAN_TEMPLATE

    CustomerFactory(code="Z1", name="<Zed>", region=RegionFactory(name="华南 South China"))
    CustomerFactory(code="Z2", name="Zoe", region=None)
    table = OddTable(Customer.objects.order_by("code"))
    writers = [table._lean_cell_writer(column).__name__ for column in table.columns]
    assert writers == ["write_through_bound_row", "write", "write_through_bound_row"]
    lean = tbody(table.as_html(rf.get("/")))
    assert lean == tbody(stock_html(table, rf.get("/"), "en"))
    pk = Customer.objects.get(code="Z1").pk
    assert f'<td data-code="z1">Z1</td><td ><a href="/elsewhere/{pk}/">&lt;Zed&gt;</a></td>' in lean
    assert "<td >华南 South China</td>" in lean and "<td >—</td>" in lean


class TestWhatDjangoTables2AndDjangoDoNotOffer:
    """The two functions that read private API (crm.tables), each pinned here."""

    def test_queryset_ordering_is_the_order_by_else_the_models(self, sales_user, published):
        from crm.extensions import customer_figures
        from crm.selectors import customer_list
        from crm.tables import queryset_ordering

        assert queryset_ordering(Customer.objects.all()) == ["code"]  # Customer.Meta.ordering
        assert queryset_ordering(Customer.objects.order_by("-name", "pk")) == ["-name", "pk"]
        by_profit = customer_list(figures=customer_figures(sales_user)).order_by("-profit")
        assert queryset_ordering(by_profit) == ["-profit"]

    def test_column_parts_are_what_django_tables2_renders_with(self, client, sales_user, published):
        import django_tables2 as tables

        from crm.tables import tables2_column_parts

        table = get(client, sales_user, sort="code").context["table"]
        code, profit, tier = (tables2_column_parts(table.columns[name]) for name in ("code", "profit", "tier"))
        assert code.link is not None and code.plain_link and code.wanted == ("value",)
        assert profit.render == table.render_profit and profit.wanted == ("value",) and profit.link is None
        assert tier.render.__self__ is table.columns["tier"].column and not tier.only_tables2_writes

        class WithLinkColumn(tables.Table):
            detail = tables.LinkColumn("crm:customer_detail", args=[tables.A("pk")], text="open")

        linked = WithLinkColumn([]).columns["detail"]
        assert tables2_column_parts(linked).only_tables2_writes

    def test_the_page_rows_are_not_filtered_again(self, client, sales_user):
        """The page's keys carry the search; the outer select only joins and sorts those rows."""
        CustomerFactory.create_batch(3, name="Plain name")
        CustomerFactory(code="HZ", name="杭州西湖茶业")
        client.force_login(sales_user)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("crm:customer_list"), {"q": "西湖"})
        assert [row.record.code for row in response.context["table"].paginated_rows] == ["HZ"]
        page_sql = [q["sql"] for q in queries.captured_queries if "IN (SELECT" in q["sql"] and "LIMIT" in q["sql"]]
        assert len(page_sql) == 1
        outer, keys = page_sql[0].split("IN (SELECT", 1)
        assert "西湖" in keys and "西湖" not in outer
