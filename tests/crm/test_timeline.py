"""A customer's timeline (issue 19): one stream of orders, invoices, interactions, complaints and
their moves, surveys, tier changes and record changes, newest first, keyset-paged, filtered by
kind, in both languages, money kinds and amounts only for roles that see money."""

import datetime
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from analytics.models import AnalysisRun, CustomerResult
from analytics.services.runs import current_settings
from complaints.models import ComplaintTransition
from complaints.services import complaint_add_note
from crm.models import Interaction
from crm.roles import Role
from crm.timeline import Cursor, start_of_day, timeline_page

from ..factories import (
    ContactFactory,
    CustomerFactory,
    InteractionFactory,
    InvoiceFactory,
    OrderFactory,
    SurveyFactory,
    UserFactory,
    make_complaint,
)

pytestmark = pytest.mark.django_db

D = datetime.date
REVENUE = Decimal("27130141.25")  # distinctive: a service rep must see it nowhere
INVOICED = Decimal("4381906.37")


def local(*args) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime(*args))


def published_run(as_of: datetime.date, published_at: datetime.datetime) -> AnalysisRun:
    return AnalysisRun.objects.create(
        as_of=as_of,
        status=AnalysisRun.Status.SUCCEEDED,
        active=False,
        window_start=as_of - datetime.timedelta(days=365),
        window_end=as_of,
        prior_start=as_of - datetime.timedelta(days=730),
        prior_end=as_of - datetime.timedelta(days=366),
        published_at=published_at,
        **current_settings(),
    )


@pytest.fixture
def story(sales_user):
    """One customer's year, hand-built: every kind of event once (tier twice), on known moments."""
    customer = CustomerFactory(owner=sales_user, code="C-T1", name="华东精密机械")
    customer.history.update(history_date=local(2025, 12, 1, 9, 0))  # created: the oldest entry
    OrderFactory(customer=customer, number="SO-1", ordered_on=D(2026, 1, 10), revenue=REVENUE, quantity=3)
    InvoiceFactory(customer=customer, number="INV-1", issued_on=D(2026, 1, 12), due_on=D(2026, 2, 11), amount=INVOICED)
    InteractionFactory(
        customer=customer, kind=Interaction.Kind.VISIT, occurred_on=D(2026, 1, 15), summary="季度拜访", by=sales_user
    )
    complaint = make_complaint(
        customer=customer, number="CP-1", received_at=local(2026, 1, 20, 10, 30), category="delivery", severity="high"
    )
    ComplaintTransition.objects.create(
        complaint=complaint, from_state="new", to_state="acknowledged", at=local(2026, 1, 21, 9, 0), by=sales_user
    )
    ComplaintTransition.objects.create(
        complaint=complaint, from_state="resolved", to_state="closed", at=local(2026, 1, 28, 17, 0)
    )
    complaint_add_note(
        complaint=complaint, by=sales_user, body="已安排补发", visibility="customer", at=local(2026, 1, 22, 15, 0)
    )
    complaint_add_note(  # internal: stays on the complaint's page
        complaint=complaint, by=sales_user, body="仓库漏发", visibility="internal", at=local(2026, 1, 22, 16, 0)
    )
    SurveyFactory(customer=customer, answered_on=D(2026, 2, 1), score=4, comment="交货及时")
    runs = [
        published_run(D(2026, 1, 31), local(2026, 2, 1, 2, 0)),
        published_run(D(2026, 2, 28), local(2026, 3, 1, 2, 0)),
        published_run(D(2026, 3, 31), local(2026, 4, 1, 2, 0)),
    ]
    for run, tier in zip(runs, "BBA", strict=True):  # B, B (no change), then A
        CustomerResult.objects.create(run=run, customer=customer, tier=tier, profit=REVENUE)
    return customer


EN_TITLES = [
    "Tier B → A (run as of 31 Mar 2026)",
    "Survey answered: 4, Satisfied",
    "Complaint CP-1 closed",
    "Complaint CP-1: note to the customer",
    "Complaint CP-1: New → Acknowledged",
    "Complaint CP-1 received: Delivery, High",
    "Visit",
    "Invoice INV-1",
    "Order SO-1",
    "Customer created",
]
ZH_TITLES = [
    "等级 B → A（截至 2026年3月31日 的分析）",
    "已回答调查：4，满意",
    "投诉 CP-1 已关闭",
    "投诉 CP-1：致客户的说明",
    "投诉 CP-1：新建 → 已确认",
    "收到投诉 CP-1：交付，高",
    "拜访",
    "发票 INV-1",
    "订单 SO-1",
    "客户已创建",
]
# Service reps read no orders or invoices (money) and no tiers (analysis results, as everywhere else).
SERVICE_TITLES = [title for title in EN_TITLES if not title.startswith(("Order", "Invoice", "Tier"))]


def titles(response) -> list[str]:
    return [entry.title for entry in response.context["timeline"].entries]


def open_timeline(client, user, customer, language="en", **params):
    client.force_login(user)
    client.cookies["django_language"] = language
    return client.get(reverse("crm:customer_timeline", args=[customer.pk]), params)


class TestEntries:
    def test_every_kind_newest_first_with_exact_titles(self, client, sales_user, story):
        response = open_timeline(client, sales_user, story)
        assert response.status_code == 200
        assert titles(response) == EN_TITLES
        entries = {entry.title: entry for entry in response.context["timeline"].entries}
        assert entries["Order SO-1"].detail == "Delivered · quantity 3"
        assert entries["Order SO-1"].amount == REVENUE
        assert entries["Invoice INV-1"].detail == "due on 11 Feb 2026 · unpaid"
        assert entries["Visit"].detail == "季度拜访" and entries["Visit"].by == "sales1"
        assert entries["Complaint CP-1: New → Acknowledged"].by == "sales1"
        assert (entries["Complaint CP-1: note to the customer"].detail, entries["Visit"].by) == ("已安排补发", "sales1")
        assert "仓库漏发" not in response.content.decode()  # the internal note is not the customer's story
        assert entries["Visit"].at == start_of_day(D(2026, 1, 15))
        page = response.content.decode()
        assert "27,130,141.25" in page and "4,381,906.37" in page
        assert "15 Jan 2026</time>" in page  # a dated entry shows its day, no time
        assert "20 Jan 2026 10:30</time>" in page

    def test_titles_in_chinese(self, client, sales_user, story):
        response = open_timeline(client, sales_user, story, language="zh-hans")
        assert titles(response) == ZH_TITLES
        page = response.content.decode()
        assert "2026年1月15日</time>" in page
        assert "到期日 2026年2月11日 · 未付款" in page

    def test_record_changes_say_what_changed_and_by_whom(self, client, sales_user, story):
        from crm.services import customer_update

        customer_update(customer=story, data={"phone": "021-5555"}, by=sales_user)
        entry = open_timeline(client, sales_user, story).context["timeline"].entries[0]
        assert (entry.title, entry.detail, entry.by) == ("Customer record changed", "Phone: — → 021-5555", "sales1")

    def test_contacts_added_edited_retired_and_restored(self, client, sales_user, story):
        contact = ContactFactory(customer=story, name="王经理")
        contact.history.update(history_date=local(2026, 5, 1, 9, 0))
        contact.title, contact.decision_maker = "采购总监", True
        contact._history_user = sales_user
        contact.save()
        contact.history.filter(history_type="~").update(history_date=local(2026, 5, 2, 9, 0))
        contact.retired_at = local(2026, 5, 3, 9, 0)
        contact.save()
        contact.retired_at = None
        contact.save()
        response = open_timeline(client, sales_user, story, kind="contact")
        shown = [(e.title, e.detail, e.by) for e in response.context["timeline"].entries]
        assert shown == [
            ("Contact 王经理 restored", "", "sales1"),
            ("Contact 王经理 retired", "", "sales1"),
            ("Contact 王经理 edited", "Title: — → 采购总监; Decision maker: No → Yes", "sales1"),
            ("Contact 王经理 added", "", "system"),
        ]
        chinese = open_timeline(client, sales_user, story, language="zh-hans", kind="contact")
        assert titles(chinese) == [
            "联系人 王经理 已恢复",
            "联系人 王经理 已停用",
            "联系人 王经理 已编辑",
            "联系人 王经理 已添加",
        ]

    def test_a_money_change_shows_service_who_but_not_the_figure(self, client, sales_user, service_user, story):
        from crm.services import customer_update

        customer_update(customer=story, data={"credit_limit": Decimal("158000.00")}, by=sales_user)
        seen_by_sales = open_timeline(client, sales_user, story).context["timeline"].entries[0]
        assert seen_by_sales.detail == "Credit limit: 0.00 → 158,000.00"
        response = open_timeline(client, service_user, story)
        entry = response.context["timeline"].entries[0]
        assert (entry.title, entry.detail, entry.by) == ("Customer record changed", "", "sales1")
        assert "158" not in response.content.decode()


class TestMoney:
    def test_service_sees_no_order_or_invoice_and_no_amount(self, client, service_user, story):
        response = open_timeline(client, service_user, story)
        assert titles(response) == SERVICE_TITLES
        assert [s.kind for s in response.context["timeline"].sources] == [
            "interaction",
            "follow_up",  # tasks.timeline
            "complaint",
            "complaint_state",
            "complaint_note",
            "survey",
            "contact",
            "change",
        ]
        page = response.content.decode()
        for hidden in ("27,130,141.25", "27130141", "4,381,906.37", "SO-1", "INV-1", 'value="order"'):
            assert hidden not in page
        # Asking for the money kinds by name shows nothing either.
        response = open_timeline(client, service_user, story, kind=["order", "invoice"])
        assert titles(response) == []
        assert "SO-1" not in response.content.decode()

    def test_an_amount_on_a_visible_kind_is_dropped_for_service(self, service_user, sales_user, story):
        """A kind that is not money may still carry an amount (say, a refund): only money roles get it."""
        from crm.timeline import Entry, TimelineSource, _sources, register_timeline_source

        class Refunds(TimelineSource):
            kind, label = "refund", "Refunds"

            def entries(self, *, customer, before, limit, user):
                return [Entry(at=local(2030, 1, 1), kind="refund", id=1, title="Refund", amount=Decimal("12.34"))]

        register_timeline_source(Refunds())
        try:
            assert timeline_page(customer=story, user=service_user).entries[0].amount is None
            assert timeline_page(customer=story, user=sales_user).entries[0].amount == Decimal("12.34")
        finally:
            del _sources["refund"]


class TestFilter:
    def test_one_kind(self, client, sales_user, story):
        response = open_timeline(client, sales_user, story, kind="complaint_state")
        assert titles(response) == ["Complaint CP-1 closed", "Complaint CP-1: New → Acknowledged"]
        assert 'value="complaint_state" checked' in response.content.decode()

    def test_several_kinds_and_unknown_ones_ignored(self, client, executive_user, story):
        response = open_timeline(client, executive_user, story, kind=["order", "invoice", "nonsense"])
        assert titles(response) == ["Invoice INV-1", "Order SO-1"]

    def test_nothing_of_a_kind_says_what_to_do(self, client, sales_user):
        customer = CustomerFactory(owner=sales_user)
        customer.history.all().delete()
        page = open_timeline(client, sales_user, customer).content.decode()
        assert "Nothing has happened with this customer yet. Log a visit or call from the customer page" in page
        page = open_timeline(client, sales_user, customer, kind="survey").content.decode()
        assert "Nothing of these kinds yet. Choose other kinds, or show everything." in page


class TestPaging:
    @pytest.fixture
    def crowded(self, sales_user):
        """Many entries on the same moments: 7 interactions and 3 orders on one day, 4 complaints
        received at that day's midnight (the same moment as the dated entries) and 2 at noon."""
        customer = CustomerFactory(owner=sales_user)
        customer.history.update(history_date=local(2025, 1, 1))
        day = D(2026, 5, 5)
        InteractionFactory.create_batch(7, customer=customer, occurred_on=day)
        OrderFactory.create_batch(3, customer=customer, ordered_on=day)
        for n in range(4):
            make_complaint(customer=customer, number=f"M{n}", received_at=start_of_day(day))
        for n in range(2):
            make_complaint(customer=customer, number=f"N{n}", received_at=local(2026, 5, 5, 12, 0))
        return customer

    def walk(self, customer, user, per_page, kinds=None):
        pages, before = [], None
        while True:
            page = timeline_page(customer=customer, user=user, kinds=kinds, before=before, per_page=per_page)
            pages.append([entry.key for entry in page.entries])
            if page.next_cursor is None:
                return pages
            before = Cursor.decode(page.next_cursor.encode())  # through its text, as the link carries it

    def test_pages_of_any_size_make_the_one_list(self, sales_user, crowded):
        (everything,) = self.walk(crowded, sales_user, per_page=100)
        assert len(everything) == 7 + 3 + 6 + 1
        assert everything == sorted(everything, reverse=True)  # (at, kind, id) descending
        midnight = start_of_day(D(2026, 5, 5))
        # Noon complaints first; at midnight kinds descending: order, interaction, complaint.
        assert [(at, kind) for at, kind, _id in everything[:2]] == [(local(2026, 5, 5, 12, 0), "complaint")] * 2
        assert [kind for at, kind, _id in everything if at == midnight] == ["order"] * 3 + ["interaction"] * 7 + [
            "complaint"
        ] * 4
        for per_page in (1, 2, 3, 4, 5, 16):
            pages = self.walk(crowded, sales_user, per_page=per_page)
            assert [key for page in pages for key in page] == everything, per_page
            assert all(len(page) == per_page for page in pages[:-1])

    def test_a_page_stays_put_when_newer_entries_arrive(self, sales_user, crowded):
        first = timeline_page(customer=crowded, user=sales_user, per_page=5)
        second = timeline_page(customer=crowded, user=sales_user, before=first.next_cursor, per_page=5)
        InteractionFactory.create_batch(3, customer=crowded, occurred_on=D(2026, 5, 6))
        make_complaint(customer=crowded, number="LATER", received_at=start_of_day(D(2026, 5, 5)))
        again = timeline_page(customer=crowded, user=sales_user, before=first.next_cursor, per_page=5)
        assert [e.key for e in again.entries] == [e.key for e in second.entries]

    def test_older_link_carries_cursor_and_filter(self, client, sales_user, crowded):
        response = open_timeline(client, sales_user, crowded, kind="interaction")
        assert len(titles(response)) == 7  # fewer than a page: no link
        assert 'rel="next"' not in response.content.decode()
        InteractionFactory.create_batch(20, customer=crowded, occurred_on=D(2026, 4, 1))
        response = open_timeline(client, sales_user, crowded, kind="interaction")
        assert len(titles(response)) == 25
        link = re.search(r'href="\?([^"]+)" rel="next"', response.content.decode()).group(1).replace("&amp;", "&")
        older = client.get(reverse("crm:customer_timeline", args=[crowded.pk]) + "?" + link)
        assert len(titles(older)) == 2 and {e.kind for e in older.context["timeline"].entries} == {"interaction"}
        assert older.context["timeline"].next_cursor is None
        assert "Newest" in older.content.decode()

    def test_a_cursor_survives_its_plus_read_as_a_space(self):
        cursor = Cursor(at=start_of_day(D(2026, 5, 5)), kind="order", id=7)
        assert "+08:00" in cursor.encode()  # Asia/Shanghai, the site's zone
        assert Cursor.decode(cursor.encode().replace("+", " ")) == cursor

    def test_a_broken_cursor_is_a_bad_request(self, client, sales_user, crowded):
        assert open_timeline(client, sales_user, crowded, before="yesterday").status_code == 400
        assert open_timeline(client, sales_user, crowded, before="2026-05-05T00:00:00~order").status_code == 400
        naive = "2026-05-05T00:00:00~order~1"
        assert open_timeline(client, sales_user, crowded, before=naive).status_code == 400


class TestAccess:
    @pytest.mark.parametrize(
        "role", [Role.SALES, Role.SERVICE, Role.EXECUTIVE, None], ids=["sales", "service", "executive", "admin"]
    )
    def test_every_role_reads_any_customers_timeline(self, client, make_user, story, role):
        user = make_user(role) if role else make_user(None, is_staff=True, is_superuser=True)
        response = open_timeline(client, user, story)  # `story` belongs to sales1, not to this user
        assert response.status_code == 200
        assert ("Order SO-1" in titles(response)) == (role != Role.SERVICE)

    def test_no_role_is_refused_and_anonymous_sent_to_log_in(self, client, story):
        assert open_timeline(client, UserFactory(), story).status_code == 403
        client.logout()
        response = client.get(reverse("crm:customer_timeline", args=[story.pk]))
        assert response.status_code == 302 and "login" in response["Location"]

    def test_unknown_customer_is_404(self, client, sales_user):
        client.force_login(sales_user)
        assert client.get(reverse("crm:customer_timeline", args=[999999])).status_code == 404


class TestQueries:
    def add(self, customer, user, n):
        for i in range(n):
            day = D(2026, 1, 1) + datetime.timedelta(days=i)
            OrderFactory(customer=customer, ordered_on=day)
            InvoiceFactory(customer=customer, issued_on=day)
            InteractionFactory(customer=customer, occurred_on=day, by=user)
            SurveyFactory(customer=customer, answered_on=day)
            complaint = make_complaint(customer=customer, received_at=start_of_day(day))
            ComplaintTransition.objects.create(
                complaint=complaint, from_state="new", to_state="acknowledged", at=start_of_day(day), by=user
            )
            complaint_add_note(complaint=complaint, by=user, body="noted", visibility="customer", at=start_of_day(day))

    @pytest.mark.parametrize("role", [Role.SALES, Role.SERVICE])
    def test_a_page_costs_the_same_for_5_and_50_entries_of_each_kind(
        self, client, make_user, django_assert_num_queries, role
    ):
        user = make_user(role)
        customer = CustomerFactory()
        self.add(customer, user, 5)
        url = reverse("crm:customer_timeline", args=[customer.pk])
        client.force_login(user)
        client.get(url)  # the top bar's unread count is read once, then cached
        # session, user, permissions (2), the customer, the top bar's roles, then one query per kind shown:
        # sales 11 (orders, invoices, interactions, follow-ups, complaints, their moves, notes to the
        # customer, surveys, tiers, contacts, record changes), service 8 (no orders, invoices or tiers).
        expected = 6 + (11 if role == Role.SALES else 8)
        with django_assert_num_queries(expected):
            few = client.get(url)
        self.add(customer, user, 45)
        with django_assert_num_queries(expected):
            many = client.get(url)
        with django_assert_num_queries(expected):
            deep = client.get(url, {"before": many.context["timeline"].next_cursor.encode()})
        # 5 of each kind and the record's creation: sales 36 (a full page of 25), service 26 (too).
        assert len(few.context["timeline"].entries) == 25
        assert len(many.context["timeline"].entries) == len(deep.context["timeline"].entries) == 25

    def test_a_filtered_page_asks_only_its_kinds(self, client, sales_user, django_assert_num_queries):
        customer = CustomerFactory()
        self.add(customer, sales_user, 5)
        url = reverse("crm:customer_timeline", args=[customer.pk])
        client.force_login(sales_user)
        client.get(url)
        with django_assert_num_queries(6 + 2):
            client.get(url, {"kind": ["order", "survey"]})


class TestCustomerPage:
    def test_shows_the_ten_newest_entries_and_links_to_the_timeline(self, client, sales_user, story):
        client.force_login(sales_user)
        InteractionFactory.create_batch(12, customer=story, occurred_on=D(2026, 6, 1), summary="Follow-up call")
        response = client.get(story.get_absolute_url())
        page = response.content.decode()
        section = page.split('id="timeline"')[1].split("</section>")[0]
        assert section.count('class="timeline-entry') == 10
        assert "Follow-up call" in section and "季度拜访" not in section
        assert reverse("crm:customer_timeline", args=[story.pk]) in section

    def test_service_reads_the_customer_page_timeline_without_money(self, client, service_user, story):
        client.force_login(service_user)
        page = client.get(story.get_absolute_url()).content.decode()
        section = page.split('id="timeline"')[1].split("</section>")[0]
        assert "Survey answered: 4, Satisfied" in section
        assert "SO-1" not in section and "INV-1" not in section  # the orders table (no money) still lists SO-1
        assert "27,130,141.25" not in page and "4,381,906.37" not in page and "INV-1" not in page
