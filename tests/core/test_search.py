"""The top bar's search (core.search, /search/): customers, contacts and complaints, grouped, each a
link, for every role as its lists show them, never money; a constant number of queries."""

import datetime
import re
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from complaints.models import Complaint
from complaints.search import ComplaintSearch, complaint_search
from core import search
from crm.roles import Role
from crm.search import contact_search
from tests.factories import ContactFactory, CustomerFactory, OrderFactory, make_complaint

pytestmark = pytest.mark.django_db

URL = "/search/"
CREDIT_LIMIT = Decimal("473829.16")  # figures no search result may show, in any format
REVENUE = Decimal("918273.64")


@pytest.fixture
def book(sales_user):
    """Customers with Chinese names, their contacts (one retired) and complaints."""
    tea = CustomerFactory(
        code="HZ01",
        name="杭州西湖茶业有限公司",
        email="tea@xihu.cn",
        phone="+86 571 8888 0001",
        owner=sales_user,
        credit_limit=CREDIT_LIMIT,
    )
    logistics = CustomerFactory(code="HZ02", name="杭州滨江物流", phone="138 0013 8000")
    harbor = CustomerFactory(code="HB01", name="Harbor Logistics Ltd", email="ops@harbor-logistics.com")
    OrderFactory(customer=tea, revenue=REVENUE)
    ContactFactory(customer=tea, name="王西湖", title="采购经理", email="wang@xihu.cn", phone="139 1111 2222")
    ContactFactory(customer=harbor, name="Peter Hangzhou", email="peter@harbor-logistics.com")
    ContactFactory(customer=logistics, name="李杭州", retired_at=timezone.now())  # retired: never found
    make_complaint(customer=tea, number="CP0000101", description="茶叶到货时包装破损。")
    make_complaint(customer=harbor, number="CP0000102", description="Invoice sent twice for one order.")
    make_complaint(customer=logistics, number="XP0000103", description="物流延迟五天，杭州仓库无人接听。")
    return {"tea": tea, "logistics": logistics, "harbor": harbor}


def groups(response) -> dict[str, list[str]]:
    """kind -> the titles of its hits, as the page shows them."""
    return {group.kind: [hit.title for hit in group.hits] for group in response.context["groups"] if group.hits}


def get(client, user, text, **extra):
    client.force_login(user)
    response = client.get(URL, {"q": text, **extra})
    assert response.status_code == 200
    return response


def test_anonymous_users_are_sent_to_the_login(client):
    response = client.get(URL, {"q": "杭州"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("role", ["sales", "service", "executive", "admin"])
def test_every_role_finds_customers_contacts_and_complaints_by_a_chinese_fragment(client, book, request, role):
    user = request.getfixturevalue(
        {"sales": "sales_user", "service": "service_user", "executive": "executive_user", "admin": "admin_user_"}[role]
    )
    response = get(client, user, "杭州")
    assert groups(response) == {
        "customers": ["HZ02 杭州滨江物流", "HZ01 杭州西湖茶业有限公司"],  # by name (滨 before 西)
        # 李杭州 is retired; Peter Hangzhou's name has no 杭州
        "complaints": ["XP0000103 物流延迟五天，杭州仓库无人接听。"],
    }
    html = response.content.decode()
    assert f'href="{book["tea"].get_absolute_url()}"' in html
    assert f'href="{Complaint.objects.get(number="XP0000103").get_absolute_url()}"' in html


def test_a_service_rep_sees_no_money_in_the_results(client, book, service_user):
    response = get(client, service_user, "HZ0")
    assert groups(response)["customers"] == ["HZ02 杭州滨江物流", "HZ01 杭州西湖茶业有限公司"]
    html = response.content.decode()
    for figure in (CREDIT_LIMIT, REVENUE):
        for shown in (str(figure), f"{figure:,}", f"{int(figure):,}", str(int(figure))):
            assert shown not in html


def test_contacts_by_name_email_and_phone_link_to_their_customer(client, book, service_user):
    tea = book["tea"]
    for text in ("王西", "WANG@xihu", "1111 22"):
        response = get(client, service_user, text)
        assert groups(response)["contacts"] == ["王西湖"], text
    html = get(client, service_user, "王西").content.decode()
    contact = tea.contacts.get(name="王西湖")
    assert f'href="{tea.get_absolute_url()}#contact-{contact.pk}"' in html
    assert "采购经理 · HZ01 杭州西湖茶业有限公司 · wang@xihu.cn · 139 1111 2222" in html


def test_retired_contacts_are_not_found(client, book, service_user):
    assert "contacts" not in groups(get(client, service_user, "李杭州"))
    assert list(contact_search(text="李杭")) == []


def test_complaints_by_the_start_of_their_number_in_any_case_and_by_words_of_their_description(book):
    def numbers(text):
        return [c.number for c in complaint_search(user=None, text=text)]

    assert numbers("cp00001") == ["CP0000102", "CP0000101"]  # newest first
    assert numbers("CP0000101") == ["CP0000101"]
    assert numbers("0000101") == []  # the start of the number, not anywhere in it
    assert numbers("invoice SENT") == ["CP0000102"]
    assert numbers("包装") == ["CP0000101"]


def test_customers_are_found_as_the_customer_list_finds_them(client, book, sales_user):
    """The one customer search (crm.selectors.customer_search): the same customers as the list."""
    for text in ("杭州", "harbor", "hz0", "0013 80", "@xihu"):
        searched = groups(get(client, sales_user, text)).get("customers", [])
        listed = client.get(reverse("crm:customer_list"), {"q": text}).context["table"].paginated_rows
        assert sorted(searched) == sorted(f"{row.record.code} {row.record.name}" for row in listed), text
        assert searched, text


def test_kinds_a_user_may_not_read_are_not_searched(client, book, make_user):
    user = make_user(Role.SERVICE, username="nocomplaints")
    user.groups.clear()
    user.user_permissions.add(Permission.objects.get(codename="view_customer", content_type__app_label="crm"))
    assert groups(get(client, user, "杭州")) == {"customers": ["HZ02 杭州滨江物流", "HZ01 杭州西湖茶业有限公司"]}


@pytest.mark.parametrize("text", ["", "杭", "a", " h ", "13", "hz"])
def test_text_too_short_is_not_searched_and_the_page_says_so(client, book, service_user, text):
    with CaptureQueriesContext(connection) as queries:
        response = get(client, service_user, text)
    assert response.context["groups"] == []
    assert not any("crm_customer" in q["sql"] or "complaints_complaint" in q["sql"] for q in queries.captured_queries)
    html = response.content.decode()
    if text.strip():
        assert "Type at least 3 letters or digits, or 2 Chinese characters, to search: fewer match too much." in html
    else:
        assert "Type a customer's code, name, phone or email" in html


def test_nothing_found_says_what_to_do_next(client, book, service_user):
    html = get(client, service_user, "不存在的客户").content.decode()
    assert "Nothing found for “不存在的客户”. Check the spelling" in html


def test_a_full_group_links_to_the_list_with_the_same_search(client, sales_user, monkeypatch):
    monkeypatch.setattr(search, "GROUP_SIZE", 3)
    for n in range(5):
        CustomerFactory(code=f"SZ{n:02d}", name=f"深圳电子{n}号")
    response = get(client, sales_user, "深圳")
    [customers] = response.context["groups"][:1]
    assert [hit.title for hit in customers.hits] == ["SZ00 深圳电子0号", "SZ01 深圳电子1号", "SZ02 深圳电子2号"]
    assert (customers.total, customers.capped) == (5, False)
    html = response.content.decode()
    assert "3 of 5" in html
    assert 'href="/customers/?q=%E6%B7%B1%E5%9C%B3">See them all in the customer list</a>' in html
    listed = client.get("/customers/", {"q": "深圳"}).context["table"].paginator.count
    assert listed == 5


def test_a_group_counts_no_further_than_its_cap_and_then_shows_the_latest_found(client, sales_user, monkeypatch):
    monkeypatch.setattr(search, "GROUP_SIZE", 2)
    monkeypatch.setattr(search, "COUNT_CAP", 3)
    for letter in "EDCBA":  # made in this order: the latest two are B and A
        CustomerFactory(code=f"SZ-{letter}", name=f"深圳{letter}")
        make_complaint(number=f"ZZZ{letter}", description="Late delivery")
    response = get(client, sales_user, "深圳")
    [customers] = [g for g in response.context["groups"] if g.kind == "customers"]
    assert [hit.title for hit in customers.hits] == ["SZ-A 深圳A", "SZ-B 深圳B"]  # by name
    assert (customers.total, customers.capped) == (3, True)
    assert "more than 3" in response.content.decode()
    [complaints] = [g for g in get(client, sales_user, "zzz").context["groups"] if g.kind == "complaints"]
    assert [hit.title.split()[0] for hit in complaints.hits] == ["ZZZA", "ZZZB"]  # newest first
    assert (complaints.total, complaints.capped) == (3, True)
    assert complaints.see_all_url == "/complaints/?tab=all&q=zzz"


def test_up_to_the_cap_a_group_shows_the_first_in_its_order(client, sales_user, monkeypatch):
    monkeypatch.setattr(search, "GROUP_SIZE", 2)
    monkeypatch.setattr(search, "COUNT_CAP", 5)
    for letter in "EDCBA":
        CustomerFactory(code=f"SZ-{letter}", name=f"深圳{letter}")
    [customers] = [g for g in get(client, sales_user, "深圳").context["groups"] if g.kind == "customers"]
    assert [hit.title for hit in customers.hits] == ["SZ-A 深圳A", "SZ-B 深圳B"]
    assert (customers.total, customers.capped) == (5, False)


def make_matches(count: int, start: int = 0):
    """`count` customers, contacts and complaints that "深圳" finds."""
    for n in range(start, start + count):
        customer = CustomerFactory(code=f"SZ{n:04d}", name=f"深圳{n}号")
        ContactFactory(customer=customer, name=f"深圳联系人{n}")
        make_complaint(customer=customer, description=f"深圳仓库{n}")


def page_queries(client, user, text) -> list[str]:
    client.force_login(user)
    client.get(URL)  # the top bar's unread count is read once, then cached
    with CaptureQueriesContext(connection) as queries:
        assert client.get(URL, {"q": text}).status_code == 200
    return [q["sql"] for q in queries.captured_queries]


def test_the_search_makes_the_same_queries_however_many_it_finds(client, service_user, django_assert_num_queries):
    """Two queries per kind (the capped count, the group's rows), whatever the number of matches;
    one when nothing matches."""
    nothing = page_queries(client, service_user, "深圳")
    make_matches(1)
    one = page_queries(client, service_user, "深圳")
    make_matches(search.GROUP_SIZE + 1, start=100)
    full = page_queries(client, service_user, "深圳")
    make_matches(40, start=200)
    many = page_queries(client, service_user, "深圳")
    assert len(one) == len(nothing) + 3  # the rows of each of the three kinds
    assert len(full) == len(one) == len(many)
    searched = [sql for sql in many if re.search(r'FROM "(crm_customer|crm_contact|complaints_complaint)"', sql)]
    assert len(searched) == 6
    client.get(URL, {"q": "深圳"})
    with django_assert_num_queries(len(many)):
        client.get(URL, {"q": "深圳"})


def test_the_top_bar_has_the_search_box_for_signed_in_users(client, sales_user):
    client.force_login(sales_user)
    html = client.get(reverse("crm:customer_list")).content.decode()
    assert '<form class="topsearch" action="/search/" method="get" role="search">' in html
    client.logout()
    assert "topsearch" not in client.get(reverse("login")).content.decode()


def test_the_results_page_keeps_the_text_in_the_top_bar_box(client, book, sales_user):
    html = get(client, sales_user, "杭州").content.decode()
    assert 'placeholder="Search" maxlength="100" value="杭州"' in html


def test_in_chinese(client, book, service_user):
    client.force_login(service_user)
    client.cookies["django_language"] = "zh-hans"
    html = client.get(URL, {"q": "杭州"}, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "<h1>搜索</h1>" in html
    assert "HZ01 杭州西湖茶业有限公司" in html


def test_a_complaint_result_says_its_state_customer_and_local_day(book):
    complaint = Complaint.objects.get(number="CP0000101")
    complaint.received_at = datetime.datetime(2026, 3, 4, 17, 30, tzinfo=datetime.UTC)  # 5 March in Shanghai
    shown = ComplaintSearch().hit(complaint)
    assert shown.title == "CP0000101 茶叶到货时包装破损。"
    assert shown.detail == "New · HZ01 杭州西湖茶业有限公司 · 5 Mar 2026"
    assert shown.url == f"/complaints/{complaint.pk}/"


def test_the_complaint_queue_opened_from_a_full_group_lists_what_the_group_found(client, service_user, monkeypatch):
    monkeypatch.setattr(search, "GROUP_SIZE", 3)
    found = {make_complaint(description=f"第{n}箱包装破损").number for n in range(5)}
    make_complaint(description="发票金额错误")  # not found
    [complaints] = [g for g in get(client, service_user, "包装").context["groups"] if g.kind == "complaints"]
    assert (len(complaints.hits), complaints.total) == (3, 5)
    queue = client.get(complaints.see_all_url)
    assert {row.record.number for row in queue.context["table"].paginated_rows} == found
