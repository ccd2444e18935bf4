"""Issue 14 on the complaint page: "Customer notified at" starts at now and is judged at the input's
precision with a tolerance; moves off the normal path look apart and ask first; required fields are marked."""

import datetime
import re
from unittest import mock

import pytest
from django.conf import settings
from django.urls import reverse

from complaints.models import Complaint, State
from complaints.workflow import NOTIFIED_TOLERANCE, complaint_transition
from tests.factories import make_complaint

from .posts import as_input

pytestmark = pytest.mark.django_db

# Arrived at 18:00:30.5 in Shanghai, the project's time zone.
ARRIVED = datetime.datetime(2026, 3, 2, 10, 0, 30, 500000, tzinfo=datetime.UTC)


def frozen(moment):
    """The clock stopped at `moment` for everything that asks django.utils.timezone.now()."""
    return mock.patch("django.utils.timezone.now", return_value=moment)


@pytest.fixture
def investigating(service_user):
    complaint = make_complaint(received_at=ARRIVED, assignee=service_user, severity="high")
    for seconds, to in ((2, State.ACKNOWLEDGED), (4, State.INVESTIGATING)):
        complaint = complaint_transition(
            complaint=complaint, to=to, by=service_user, now=ARRIVED + datetime.timedelta(seconds=seconds)
        )
    return complaint


def shown_notified_at(page: str) -> str:
    field = re.search(r'<input type="datetime-local" name="customer_notified_at"[^>]*>', page).group(0)
    return re.search(r'value="([^"]*)"', field).group(1)


def communicate(client, complaint, notified: str):
    return client.post(
        reverse("complaints:complaint_transition", args=[complaint.pk]),
        {
            "to": "action_communicated",
            "expected_state": "investigating",
            "action_plan": "Replace the goods",
            "customer_notified_at": notified,
        },
    )


def test_notified_at_starts_at_now_in_local_time_to_the_second(client, service_user, investigating):
    client.force_login(service_user)
    with frozen(ARRIVED + datetime.timedelta(seconds=15)):
        page = client.get(investigating.get_absolute_url()).content.decode()
    assert shown_notified_at(page) == "2026-03-02T18:00:45"  # 10:00:45.5 UTC, in Shanghai, to the second


def test_the_default_is_accepted_in_the_complaint_s_first_minute(client, service_user, investigating):
    client.force_login(service_user)
    now = ARRIVED + datetime.timedelta(seconds=15)
    with frozen(now):
        shown = shown_notified_at(client.get(investigating.get_absolute_url()).content.decode())
        response = communicate(client, investigating, shown)
    assert response.status_code == 302
    fresh = Complaint.objects.get(pk=investigating.pk)
    assert fresh.state == State.ACTION_COMMUNICATED
    assert fresh.customer_notified_at == now.replace(microsecond=0) == fresh.first_response_at


def test_the_default_shown_a_minute_ago_is_still_accepted(client, service_user, investigating):
    client.force_login(service_user)
    with frozen(ARRIVED + datetime.timedelta(seconds=15)):
        shown = shown_notified_at(client.get(investigating.get_absolute_url()).content.decode())
    with frozen(ARRIVED + datetime.timedelta(seconds=75)):
        assert communicate(client, investigating, shown).status_code == 302


# (seconds from the arrival to now, what is posted, accepted?, stored as)
BOUNDARIES = [
    # In the first minute, the minute as typed (18:00, 30.5 s before the arrival) is the arrival.
    (15, "2026-03-02T18:00", True, ARRIVED),
    (15, "2026-03-02T17:59:30", True, ARRIVED),  # the arrival's second less the tolerance
    (15, "2026-03-02T17:59:29", False, None),
    (15, "2026-03-02T18:00:45", True, ARRIVED + datetime.timedelta(seconds=14.5)),  # now, to the second
    # A minute later: a time up to the tolerance ahead of the server's clock is now.
    (75, "2026-03-02T18:02:45", True, ARRIVED + datetime.timedelta(seconds=75)),
    (75, "2026-03-02T18:02:46", False, None),
]


@pytest.mark.parametrize("after, posted, accepted, stored", BOUNDARIES)
def test_boundaries_at_the_input_s_precision(client, service_user, investigating, after, posted, accepted, stored):
    assert NOTIFIED_TOLERANCE == datetime.timedelta(minutes=1)
    client.force_login(service_user)
    with frozen(ARRIVED + datetime.timedelta(seconds=after)):
        response = communicate(client, investigating, posted)
    fresh = Complaint.objects.get(pk=investigating.pk)
    if accepted:
        assert response.status_code == 302
        assert fresh.customer_notified_at == stored == fresh.first_response_at
        assert fresh.first_response_seconds == int((stored - ARRIVED).total_seconds())
    else:
        assert response.status_code == 400
        assert fresh.state == State.INVESTIGATING and fresh.customer_notified_at is None


def test_the_refusals_say_which_times_clash(client, service_user, investigating):
    client.force_login(service_user)
    with frozen(ARRIVED + datetime.timedelta(seconds=75)):
        early = communicate(client, investigating, "2026-03-02T17:58:00")
        late = communicate(client, investigating, "2026-03-02T19:00:00")

    def errors(response):
        move = next(m for m in response.context["moves"] if m["to"] == "action_communicated")
        return move["form"].errors["customer_notified_at"]

    assert errors(early) == [
        "The customer cannot have been notified before the complaint arrived: 2026-03-02 17:58:00 is earlier than "
        "its arrival (2026-03-02 18:00:30)."
    ]
    assert errors(late) == [
        "The customer cannot have been notified in the future: 2026-03-02 19:00:00 is later than now (2026-03-02 18:01:45)."
    ]
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    with frozen(ARRIVED + datetime.timedelta(seconds=75)):
        translated = errors(communicate(client, investigating, "2026-03-02T19:00:00"))[0]
    assert "2026-03-02 19:00:00" in translated and "2026-03-02 18:01:45" in translated
    assert "customer" not in translated


def buttons(page: str) -> dict:
    """Each move's submit button on the page, by the state it moves to: its class and its question."""
    found = {}
    for tag in re.findall(r'<button type="submit"[^>]*name="action"[^>]*>', page):
        value = re.search(r'value="([^"]*)"', tag).group(1)
        question = re.search(r'data-confirm="([^"]*)"', tag)
        found[value] = (re.search(r'class="([^"]*)"', tag).group(1), question.group(1) if question else None)
    return found


def test_reject_and_mark_duplicate_look_apart_and_ask_first(client, service_user):
    complaint = make_complaint(assignee=service_user)
    client.force_login(service_user)
    page = client.get(complaint.get_absolute_url()).content.decode()
    assert buttons(page) == {
        "acknowledged": ("primary", None),
        "rejected": ("danger", f"Reject complaint {complaint.number}? A rejected complaint cannot be reopened."),
        "duplicate": ("danger", f"Mark complaint {complaint.number} as a duplicate? A duplicate cannot be reopened."),
    }
    assert "/static/js/confirm.js" in page and "<script>" not in page  # the question is asked by a static file
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    translated = buttons(client.get(complaint.get_absolute_url()).content.decode())
    assert complaint.number in translated["rejected"][1] and "Reject" not in translated["rejected"][1]


def test_close_looks_apart_and_asks_first(client, service_user):
    complaint = make_complaint(assignee=service_user)
    for to, extra in (
        (State.ACKNOWLEDGED, {}),
        (State.INVESTIGATING, {}),
        (State.ACTION_COMMUNICATED, {"action_plan": "x", "customer_notified_at": complaint.received_at}),
        (State.RESOLVED, {"root_cause": "y"}),
    ):
        complaint = complaint_transition(complaint=complaint, to=to, by=service_user, **extra)
    client.force_login(service_user)
    page = client.get(complaint.get_absolute_url()).content.decode()
    assert buttons(page) == {
        "closed": ("danger", f"Close complaint {complaint.number}? Only a reopening, with its reason, brings it back.")
    }


def required(page: str, move: str) -> set:
    """The fields of a move's form marked required (the mark of templates/includes/form_fields.html)."""
    form = re.search(
        rf'<form[^>]*class="move[^"]*">(?:(?!</form>).)*value="{move}"(?:(?!</form>).)*</form>', page, re.S
    ).group(0)
    return set(re.findall(rf'<label for="id_{move}_(\w+)">[^<]*<span class="required-mark"', form))


def test_the_fields_a_move_needs_are_marked_required(client, service_user, investigating):
    client.force_login(service_user)
    page = client.get(investigating.get_absolute_url()).content.decode()
    assert required(page, "action_communicated") == {"action_plan", "customer_notified_at"}
    assert required(page, "awaiting_customer") == set()
    fresh = make_complaint(assignee=service_user)
    page = client.get(fresh.get_absolute_url()).content.decode()
    assert required(page, "rejected") == {"note"} and required(page, "duplicate") == {"duplicate_of"}
    assert required(page, "acknowledged") == set()


def test_a_missing_detail_is_refused_with_the_workflow_s_message(client, service_user, investigating):
    client.force_login(service_user)
    response = client.post(
        reverse("complaints:complaint_transition", args=[investigating.pk]),
        {"to": "action_communicated", "expected_state": "investigating", "action_plan": "  "},
    )
    assert response.status_code == 400
    move = next(m for m in response.context["moves"] if m["to"] == "action_communicated")
    assert move["form"].errors == {
        "action_plan": ["Write the action plan the customer was told before moving on."],
        "customer_notified_at": ["Record when the customer was notified of the action plan."],
    }


def test_the_edit_page_marks_required_fields(client, service_user):
    complaint = make_complaint(assignee=service_user)
    client.force_login(service_user)
    page = client.get(reverse("complaints:complaint_edit", args=[complaint.pk])).content.decode()
    assert re.search(r'<label for="id_description">[^<]*<span class="required-mark"', page)
    assert not re.search(r'<label for="id_problem">[^<]*<span class="required-mark"', page)


def test_posted_time_is_read_in_the_local_time_zone(client, service_user, investigating):
    client.force_login(service_user)
    notified = ARRIVED + datetime.timedelta(seconds=20)
    with frozen(ARRIVED + datetime.timedelta(minutes=5)):
        assert communicate(client, investigating, as_input(notified)).status_code == 302
    assert Complaint.objects.get(pk=investigating.pk).customer_notified_at == notified.replace(microsecond=0)
