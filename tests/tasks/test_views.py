"""My tasks, a new follow-up and the bulk actions, for every role: who may, who gets 403, what each
sees; all or nothing through the page; a constant number of queries."""

import datetime

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from tasks.models import Source, State, Task
from tasks.services import task_create
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

MY_TASKS = reverse("tasks:my_tasks")
NEW = reverse("tasks:task_create")
BULK = reverse("tasks:bulk")


def today():
    return timezone.localdate()


def days(n):
    return today() + datetime.timedelta(days=n)


def make(customer, assignee, due, **kwargs):
    return task_create(customer=customer, assignee=assignee, due_on=due, **kwargs)


@pytest.fixture
def tasks(people, book):
    """sales1: an overdue, a today's, a later one and one snoozed to next week on their customer;
    sales2 one on theirs; service1 one on the complaint they work."""
    overdue = make(book["mine"], people["sales"], days(-9), note="overdue call")
    due_today = make(book["mine"], people["sales"], today(), note="today's call")
    later = make(book["mine"], people["sales"], days(20), note="later call")
    snoozed = make(book["mine"], people["sales"], days(-3), note="snoozed call")
    Task.objects.filter(pk=snoozed.pk).update(state=State.SNOOZED, snoozed_until=days(7))
    theirs = make(book["theirs"], people["other_sales"], days(-1), note="their call")
    complaint = make(book["theirs"], people["service"], days(1), complaint=book["complaint"], note="call back")
    return {
        "overdue": overdue,
        "today": due_today,
        "later": later,
        "snoozed": snoozed,
        "theirs": theirs,
        "complaint": complaint,
    }


def listed(response):
    return [t.note for t in response.context["tasks"]], [t.note for t in response.context["snoozed"]]


def messages_of(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


# My tasks ---------------------------------------------------------------------------------------


def test_a_sales_rep_sees_their_own_overdue_first_and_the_snoozed_apart(client, people, tasks):
    client.force_login(people["sales"])
    response = client.get(MY_TASKS)
    assert response.status_code == 200
    assert listed(response) == (["overdue call", "today's call", "later call"], ["snoozed call"])
    page = response.content.decode()
    assert "their call" not in page and "call back" not in page
    assert 'name="task"' in page and 'value="complete"' in page and 'value="reassign"' in page


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"due": "overdue"}, ["overdue call"]),
        ({"due": "today"}, ["today's call"]),
        ({"due": "later"}, ["later call"]),
        ({"state": "snoozed"}, ["snoozed call"]),
        ({"state": "done"}, []),
    ],
)
def test_the_filters(client, people, tasks, query, expected):
    client.force_login(people["sales"])
    assert listed(client.get(MY_TASKS, query))[0] == expected


def test_a_snoozed_follow_up_whose_day_has_come_is_to_do_again_at_that_day(client, people, tasks):
    Task.objects.filter(pk=tasks["snoozed"].pk).update(snoozed_until=today())
    client.force_login(people["sales"])
    assert listed(client.get(MY_TASKS)) == (["overdue call", "today's call", "snoozed call", "later call"], [])


def test_a_service_rep_sees_what_is_assigned_to_them(client, people, tasks):
    client.force_login(people["service"])
    assert listed(client.get(MY_TASKS)) == (["call back"], [])


def test_executives_read_the_team_by_assignee_and_may_only_reassign(client, people, tasks):
    client.force_login(people["executive"])
    response = client.get(MY_TASKS)
    notes = listed(response)[0]
    assert notes == ["overdue call", "their call", "today's call", "call back", "later call"]
    assert listed(client.get(MY_TASKS, {"assignee": people["other_sales"].pk}))[0] == ["their call"]
    page = response.content.decode()
    assert "Team follow-ups" in page and 'value="reassign"' in page and 'value="complete"' not in page
    assert listed(client.get(MY_TASKS, {"scope": "mine"}))[0] == []


def test_an_empty_list_says_what_to_do(client, make_user):
    from crm.roles import Role

    client.force_login(make_user(Role.SALES, username="newrep"))
    page = client.get(MY_TASKS).content.decode()
    assert "Add a follow-up from a customer's page, a complaint or the alerts of your portfolio" in page
    assert 'value="complete"' not in page  # no actions without anything to act on


def test_my_tasks_reads_a_constant_number_of_queries(client, people, book, django_assert_num_queries):
    client.force_login(people["sales"])
    for n in range(3):
        make(book["mine"], people["sales"], days(n - 1))
    client.get(MY_TASKS)  # the top bar's unread count is read once, then cached

    # session, user, permissions (2), groups (the rules' and the top bar's: 2), the to-do list's count and
    # rows, the snoozed rows, the reassign form's assignee choices: 10
    with django_assert_num_queries(10) as few:
        client.get(MY_TASKS)
    for n in range(40):
        customer = CustomerFactory(owner=people["sales"])
        make(customer, people["sales"], days(n % 9 - 4))
        Task.objects.filter(pk=make(customer, people["sales"], days(2)).pk).update(
            state=State.SNOOZED, snoozed_until=days(3)
        )
    with django_assert_num_queries(len(few)):
        response = client.get(MY_TASKS)
    assert len(response.context["tasks"]) == 43 and len(response.context["snoozed"]) == 40


def test_the_team_view_reads_a_constant_number_of_queries(client, people, book, django_assert_num_queries):
    client.force_login(people["executive"])
    make(book["mine"], people["sales"], days(-1), complaint=book["complaint"])
    client.get(MY_TASKS)
    # as My tasks, and the assignee filter's choices: 11
    with django_assert_num_queries(11) as few:
        client.get(MY_TASKS)
    for n in range(30):
        customer = CustomerFactory(owner=people["other_sales"])
        make(customer, people["sales" if n % 2 else "service"], days(n % 9 - 4), complaint=book["complaint"])
    with django_assert_num_queries(len(few)):
        response = client.get(MY_TASKS, {"page": 1})
    assert len(response.context["tasks"]) == 31


# A new follow-up --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "on", "status"),
    [
        ("sales", "mine", 200),
        ("other_sales", "mine", 403),
        ("service", "mine", 403),
        ("executive", "mine", 403),
        ("admin", "mine", 200),
        ("service", "complaint", 200),  # the complaint they work
        ("other_service", "complaint", 403),
        ("other_sales", "complaint", 200),  # the complaint's customer is theirs
        ("sales", "complaint", 403),
        ("executive", "complaint", 403),
        ("admin", "complaint", 200),
    ],
)
def test_who_may_open_the_new_follow_up_form(client, people, book, who, on, status):
    client.force_login(people[who])
    query = {"complaint": book["complaint"].pk} if on == "complaint" else {"customer": book["mine"].pk}
    assert client.get(NEW, query).status_code == status


def test_a_missing_customer_is_404(client, people):
    client.force_login(people["admin"])
    assert client.get(NEW, {"customer": 987654}).status_code == 404
    assert client.get(NEW, {"complaint": 987654}).status_code == 404


def test_create_from_the_customer_page(client, people, book):
    client.force_login(people["sales"])
    next_url = book["mine"].get_absolute_url()
    response = client.post(
        NEW,
        {
            "customer": book["mine"].pk,
            "assignee": people["service"].pk,
            "due_on": "2026-12-03",
            "note": "Send samples",
            "next": next_url,
        },
    )
    assert response.status_code == 302 and response["Location"] == next_url
    task = Task.objects.get()
    assert (task.customer, task.assignee, task.created_by, task.due_on, task.note, task.source) == (
        book["mine"],
        people["service"],
        people["sales"],
        datetime.date(2026, 12, 3),
        "Send samples",
        Source.CUSTOMER,
    )
    assert messages_of(response) == ["Follow-up on 华东精密机械 created, due 3 Dec 2026."]


def test_create_from_a_complaint_links_it(client, people, book):
    client.force_login(people["service"])
    response = client.post(
        NEW, {"complaint": book["complaint"].pk, "assignee": people["service"].pk, "due_on": "2026-12-01"}
    )
    assert response.status_code == 302 and response["Location"] == book["theirs"].get_absolute_url()
    task = Task.objects.get()
    assert (task.customer, task.complaint, task.source) == (book["theirs"], book["complaint"], Source.COMPLAINT)


def test_an_executive_cannot_post_a_follow_up_either(client, people, book):
    client.force_login(people["executive"])
    response = client.post(NEW, {"customer": book["mine"].pk, "assignee": people["sales"].pk, "due_on": "2026-12-03"})
    assert response.status_code == 403 and not Task.objects.exists()


def test_an_alert_follow_up_comes_filled_in_and_a_second_is_refused(client, people, book):
    client.force_login(people["sales"])
    form = client.get(NEW, {"customer": book["mine"].pk, "source": "neglected"}).context["form"]
    assert form.initial["assignee"] == people["sales"] and form.initial["due_on"] == today()
    assert form.initial["note"].startswith("A core or key account without a visit")
    data = {"customer": book["mine"].pk, "source": "neglected", "assignee": people["sales"].pk, "due_on": str(today())}
    assert client.post(NEW, data).status_code == 302
    again = client.post(NEW, data)
    assert again.status_code == 400
    assert (
        f"This alert already has an open follow-up for 华东精密机械, due {date_format(today())}."
        in again.content.decode()
    )
    assert Task.objects.filter(source=Source.NEGLECTED).count() == 1


def test_an_assignee_who_is_not_a_rep_is_refused(client, people, book):
    client.force_login(people["sales"])
    response = client.post(
        NEW, {"customer": book["mine"].pk, "assignee": people["executive"].pk, "due_on": "2026-12-03"}
    )
    assert response.status_code == 400 and "assignee" in response.context["form"].errors


# Bulk actions -----------------------------------------------------------------------------------


def test_complete_many_in_one_post(client, people, tasks):
    client.force_login(people["sales"])
    response = client.post(
        BULK, {"action": "complete", "task": [tasks["overdue"].pk, tasks["snoozed"].pk], "next": "/tasks/?due=overdue"}
    )
    assert response.status_code == 302 and response["Location"] == "/tasks/?due=overdue"
    assert messages_of(response) == ["2 follow-ups completed."]
    assert set(Task.objects.filter(state=State.DONE).values_list("note", flat=True)) == {"overdue call", "snoozed call"}
    client.get(MY_TASKS)  # the message is read
    again = client.post(BULK, {"action": "complete", "task": [tasks["overdue"].pk]})
    assert messages_of(again) == ["Nothing changed: the chosen follow-up was done already."]
    client.get(MY_TASKS)
    both = client.post(BULK, {"action": "complete", "task": [tasks["overdue"].pk, tasks["today"].pk]})
    assert messages_of(both) == ["1 follow-up completed. 1 was done already: nothing to do."]


def test_snooze_with_a_preset_and_a_date(client, people, tasks):
    client.force_login(people["sales"])
    response = client.post(BULK, {"action": "snooze", "preset": "tomorrow", "task": [tasks["overdue"].pk]})
    assert messages_of(response) == [f"1 follow-up snoozed until {date_format(days(1))}."]
    monday = today() + datetime.timedelta(days=7 - today().weekday())
    client.post(BULK, {"action": "snooze", "preset": "next_week", "task": [tasks["today"].pk]})
    client.post(BULK, {"action": "snooze", "preset": "", "until": str(days(12)), "task": [tasks["later"].pk]})
    assert dict(Task.objects.filter(state=State.SNOOZED).values_list("note", "snoozed_until")) == {
        "overdue call": days(1),
        "today's call": monday,
        "later call": days(12),
        "snoozed call": days(7),
    }


def test_one_post_with_one_foreign_id_changes_nothing(client, people, tasks):
    client.force_login(people["sales"])
    ids = [tasks["overdue"].pk, tasks["theirs"].pk]
    response = client.post(BULK, {"action": "complete", "task": ids})
    assert response.status_code == 302
    assert messages_of(response) == ["1 of the chosen follow-ups does not exist or is not yours: nothing was changed."]
    assert not Task.objects.filter(state=State.DONE).exists()


def test_a_bad_snooze_changes_nothing_and_says_why(client, people, tasks):
    client.force_login(people["sales"])
    response = client.post(
        BULK, {"action": "snooze", "preset": "", "until": str(today()), "task": [tasks["overdue"].pk]}
    )
    assert messages_of(response) == ["Snooze until a day after today."]
    assert Task.objects.get(pk=tasks["overdue"].pk).state == State.OPEN


@pytest.mark.parametrize(
    ("who", "action", "task", "outcome"),
    [
        ("sales", "complete", "overdue", "done"),  # assigned to them, their customer
        ("other_sales", "complete", "overdue", "refused"),  # not theirs: as if it did not exist
        ("service", "complete", "complaint", "done"),  # assigned to them
        ("other_service", "complete", "complaint", "refused"),
        ("executive", "complete", "overdue", 403),  # executives do not work follow-ups
        ("executive", "snooze", "overdue", 403),
        ("executive", "reassign", "overdue", "reassigned"),
        ("admin", "complete", "theirs", "done"),
        ("admin", "reassign", "complaint", "reassigned"),
        ("sales", "reassign", "overdue", "reassigned"),
        ("other_sales", "complete", "complaint", "done"),  # the complaint's customer is theirs
    ],
)
def test_who_may_act_on_which_follow_up(client, people, tasks, who, action, task, outcome):
    client.force_login(people[who])
    target = tasks[task]
    response = client.post(
        BULK, {"action": action, "task": [target.pk], "preset": "tomorrow", "assignee": people["other_service"].pk}
    )
    target.refresh_from_db()
    if outcome == 403:
        assert response.status_code == 403
        assert (target.state, target.assignee) == (tasks[task].state, tasks[task].assignee)
    elif outcome == "refused":
        assert response.status_code == 302 and target.state == State.OPEN
        assert messages_of(response) == [
            "1 of the chosen follow-ups does not exist or is not yours: nothing was changed."
        ]
    elif outcome == "done":
        assert response.status_code == 302 and target.state == State.DONE and target.completed_by == people[who]
    else:
        assert response.status_code == 302 and target.assignee == people["other_service"]
        assert messages_of(response) == ["1 follow-up given to service2."]


def test_bulk_is_post_only(client, people):
    client.force_login(people["sales"])
    assert client.get(BULK).status_code == 405


def test_customer_and_complaint_pages_show_their_follow_ups(client, people, book, tasks):
    client.force_login(people["sales"])
    page = client.get(book["mine"].get_absolute_url()).content.decode()
    assert "overdue call" in page and "Add a follow-up" in page and "their call" not in page
    client.force_login(people["other_sales"])
    page = client.get(book["mine"].get_absolute_url()).content.decode()
    assert "overdue call" in page and "Add a follow-up" not in page
    client.force_login(people["service"])
    page = client.get(book["complaint"].get_absolute_url()).content.decode()
    assert "call back" in page and f"?complaint={book['complaint'].pk}" in page
    client.force_login(people["other_service"])
    page = client.get(book["complaint"].get_absolute_url()).content.decode()
    assert "call back" in page and f"?complaint={book['complaint'].pk}" not in page


def test_the_team_view_has_one_element_per_id(client, people, tasks):
    """The filter's and the reassign form's assignee lists are two fields: two ids, each label its own."""
    client.force_login(people["executive"])
    page = client.get(MY_TASKS).content.decode()
    assert page.count('id="id_assignee"') == 1 and page.count('id="bulk-assignee"') == 1
    assert page.count('for="id_assignee"') == 1 and page.count('for="bulk-assignee"') == 1


def test_a_wrong_filter_value_drops_that_filter_alone(client, people, tasks):
    client.force_login(people["sales"])
    assert listed(client.get(MY_TASKS, {"state": "lost", "due": "overdue"}))[0] == ["overdue call"]


def test_a_follow_ups_link_opens_my_tasks_with_it_ticked(client, people, tasks):
    client.force_login(people["sales"])
    url = tasks["today"].get_absolute_url()
    assert url == f"/tasks/?task={tasks['today'].pk}#task-{tasks['today'].pk}"
    page = client.get(url).content.decode()
    assert page.count(" checked ") == 1 and f'id="task-{tasks["today"].pk}" checked ' in page


def test_a_rep_also_reads_and_works_what_is_theirs_to_work_assigned_to_someone_else(client, people, book, tasks):
    """sales1's customer has a follow-up given to service2: not on sales1's list, a tab away, and theirs to complete."""
    given = make(book["mine"], people["other_service"], days(-2), note="given away")
    client.force_login(people["sales"])
    assert "given away" not in listed(client.get(MY_TASKS))[0]
    response = client.get(MY_TASKS, {"scope": "team"})
    assert listed(response)[0] == ["overdue call", "given away", "today's call", "later call"]
    assert "All I may work" in response.content.decode() and "Team follow-ups" not in response.content.decode()
    client.post(BULK, {"action": "complete", "task": [given.pk]})
    given.refresh_from_db()
    assert (given.state, given.completed_by) == (State.DONE, people["sales"])
    # service2 does not see service1's complaint follow-up on sales2's customer
    client.force_login(people["other_service"])
    assert listed(client.get(MY_TASKS, {"scope": "team"}))[0] == []
