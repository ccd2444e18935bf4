"""The complaint board (issue 19): columns and counts by state, the moves each card offers, moves
through the workflow (guards, stale moves, moves not allowed), who may see and move, query counts."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from complaints.board import CARDS_PER_COLUMN, board_columns, board_complaints
from complaints.models import Complaint, ComplaintTransition, State
from complaints.workflow import complaint_transition
from crm.roles import Role
from tests.factories import CustomerFactory, make_complaint

pytestmark = pytest.mark.django_db

BOARD = "complaints:board"
PATHS = {
    State.ACKNOWLEDGED: [State.ACKNOWLEDGED],
    State.INVESTIGATING: [State.ACKNOWLEDGED, State.INVESTIGATING],
    State.AWAITING_CUSTOMER: [State.ACKNOWLEDGED, State.INVESTIGATING, State.AWAITING_CUSTOMER],
    State.ACTION_COMMUNICATED: [State.ACKNOWLEDGED, State.INVESTIGATING, State.ACTION_COMMUNICATED],
    State.RESOLVED: [State.ACKNOWLEDGED, State.INVESTIGATING, State.ACTION_COMMUNICATED, State.RESOLVED],
    State.CLOSED: [State.ACKNOWLEDGED, State.INVESTIGATING, State.ACTION_COMMUNICATED, State.RESOLVED, State.CLOSED],
    State.REJECTED: [State.REJECTED],
}
FACTS = {
    State.ACTION_COMMUNICATED: {"action_plan": "Replace the goods"},
    State.RESOLVED: {"root_cause": "Weak carton"},
    State.REJECTED: {"note": "Not our product"},
}


def complaint_in(state, *, by, **data):
    """A complaint logged and moved along the workflow to `state`, each move with its facts."""
    complaint = make_complaint(**data)
    for to in PATHS.get(state, []):
        facts = dict(FACTS.get(to, {}))
        if to == State.ACTION_COMMUNICATED:
            facts["customer_notified_at"] = timezone.now()
        complaint = complaint_transition(complaint=complaint, to=to, by=by, **facts)
    return complaint


def move_url(complaint, query=""):
    return reverse("complaints:board_move", args=[complaint.pk]) + (f"?{query}" if query else "")


def state_of(complaint):
    return Complaint.objects.get(pk=complaint.pk).state


def column(response, state):
    return next(c for c in response.context["columns"] if c.state == state)


def numbers(response, state):
    return [card.complaint.number for card in column(response, state).cards]


def card_html(response, complaint):
    page = response.content.decode()
    match = re.search(rf'<li class="board-card" id="card-{complaint.pk}".*?</li>', page, re.S)
    assert match, f"no card for {complaint.number}"
    return match.group(0)


def options(html):
    return re.findall(r'<option value="([a-z_]+)"', html)


@pytest.fixture
def other_service(make_user):
    return make_user(Role.SERVICE, username="service2")


class TestColumns:
    def test_each_state_its_column_count_and_cards(self, client, admin_user_, service_user):
        # given one or two complaints in each state, hand-built through the workflow
        made = {}
        for state in (State.NEW, State.ACKNOWLEDGED, State.INVESTIGATING, State.AWAITING_CUSTOMER):
            made[state] = [complaint_in(state, by=service_user, assignee=service_user)]
        made[State.NEW].append(complaint_in(State.NEW, by=service_user))
        for state in (State.ACTION_COMMUNICATED, State.RESOLVED, State.CLOSED, State.REJECTED):
            made[state] = [complaint_in(state, by=service_user, assignee=service_user)]
        client.force_login(admin_user_)
        # when the admin opens the whole board
        response = client.get(reverse(BOARD), {"scope": "all"})
        # then the columns come in the workflow's order, each with its count and its cards
        assert response.status_code == 200
        columns = response.context["columns"]
        assert [c.state for c in columns] == [
            "new",
            "acknowledged",
            "investigating",
            "awaiting_customer",
            "action_communicated",
            "resolved",
            "closed",
            "rejected",
            "duplicate",
        ]
        assert {c.state: c.count for c in columns} == {
            "new": 2,
            "acknowledged": 1,
            "investigating": 1,
            "awaiting_customer": 1,
            "action_communicated": 1,
            "resolved": 1,
            "closed": 1,
            "rejected": 1,
            "duplicate": 0,
        }
        assert response.context["total"] == 9
        for state in (State.ACKNOWLEDGED, State.INVESTIGATING, State.AWAITING_CUSTOMER, State.RESOLVED):
            assert numbers(response, state) == [made[state][0].number]
        assert sorted(numbers(response, State.NEW)) == sorted(c.number for c in made[State.NEW])
        # the ends of the path are counts, with the queue for their complaints
        closed = column(response, State.CLOSED)
        assert closed.collapsed and closed.cards == [] and closed.more == 0
        assert closed.queue_url == reverse("complaints:queue") + "?tab=all&state=closed"
        assert made[State.CLOSED][0].number not in response.content.decode()
        assert 'data-state="closed"' in response.content.decode()

    def test_scope_and_filters(self, client, service_user, other_service):
        mine = make_complaint(assignee=service_user, severity="high", category="delivery")
        mine_low = make_complaint(assignee=service_user, severity="low", category="billing")
        nobody = make_complaint(severity="high", category="delivery")
        theirs = make_complaint(assignee=other_service, severity="high", category="delivery")
        client.force_login(service_user)

        def new_column(**query):
            return sorted(numbers(client.get(reverse(BOARD), query), State.NEW))

        assert new_column() == sorted([mine.number, mine_low.number])  # a service rep starts on their own
        assert new_column(scope="mine", severity="high") == [mine.number]
        assert new_column(scope="unassigned") == [nobody.number]
        assert new_column(scope="all", category="delivery") == sorted([mine.number, nobody.number, theirs.number])
        assert new_column(scope="all", q=theirs.number) == [theirs.number]
        assert client.get(reverse(BOARD), {"scope": "everyone"}).status_code == 404

    def test_cards_most_urgent_first_capped_with_the_rest_in_the_queue(self, service_user):
        now = timezone.now()
        late = make_complaint(assignee=service_user, received_at=now - datetime.timedelta(hours=20))
        fresh = make_complaint(assignee=service_user, received_at=now)
        middle = make_complaint(assignee=service_user, received_at=now - datetime.timedelta(hours=10))
        complaints = board_complaints(user=service_user, scope="mine")
        columns = board_columns(user=service_user, complaints=complaints, per_column=2)
        new = columns[0]
        assert [card.complaint.number for card in new.cards] == [late.number, middle.number]  # due first
        assert (new.count, new.more) == (3, 1)
        assert fresh.number not in [card.complaint.number for card in new.cards]

    def test_sla_badges(self, client, service_user):
        now = timezone.now()
        breached = make_complaint(assignee=service_user, received_at=now - datetime.timedelta(days=3))
        Complaint.objects.filter(pk=breached.pk).update(resolution_breached=True)
        overdue = make_complaint(assignee=service_user, received_at=now - datetime.timedelta(days=3))
        soon = make_complaint(assignee=service_user, received_at=now - datetime.timedelta(hours=22))
        on_time = make_complaint(assignee=service_user, received_at=now)
        client.force_login(service_user)
        response = client.get(reverse(BOARD))
        cards = {card.complaint.pk: card for card in column(response, State.NEW).cards}
        assert [cards[c.pk].sla for c in (breached, overdue, soon, on_time)] == [
            "breached",
            "overdue",
            "soon",
            "on_time",
        ]
        assert "SLA breached" in card_html(response, breached)
        assert "Overdue" in card_html(response, overdue)
        assert "Due soon" in card_html(response, soon)
        assert "badge bad" not in card_html(response, on_time) and "Due soon" not in card_html(response, on_time)

    def test_an_empty_board_says_what_to_do(self, client, service_user):
        client.force_login(service_user)
        response = client.get(reverse(BOARD))
        assert response.context["total"] == 0
        assert "No complaints on this board. Look at another tab, clear the filters, or log a complaint." in (
            response.content.decode()
        )


class TestMovesOffered:
    def test_only_the_allowed_next_states_for_someone_who_may_work_it(self, client, service_user, other_service):
        new = make_complaint(assignee=service_user)
        nobody = make_complaint()
        investigating = complaint_in(State.INVESTIGATING, by=service_user, assignee=service_user)
        resolved = complaint_in(State.RESOLVED, by=service_user, assignee=service_user)
        theirs = make_complaint(assignee=other_service)
        client.force_login(service_user)
        response = client.get(reverse(BOARD), {"scope": "all"})
        assert options(card_html(response, new)) == ["acknowledged", "rejected", "duplicate"]
        assert options(card_html(response, nobody)) == ["acknowledged", "rejected", "duplicate"]  # taken by moving
        assert options(card_html(response, investigating)) == ["awaiting_customer", "action_communicated", "duplicate"]
        assert options(card_html(response, resolved)) == ["closed"]
        assert options(card_html(response, theirs)) == []  # someone else works it: no Move control
        html = card_html(response, investigating)
        assert 'data-moves="awaiting_customer action_communicated duplicate"' in html
        assert 'data-field-moves="action_communicated duplicate"' in html  # these open their form
        assert 'data-field-moves="rejected duplicate"' in card_html(response, new)
        assert 'data-field-moves="closed"' in card_html(response, resolved)  # asks first, survey choice

    @pytest.mark.parametrize("role", ["sales_user", "executive_user"])
    def test_readers_see_the_board_without_moves(self, client, request, role, service_user):
        complaint = make_complaint(assignee=service_user)
        client.force_login(request.getfixturevalue(role))
        response = client.get(reverse(BOARD))
        assert response.status_code == 200
        assert response.context["current_scope"] == "all"  # they work none: the whole board
        assert numbers(response, State.NEW) == [complaint.number]
        assert options(card_html(response, complaint)) == []
        assert "board_move" not in response.content.decode() and "/move/" not in response.content.decode()

    def test_the_admin_moves_anyone_s(self, client, admin_user_, service_user):
        complaint = make_complaint(assignee=service_user)
        client.force_login(admin_user_)
        response = client.get(reverse(BOARD), {"scope": "all"})
        assert options(card_html(response, complaint)) == ["acknowledged", "rejected", "duplicate"]


class TestMove:
    def test_a_move_goes_through_the_workflow_and_is_logged(self, client, service_user):
        complaint = make_complaint(assignee=service_user)
        client.force_login(service_user)
        response = client.post(
            move_url(complaint, "scope=mine&severity=medium"),
            {"to": "acknowledged", "expected_state": "new", "quick": "1"},
        )
        assert response.status_code == 302
        assert response["Location"] == reverse(BOARD) + "?scope=mine&severity=medium"  # the same board
        assert state_of(complaint) == State.ACKNOWLEDGED
        log = ComplaintTransition.objects.get(complaint=complaint)
        assert (log.from_state, log.to_state, log.by) == ("new", "acknowledged", service_user)
        page = client.get(response["Location"])
        assert f"Complaint {complaint.number} is now “Acknowledged”." in page.content.decode()
        assert numbers(page, State.ACKNOWLEDGED) == [complaint.number]
        assert numbers(page, State.NEW) == []

    def test_a_script_s_move_gets_the_card_as_it_is_now(self, client, service_user):
        complaint = make_complaint()  # nobody works it: the service rep takes it by moving it
        client.force_login(service_user)
        response = client.post(
            move_url(complaint),
            {"to": "acknowledged", "expected_state": "new", "quick": "1"},
            headers={"accept": "application/json"},
        )
        answer = response.json()
        assert response.status_code == 200
        assert (answer["ok"], answer["state"]) == (True, "acknowledged")
        assert answer["message"] == f"Complaint {complaint.number} is now “Acknowledged”."
        assert options(answer["card"]) == ["investigating", "rejected", "duplicate"]
        assert 'data-state="acknowledged"' in answer["card"] and "service1" in answer["card"]
        moved = Complaint.objects.get(pk=complaint.pk)
        assert (moved.state, moved.assignee) == (State.ACKNOWLEDGED, service_user)

    def test_a_move_that_needs_facts_opens_its_form_and_moves_nothing(self, client, service_user):
        complaint = complaint_in(State.INVESTIGATING, by=service_user, assignee=service_user)
        client.force_login(service_user)
        data = {"to": "action_communicated", "expected_state": "investigating", "quick": "1"}
        response = client.post(move_url(complaint, "scope=mine"), data)
        assert response.status_code == 302
        assert response["Location"] == (
            reverse(BOARD) + f"?scope=mine&move={complaint.pk}&to=action_communicated#move-panel"
        )
        assert client.post(move_url(complaint), data, headers={"accept": "application/json"}).json() == {
            "ok": False,
            "open": reverse(BOARD) + f"?move={complaint.pk}&to=action_communicated#move-panel",
        }
        assert state_of(complaint) == State.INVESTIGATING
        panel = client.get(response["Location"]).context["panel"]
        assert (panel["complaint"], panel["to"]) == (complaint, "action_communicated")
        assert list(panel["form"].fields) == [
            "to",
            "expected_state",
            "action_plan",
            "email_customer",
            "customer_notified_at",
            "note",
        ]
        assert panel["form"].fields["action_plan"].required

    def test_the_guard_refuses_a_move_without_its_facts(self, client, service_user):
        complaint = complaint_in(State.INVESTIGATING, by=service_user, assignee=service_user)
        client.force_login(service_user)
        now = timezone.localtime().strftime("%Y-%m-%d %H:%M:%S")
        data = {"to": "action_communicated", "expected_state": "investigating", "customer_notified_at": now}
        response = client.post(move_url(complaint, "scope=mine"), data)
        assert response.status_code == 400
        form = response.context["panel"]["form"]
        assert form.errors == {"action_plan": ["Write the action plan the customer was told before moving on."]}
        page = response.content.decode()
        assert "Write the action plan the customer was told before moving on." in page
        assert f"Complaint {complaint.number} was not moved: give what the move needs." in page
        assert numbers(response, State.INVESTIGATING) == [complaint.number]  # the card stays
        assert state_of(complaint) == State.INVESTIGATING
        assert not ComplaintTransition.objects.filter(complaint=complaint, to_state="action_communicated").exists()
        # a script is told the same
        answer = client.post(move_url(complaint), data, headers={"accept": "application/json"})
        assert answer.status_code == 400
        assert answer.json() == {
            "ok": False,
            "errors": ["Write the action plan the customer was told before moving on."],
        }
        # with its facts, the same move is made
        response = client.post(move_url(complaint), {**data, "action_plan": "Replace the goods"})
        assert response.status_code == 302 and state_of(complaint) == State.ACTION_COMMUNICATED

    def test_resolving_needs_a_root_cause_and_a_significant_one_its_review(self, client, service_user):
        complaint = complaint_in(State.ACTION_COMMUNICATED, by=service_user, assignee=service_user, significant=True)
        client.force_login(service_user)
        response = client.post(move_url(complaint), {"to": "resolved", "expected_state": "action_communicated"})
        assert response.status_code == 400
        assert response.context["panel"]["form"].errors == {
            "root_cause": ["Record the root cause before resolving, so the mistake is not repeated."],
            "internal_review_notes": ["A significant complaint needs internal review notes before it can be resolved."],
        }
        assert state_of(complaint) == State.ACTION_COMMUNICATED

    def test_a_stale_move_is_refused(self, client, service_user):
        complaint = make_complaint(assignee=service_user)
        complaint_transition(complaint=complaint, to=State.ACKNOWLEDGED, by=service_user)  # in another tab
        client.force_login(service_user)
        response = client.post(move_url(complaint), {"to": "rejected", "expected_state": "new", "note": "x"})
        assert response.status_code == 400
        assert response.context["panel"] is None
        assert (
            "Someone else has just moved this complaint to “Acknowledged”. Reload the page and try again."
            in response.content.decode()
        )
        # the card's Move control, from the state the board showed: refused too, not opened
        quick = client.post(move_url(complaint), {"to": "rejected", "expected_state": "new", "quick": "1"})
        assert quick.status_code == 400 and quick.context["panel"] is None
        assert "Someone else has just moved this complaint to “Acknowledged”." in quick.content.decode()
        assert state_of(complaint) == State.ACKNOWLEDGED
        assert ComplaintTransition.objects.filter(complaint=complaint).count() == 1

    def test_a_move_the_workflow_does_not_allow_is_refused(self, client, service_user):
        complaint = make_complaint(assignee=service_user)
        client.force_login(service_user)
        response = client.post(
            move_url(complaint), {"to": "resolved", "expected_state": "new", "root_cause": "x"}, follow=False
        )
        assert response.status_code == 400
        assert "A complaint that is “New” cannot move to “Resolved”." in response.content.decode()
        answer = client.post(
            move_url(complaint),
            {"to": "bogus", "expected_state": "new"},
            headers={"accept": "application/json"},
        )
        assert answer.status_code == 400
        assert answer.json() == {"ok": False, "errors": ["A complaint that is “New” cannot move to “bogus”."]}
        assert state_of(complaint) == State.NEW
        assert not ComplaintTransition.objects.exists()
        # nor does the board open the form of such a move
        page = client.get(reverse(BOARD), {"move": complaint.pk, "to": "resolved"})
        assert page.context["panel"] is None
        assert "A complaint that is “New” cannot move to “Resolved”." in page.content.decode()

    def test_a_duplicate_names_a_real_complaint(self, client, service_user):
        complaint = make_complaint(assignee=service_user)
        client.force_login(service_user)
        response = client.post(move_url(complaint), {"to": "duplicate", "expected_state": "new", "duplicate_of": "CP9"})
        assert response.status_code == 400
        assert response.context["panel"]["form"].errors == {"duplicate_of": ["No complaint has the number CP9."]}
        response = client.post(move_url(complaint), {"to": "duplicate", "expected_state": "new"})
        assert response.context["panel"]["form"].errors == {
            "duplicate_of": ["Name the original complaint this one duplicates."]
        }
        assert state_of(complaint) == State.NEW


class TestRoles:
    def test_anonymous_goes_to_login(self, client, service_user):
        complaint = make_complaint(assignee=service_user)
        for response in (
            client.get(reverse(BOARD)),
            client.post(move_url(complaint), {"to": "acknowledged", "expected_state": "new"}),
        ):
            assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
        assert state_of(complaint) == State.NEW

    @pytest.mark.parametrize("role", ["sales_user", "service_user", "executive_user", "admin_user_"])
    def test_every_role_reads_the_board(self, client, request, role):
        client.force_login(request.getfixturevalue(role))
        assert client.get(reverse(BOARD)).status_code == 200

    @pytest.mark.parametrize("role", ["sales_user", "executive_user"])
    def test_readers_may_not_move(self, client, request, role, service_user):
        complaint = make_complaint()
        client.force_login(request.getfixturevalue(role))
        response = client.post(move_url(complaint), {"to": "acknowledged", "expected_state": "new"})
        assert response.status_code == 403
        page = client.get(reverse(BOARD), {"move": complaint.pk, "to": "rejected"})
        assert page.context["panel"] is None
        assert "Only service reps work complaints." in page.content.decode()
        assert state_of(complaint) == State.NEW and not ComplaintTransition.objects.exists()

    def test_a_service_rep_may_not_move_a_colleague_s(self, client, service_user, other_service):
        complaint = make_complaint(assignee=other_service)
        client.force_login(service_user)
        expected = "service2 works this complaint now. Only the assignee (or an admin) works it."
        response = client.post(move_url(complaint), {"to": "acknowledged", "expected_state": "new"})
        assert response.status_code == 403
        assert expected in response.content.decode()
        answer = client.post(
            move_url(complaint), {"to": "acknowledged", "expected_state": "new"}, headers={"accept": "application/json"}
        )
        assert (answer.status_code, answer.json()) == (403, {"ok": False, "errors": [expected]})
        page = client.get(reverse(BOARD), {"scope": "all", "move": complaint.pk, "to": "rejected"})
        assert page.context["panel"] is None and expected in page.content.decode()
        assert state_of(complaint) == State.NEW and not ComplaintTransition.objects.exists()

    def test_the_admin_moves_a_service_rep_s(self, client, admin_user_, service_user):
        complaint = make_complaint(assignee=service_user)
        client.force_login(admin_user_)
        response = client.post(move_url(complaint), {"to": "acknowledged", "expected_state": "new"})
        assert response.status_code == 302
        moved = Complaint.objects.get(pk=complaint.pk)
        assert (moved.state, moved.assignee) == (State.ACKNOWLEDGED, service_user)  # still theirs
        assert ComplaintTransition.objects.get(complaint=complaint).by == admin_user_

    def test_the_move_endpoint_takes_no_get(self, client, service_user):
        complaint = make_complaint(assignee=service_user)
        client.force_login(service_user)
        assert client.get(move_url(complaint)).status_code == 405
        assert client.get(reverse(BOARD), {"move": "x", "to": "rejected"}).status_code == 404
        assert client.get(reverse(BOARD), {"move": complaint.pk + 1, "to": "rejected"}).status_code == 404


class TestQueries:
    def test_the_board_s_query_count_does_not_grow(self, client, service_user, django_assert_num_queries):
        client.force_login(service_user)
        states = (State.NEW, State.ACKNOWLEDGED, State.INVESTIGATING, State.RESOLVED, State.CLOSED)
        for state in states:
            complaint_in(state, by=service_user, assignee=service_user, customer=CustomerFactory())
        client.get(reverse(BOARD), {"scope": "all"})  # the top bar's cached counts are read once
        with django_assert_num_queries(12) as small:  # session, user, permissions, groups; the board's 7
            response = client.get(reverse(BOARD), {"scope": "all"})
        assert response.context["total"] == 5
        board = [q["sql"] for q in small.captured_queries if '"complaints_complaint"' in q["sql"]]
        assert len(board) == 7  # every state's count, then one query per card column
        assert all('"crm_customer"' in sql and '"auth_user"' in sql for sql in board[1:])  # select_related
        for i in range(45):
            complaint_in(states[i % 5], by=service_user, assignee=service_user, customer=CustomerFactory())
        with django_assert_num_queries(len(small.captured_queries)):
            response = client.get(reverse(BOARD), {"scope": "all"})
        assert response.context["total"] == 50
        assert len(column(response, State.NEW).cards) == 10

    def test_a_full_column_shows_fifty_and_links_the_rest(self, client, service_user):
        for _ in range(CARDS_PER_COLUMN + 2):
            make_complaint(assignee=service_user)
        client.force_login(service_user)
        response = client.get(reverse(BOARD), {"scope": "mine", "severity": "medium"})
        new = column(response, State.NEW)
        assert (new.count, len(new.cards), new.more) == (52, 50, 2)
        assert new.queue_url == reverse("complaints:queue") + "?tab=mine&state=new&severity=medium"
        assert "2 more in the queue" in response.content.decode()


def test_the_queue_links_the_board(client, service_user):
    client.force_login(service_user)
    page = client.get(reverse("complaints:queue")).content.decode()
    assert f'href="{reverse(BOARD)}"' in page
