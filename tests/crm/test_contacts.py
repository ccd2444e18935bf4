"""Contacts (issue 19): a sales rep adds, edits, retires and restores the contacts of the customers
they own, an administrator those of any customer; executives and service reps read them on the
customer page and get 403 on every write. Every change keeps a history entry naming who made it; a
form saved untouched writes nothing; an edit saves only the fields the person changed."""

import re
import threading

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from crm import selectors, services
from crm.forms import ContactForm
from crm.models import Contact
from tests.factories import ContactFactory, CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def mine(sales_user):
    return CustomerFactory(code="MINE", name="华东精密机械", owner=sales_user)


@pytest.fixture
def theirs(other_sales_user):
    return CustomerFactory(code="THEIRS", name="Harbor Logistics", owner=other_sales_user)


@pytest.fixture
def wang(mine, sales_user):
    """A contact added through the service, as the page adds them: its history starts with "Created"."""
    return services.contact_create(
        customer=mine,
        data={
            "name": "王经理",
            "title": "采购经理",
            "email": "wang@huadong.example",
            "phone": "+86 21 5555 0101",
            "decision_maker": True,
        },
        by=sales_user,
    )


def form_data(contact=None, *, seen=None, **changes) -> dict:
    """What the edit form posts: the fields, and the values the person saw (hidden initial inputs)."""
    values = {
        "name": contact.name if contact else "",
        "title": contact.title if contact else "",
        "email": contact.email if contact else "",
        "phone": contact.phone if contact else "",
    }
    decision_maker = contact.decision_maker if contact else False
    data = {**values, **{k: v for k, v in changes.items() if k != "decision_maker"}}
    if changes.get("decision_maker", decision_maker):
        data["decision_maker"] = "on"
    if contact is not None:
        shown = {**values, "decision_maker": decision_maker, **(seen or {})}
        data.update({f"initial-{name}": value for name, value in shown.items()})
    return data


def urls(customer, contact=None) -> dict:
    named = {"create": reverse("crm:contact_create", args=[customer.pk])}
    if contact is not None:
        for action in ("update", "retire", "restore"):
            named[action] = reverse(f"crm:contact_{action}", args=[customer.pk, contact.pk])
    return named


def history_of(contact) -> list[tuple]:
    return list(contact.history.order_by("history_id").values_list("history_type", "history_user__username"))


# ---------------------------------------------------------------------------------------- roles


class TestWhoMay:
    @pytest.mark.parametrize("role", ["service", "executive"])
    def test_readers_get_403_on_every_write_and_nothing_is_written(self, client, request, role, wang, mine):
        user = request.getfixturevalue(f"{role}_user")
        client.force_login(user)
        named = urls(mine, wang)
        before = (history_of(wang), list(Contact.objects.values()))
        for method, url in (
            ("get", named["create"]),
            ("post", named["create"]),
            ("get", named["update"]),
            ("post", named["update"]),
            ("get", named["retire"]),
            ("post", named["retire"]),
            ("post", named["restore"]),
        ):
            data = form_data(wang, name="改名") if method == "post" else None
            response = getattr(client, method)(url, data)
            assert response.status_code == 403, (method, url)
            assert "does not give access to this page" in response.content.decode()
        assert (history_of(wang), list(Contact.objects.values())) == before

    def test_a_sales_rep_gets_403_on_another_reps_customer_naming_its_owner(self, client, sales_user, theirs):
        other = services.contact_create(customer=theirs, data={"name": "孙立"}, by=theirs.owner)
        client.force_login(sales_user)
        named = urls(theirs, other)
        before = (history_of(other), list(Contact.objects.values()))
        for method, url in (
            ("get", named["create"]),
            ("post", named["create"]),
            ("get", named["update"]),
            ("post", named["update"]),
            ("get", named["retire"]),
            ("post", named["retire"]),
            ("post", named["restore"]),
        ):
            response = getattr(client, method)(url, form_data(other, name="改名") if method == "post" else None)
            assert response.status_code == 403, (method, url)
            assert "This customer belongs to sales2." in response.content.decode()
        assert (history_of(other), list(Contact.objects.values())) == before

    def test_a_customer_without_owner_is_for_administrators_only(self, client, sales_user, admin_user_):
        nobodys = CustomerFactory(owner=None)
        client.force_login(sales_user)
        response = client.get(urls(nobodys)["create"])
        assert response.status_code == 403
        assert "This customer has no owner yet, so only an administrator can change it." in response.content.decode()
        client.force_login(admin_user_)
        assert client.get(urls(nobodys)["create"]).status_code == 200

    def test_the_owner_and_an_administrator_may(self, client, sales_user, admin_user_, wang, mine, theirs):
        for user, customer in ((sales_user, mine), (admin_user_, mine), (admin_user_, theirs)):
            client.force_login(user)
            contact = wang if customer is mine else ContactFactory(customer=theirs)
            named = urls(customer, contact)
            assert client.get(named["create"]).status_code == 200
            assert client.get(named["update"]).status_code == 200
            assert client.get(named["retire"]).status_code == 200
            assert client.post(named["retire"]).status_code == 302
            assert client.post(named["restore"]).status_code == 302
            assert client.post(named["create"], form_data(name=f"新联系人 {user.username}")).status_code == 302
        assert set(Contact.objects.filter(name__startswith="新联系人").values_list("name", flat=True)) == {
            "新联系人 sales1",
            "新联系人 root1",
        }

    def test_a_contact_of_another_customer_is_not_found_through_this_one(self, client, sales_user, mine, theirs):
        elsewhere = ContactFactory(customer=theirs)
        client.force_login(sales_user)
        for action in ("update", "retire"):
            url = reverse(f"crm:contact_{action}", args=[mine.pk, elsewhere.pk])
            assert client.get(url).status_code == 404
            assert client.post(url, form_data(elsewhere, name="改名")).status_code == 404
        assert Contact.objects.get(pk=elsewhere.pk).name == elsewhere.name

    def test_restore_is_post_only(self, client, sales_user, wang, mine):
        client.force_login(sales_user)
        assert client.get(urls(mine, wang)["restore"]).status_code == 405

    def test_anonymous_is_sent_to_log_in(self, client, wang, mine):
        for url in urls(mine, wang).values():
            response = client.post(url)
            assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


# ---------------------------------------------------------------------------------------- writes


class TestCreate:
    def test_adds_the_contact_with_a_created_entry_naming_the_rep(self, client, sales_user, mine):
        client.force_login(sales_user)
        response = client.post(
            urls(mine)["create"],
            form_data(name="李娜", title="财务总监", email="li@huadong.example", phone="021-5555 0102"),
        )
        assert response.status_code == 302
        assert response["Location"] == mine.get_absolute_url() + "#contacts"
        contact = Contact.objects.get(customer=mine)
        assert (contact.name, contact.title, contact.email, contact.phone, contact.decision_maker) == (
            "李娜",
            "财务总监",
            "li@huadong.example",
            "021-5555 0102",
            False,
        )
        assert contact.retired_at is None
        assert history_of(contact) == [("+", "sales1")]
        page = client.get(response["Location"]).content.decode()
        assert "Contact 李娜 added." in page
        assert "Added by sales1 on" in page

    def test_the_form_has_no_contacts_of_its_own_to_pick(self, client, sales_user, mine):
        client.force_login(sales_user)
        page = client.get(urls(mine)["create"]).content.decode()
        assert "New contact" in page and "华东精密机械" in page
        assert 'name="initial-name"' not in page  # a new contact has nothing to have been seen


class TestValidation:
    """One clear error per field, in the words the form shows."""

    @pytest.mark.parametrize(
        "field, value, error",
        [
            ("name", "", "Enter the contact&#x27;s name."),
            ("name", "   ", "Enter the contact&#x27;s name."),
            ("email", "wang@", "Enter an e-mail address such as name@company.com."),
            ("email", "wang huadong.example", "Enter an e-mail address such as name@company.com."),
            (
                "phone",
                "call me",
                "Enter a phone number of 5 to 20 digits with spaces and + - ( ), such as +86 21 5555 0101.",
            ),
            (
                "phone",
                "12-34",
                "Enter a phone number of 5 to 20 digits with spaces and + - ( ), such as +86 21 5555 0101.",
            ),
            (
                "phone",
                "+86 138 0000 0001 0000 0000 01",
                "Enter a phone number of 5 to 20 digits with spaces and + - ( ), such as +86 21 5555 0101.",
            ),
            (
                "phone",
                "+86 21 ++5555",
                "Enter a phone number of 5 to 20 digits with spaces and + - ( ), such as +86 21 5555 0101.",
            ),
        ],
    )
    def test_a_bad_value_is_refused_with_its_message_and_nothing_is_written(
        self, client, sales_user, mine, field, value, error
    ):
        client.force_login(sales_user)
        data = form_data(name="李娜")
        data[field] = value
        response = client.post(urls(mine)["create"], data)
        assert response.status_code == 200
        assert response.context["form"].errors == {field: [error.replace("&#x27;", "'")]}
        assert f'<span class="error" id="id_{field}_error">{error}</span>' in response.content.decode()
        assert not Contact.objects.exists()

    def test_the_errors_are_in_chinese_for_a_chinese_page(self, client, sales_user, mine):
        client.force_login(sales_user)
        client.cookies["django_language"] = "zh-hans"
        response = client.post(urls(mine)["create"], form_data(email="wang@", phone="call me"))
        with translation.override("zh-hans"):
            assert response.context["form"].errors == {
                "name": ["请填写联系人姓名。"],
                "email": ["请输入电子邮件地址，例如 name@company.com。"],
                "phone": ["请输入 5 到 20 位数字的电话号码，可含空格和 + - ( )，例如 +86 21 5555 0101。"],
            }

    @pytest.mark.parametrize(
        "phone, stored",
        [
            ("+86 21 5555 0101", "+86 21 5555 0101"),
            ("13800000001", "13800000001"),
            ("(021) 5555-0101 ext. 8", "(021) 5555-0101 ext. 8"),
            ("021-55550101转8", "021-55550101转8"),
            ("  +86  21   5555 0101 ", "+86 21 5555 0101"),
            ("", ""),
        ],
    )
    def test_phones_as_people_write_them_are_taken(self, phone, stored):
        form = ContactForm(data={"name": "李娜", "phone": phone})
        assert form.is_valid(), form.errors
        assert form.cleaned_data["phone"] == stored


class TestEdit:
    def test_saves_the_changed_fields_with_an_entry_naming_the_rep(self, client, sales_user, wang, mine):
        client.force_login(sales_user)
        response = client.post(urls(mine, wang)["update"], form_data(wang, title="采购总监", decision_maker=False))
        assert response.status_code == 302
        wang.refresh_from_db()
        assert (wang.name, wang.title, wang.decision_maker) == ("王经理", "采购总监", False)
        assert history_of(wang) == [("+", "sales1"), ("~", "sales1")]
        latest = wang.history.first()
        assert sorted(c.field for c in latest.diff_against(latest.prev_record).changes) == ["decision_maker", "title"]
        page = client.get(response["Location"]).content.decode()
        assert "Contact 王经理 saved." in page
        assert "Edited by sales1 on" in page
        assert "Title: 采购经理 → 采购总监" in page
        assert "Decision maker: Yes → No" in page

    def test_saved_untouched_it_writes_nothing(self, client, sales_user, wang, mine):
        client.force_login(sales_user)
        # the form as the page renders it, sent back as it is
        form = client.get(urls(mine, wang)["update"]).context["form"]
        data = {}
        for bound in form:
            value = bound.value()
            if isinstance(value, bool):
                if value:
                    data[bound.html_name] = "on"
            else:
                data[bound.html_name] = value
            data[bound.html_initial_name] = bound.initial
        stored = list(Contact.objects.filter(pk=wang.pk).values())
        response = client.post(urls(mine, wang)["update"], data)
        assert response.status_code == 302
        assert list(Contact.objects.filter(pk=wang.pk).values()) == stored  # updated_at included
        assert history_of(wang) == [("+", "sales1")]
        assert "Nothing changed in contact 王经理." in client.get(response["Location"]).content.decode()

    def test_the_edit_form_sends_back_what_the_person_saw(self, client, sales_user, wang, mine):
        client.force_login(sales_user)
        page = client.get(urls(mine, wang)["update"]).content.decode()
        assert re.search(r'<input type="hidden" name="initial-phone" value="\+86 21 5555 0101"', page)

    def test_a_concurrent_edit_of_another_field_survives(self, client, sales_user, admin_user_, wang, mine):
        """The rep opened the form when the phone was +86 21 5555 0101; meanwhile an administrator
        changed the phone. The rep changes the title only: the administrator's phone stays."""
        services.contact_update(contact=wang, data={"phone": "+86 21 6666 0202"}, by=admin_user_)
        client.force_login(sales_user)
        seen = {"phone": "+86 21 5555 0101"}
        client.post(urls(mine, wang)["update"], form_data(wang, seen=seen, phone="+86 21 5555 0101", title="总监"))
        wang.refresh_from_db()
        assert (wang.phone, wang.title) == ("+86 21 6666 0202", "总监")
        assert history_of(wang) == [("+", "sales1"), ("~", "root1"), ("~", "sales1")]

    def test_the_service_saves_only_the_changed_columns(self, wang, sales_user):
        with CaptureQueriesContext(connection) as queries:
            changed = services.contact_update(
                contact=wang, data={"name": "王经理", "title": "总经理", "email": wang.email}, by=sales_user
            )
        assert changed == ["title"]
        updates = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("UPDATE")]
        assert len(updates) == 1
        assert re.findall(r'"(\w+)" = ', updates[0].split(" WHERE ")[0]) == ["title", "updated_at"]

    def test_a_retired_contact_can_still_be_corrected(self, client, sales_user, wang, mine):
        services.contact_retire(contact=wang, by=sales_user)
        client.force_login(sales_user)
        page = client.get(urls(mine, wang)["update"]).content.decode()
        assert "This contact was retired on" in page
        client.post(urls(mine, wang)["update"], form_data(wang, email="wang.old@huadong.example"))
        wang.refresh_from_db()
        assert wang.email == "wang.old@huadong.example" and wang.retired_at is not None


class TestRetireAndRestore:
    def test_the_confirmation_says_what_retiring_does(self, client, sales_user, wang, mine):
        client.force_login(sales_user)
        page = client.get(urls(mine, wang)["retire"]).content.decode()
        assert "Retire contact 王经理" in page
        assert "A retired contact is kept with its history and shown apart" in page
        assert f'action="{urls(mine, wang)["retire"]}"' not in page  # the form posts to the page itself
        assert '<button type="submit" class="danger">Retire contact</button>' in page
        assert not Contact.objects.get(pk=wang.pk).retired_at  # asking writes nothing

    def test_retire_keeps_the_contact_apart_and_restore_brings_it_back(self, client, sales_user, wang, mine):
        client.force_login(sales_user)
        named = urls(mine, wang)

        response = client.post(named["retire"])
        assert response["Location"] == mine.get_absolute_url() + "#contacts"
        wang.refresh_from_db()
        assert wang.retired_at is not None and wang.retired_at <= timezone.now()
        assert history_of(wang) == [("+", "sales1"), ("~", "sales1")]
        page = client.get(response["Location"]).content.decode()
        assert "Contact 王经理 retired." in page
        contacts_block = page.split('id="contacts"')[1].split("</section>")[0]
        assert "Retired contacts" in contacts_block
        assert "<s>王经理</s>" in contacts_block
        assert "Retired by sales1 on" in contacts_block
        assert "<table" not in contacts_block  # no current contact left
        assert "No current contacts. Add the people you now deal with at this customer" in contacts_block

        # again: nothing more is written
        client.post(named["retire"])
        assert history_of(wang) == [("+", "sales1"), ("~", "sales1")]

        response = client.post(named["restore"])
        wang.refresh_from_db()
        assert wang.retired_at is None
        assert history_of(wang) == [("+", "sales1"), ("~", "sales1"), ("~", "sales1")]
        page = client.get(response["Location"]).content.decode()
        assert "Contact 王经理 restored." in page
        assert "Restored by sales1 on" in page and "<s>王经理</s>" not in page

        client.post(named["restore"])
        assert len(history_of(wang)) == 3
        assert "Contact 王经理 was not retired." in client.get(mine.get_absolute_url()).content.decode()

    def test_the_services_say_whether_they_changed_anything(self, wang, sales_user):
        assert services.contact_retire(contact=wang, by=sales_user) is True
        assert services.contact_retire(contact=wang, by=sales_user) is False
        assert services.contact_restore(contact=wang, by=sales_user) is True
        assert services.contact_restore(contact=wang, by=sales_user) is False
        assert [r.history_type for r in wang.history.order_by("history_id")] == ["+", "~", "~"]


# ---------------------------------------------------------------------------------------- reading


class TestCustomerPage:
    @pytest.mark.parametrize("role", ["service", "executive"])
    def test_readers_see_contacts_and_their_history_but_no_actions(self, client, request, role, wang, mine):
        retired = services.contact_create(customer=mine, data={"name": "赵前任", "title": "前采购"}, by=mine.owner)
        services.contact_retire(contact=retired, by=mine.owner)
        client.force_login(request.getfixturevalue(f"{role}_user"))
        page = client.get(mine.get_absolute_url()).content.decode()
        block = page.split('id="contacts"')[1].split("</section>")[0]
        for text in (
            "王经理",
            "采购经理",
            "wang@huadong.example",
            "+86 21 5555 0101",
            "Added by sales1 on",
            "<s>赵前任</s>",
        ):
            assert text in block, text
        assert "/contacts/" not in block  # no add, edit, retire or restore for a reader
        assert "Add a contact" not in block

    def test_the_owner_sees_the_actions(self, client, sales_user, wang, mine):
        client.force_login(sales_user)
        block = client.get(mine.get_absolute_url()).content.decode().split('id="contacts"')[1].split("</section>")[0]
        named = urls(mine, wang)
        for url in (named["create"], named["update"], named["retire"]):
            assert f'href="{url}"' in block

    def test_empty_states_say_what_to_do(self, client, sales_user, service_user, mine):
        client.force_login(sales_user)
        page = client.get(mine.get_absolute_url()).content.decode()
        assert "No contacts yet. Add the people you deal with at this customer" in page
        assert "administration pages" not in page
        client.force_login(service_user)
        page = client.get(mine.get_absolute_url()).content.decode()
        assert "No current contacts recorded. The customer's owner, sales1, adds them here" in page
        nobodys = CustomerFactory(owner=None)
        page = client.get(nobodys.get_absolute_url()).content.decode()
        assert "This customer has no owner yet: an administrator can add contacts here." in page

    def test_in_chinese(self, client, sales_user, wang, mine):
        services.contact_update(contact=wang, data={"title": "采购总监"}, by=sales_user)
        client.force_login(sales_user)
        client.cookies["django_language"] = "zh-hans"
        page = client.get(mine.get_absolute_url()).content.decode()
        assert "添加联系人" in page
        assert "由 sales1 编辑于" in page
        assert "由 sales1 添加于" in page

    def test_queries_do_not_grow_with_contacts_or_changes(
        self, client, sales_user, mine, django_assert_max_num_queries
    ):
        client.force_login(sales_user)

        def add(n):
            for i in range(n):
                contact = services.contact_create(customer=mine, data={"name": f"联系人{i}"}, by=sales_user)
                services.contact_update(contact=contact, data={"title": "经理"}, by=sales_user)
                if i % 2:
                    services.contact_retire(contact=contact, by=sales_user)

        add(1)
        client.get(mine.get_absolute_url())
        with django_assert_max_num_queries(40) as few:
            client.get(mine.get_absolute_url())
        add(20)
        with django_assert_max_num_queries(len(few.captured_queries)):
            assert client.get(mine.get_absolute_url()).status_code == 200

    def test_the_selector_reads_contacts_and_history_in_two_queries(
        self, wang, mine, sales_user, django_assert_num_queries
    ):
        services.contact_update(contact=wang, data={"phone": "13800000001"}, by=sales_user)
        gone = services.contact_create(customer=mine, data={"name": "赵前任"}, by=sales_user)
        services.contact_retire(contact=gone, by=sales_user)
        with django_assert_num_queries(2):
            contacts = selectors.customer_contacts(customer=mine)
            assert [c.name for c in contacts.current] == ["王经理"] and [c.name for c in contacts.retired] == ["赵前任"]
            assert [e["action"] for e in contacts.current[0].changes] == ["edited", "added"]
            assert [e["action"] for e in contacts.retired[0].changes] == ["retired", "added"]
            assert contacts.current[0].changes[0]["fields"] == [
                {"field": "Phone", "old": "+86 21 5555 0101", "new": "13800000001"}
            ]
            assert contacts.current[0].changes[0]["record"].history_user == sales_user

    def test_a_contact_written_in_bulk_has_no_history_and_still_shows(self, client, service_user, mine):
        Contact.objects.bulk_create([Contact(customer=mine, name="批量导入")])
        client.force_login(service_user)
        page = client.get(mine.get_absolute_url()).content.decode()
        assert "批量导入" in page


# ---------------------------------------------------------------------------------------- concurrency


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
class TestLocking:
    def test_every_write_locks_the_row_first(self, wang, sales_user):
        for write in (
            lambda: services.contact_update(contact=wang, data={"title": "总监"}, by=sales_user),
            lambda: services.contact_retire(contact=wang, by=sales_user),
            lambda: services.contact_restore(contact=wang, by=sales_user),
        ):
            with CaptureQueriesContext(connection) as queries:
                write()
            reads = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT")]
            assert reads and reads[0].endswith("FOR UPDATE"), reads

    def test_two_retirements_at_once_write_one_entry(self, wang, sales_user, admin_user_):
        """The second waits for the first's lock, then finds the contact retired and writes nothing."""
        barrier, results = threading.Barrier(2), []

        def retire(user):
            try:
                barrier.wait()
                results.append(services.contact_retire(contact=Contact.objects.get(pk=wang.pk), by=user))
            finally:
                connections.close_all()

        threads = [threading.Thread(target=retire, args=(user,)) for user in (sales_user, admin_user_)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(results) == [False, True]
        assert [r.history_type for r in wang.history.order_by("history_id")] == ["+", "~"]
