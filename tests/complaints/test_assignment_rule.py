"""Who works a complaint, one rule for every way in (issue 15.1): the pages, Edit, Take, and the
assignment a move makes. The assignee works it; an open complaint that nobody works can be taken
by a service rep; only an admin gives it to someone else, takes it from its assignee or leaves it
with nobody. Executives and sales read complaints and work none."""

import pytest
from django.urls import reverse

from complaints.models import Complaint, ComplaintTransition, State
from complaints.services import complaint_take, complaint_update
from complaints.workflow import AssignmentError, can_take, can_work, check_assignment, complaint_transition
from crm.roles import Role
from tests.factories import make_complaint

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(make_user):
    return {
        "rep": make_user(Role.SERVICE, username="rep"),
        "colleague": make_user(Role.SERVICE, username="colleague"),
        "executive": make_user(Role.EXECUTIVE, username="exec"),
        "sales": make_user(Role.SALES, username="sales"),
        "admin": make_user(None, username="admin", is_staff=True, is_superuser=True),
    }


def complaint_of(people, whose):
    """A complaint worked by nobody ("nobody", or "nobody-closed": rejected), by `rep` or by `colleague`."""
    if whose == "nobody-closed":
        complaint = make_complaint()
        return complaint_transition(complaint=complaint, to=State.REJECTED, by=None, note="spam")
    return make_complaint(assignee=None if whose == "nobody" else people[whose])


# (who acts, whose complaint, to whom) -> may they make that the assignee?
ASSIGNMENTS = [
    ("rep", "nobody", "rep", True),  # taking it
    ("rep", "nobody", "colleague", False),
    ("rep", "nobody-closed", "rep", False),  # only open complaints are taken
    ("rep", "rep", "rep", True),  # unchanged
    ("rep", "rep", "colleague", False),  # handing it on
    ("rep", "rep", None, False),  # dropping it
    ("rep", "colleague", "rep", False),  # taking a colleague's: the bug of issue 15
    ("rep", "colleague", None, False),
    ("executive", "nobody", "executive", False),
    ("executive", "nobody", "rep", False),
    ("executive", "rep", "colleague", False),
    ("sales", "nobody", "sales", False),
    ("sales", "rep", "colleague", False),
    ("admin", "nobody", "rep", True),
    ("admin", "rep", "colleague", True),
    ("admin", "rep", None, True),
    ("admin", "nobody-closed", "rep", True),
]


@pytest.mark.parametrize("actor, whose, to, allowed", ASSIGNMENTS)
def test_the_assignment_rule(people, actor, whose, to, allowed):
    complaint = complaint_of(people, whose)
    target = people.get(to)
    if allowed:
        check_assignment(people[actor], complaint, target)
        saved = complaint_update(complaint=complaint, data={"assignee": target}, by=people[actor])
        assert saved.assignee == target
    else:
        with pytest.raises(AssignmentError):
            check_assignment(people[actor], complaint, target)
        before = Complaint.objects.get(pk=complaint.pk).assignee
        with pytest.raises(AssignmentError):
            complaint_update(complaint=complaint, data={"assignee": target}, by=people[actor])
        assert Complaint.objects.get(pk=complaint.pk).assignee == before


# (who, whose complaint) -> may work it, may take it
WORK = [
    ("rep", "nobody", True, True),
    ("rep", "nobody-closed", True, False),
    ("rep", "rep", True, False),
    ("rep", "colleague", False, False),
    ("executive", "nobody", False, False),
    ("executive", "rep", False, False),
    ("sales", "nobody", False, False),
    ("admin", "nobody", True, True),
    ("admin", "colleague", True, False),
]


@pytest.mark.parametrize("actor, whose, works, takes", WORK)
def test_who_works_and_who_takes(people, actor, whose, works, takes):
    complaint = complaint_of(people, whose)
    assert (can_work(people[actor], complaint), can_take(people[actor], complaint)) == (works, takes)


# Take, through the page: (who, whose complaint) -> status, assignee afterwards
TAKES = [
    ("rep", "nobody", 302, "rep"),
    ("rep", "rep", 302, "rep"),
    ("rep", "colleague", 403, "colleague"),
    ("rep", "nobody-closed", 400, None),
    ("executive", "nobody", 403, None),
    ("sales", "nobody", 403, None),
    ("admin", "nobody", 302, "admin"),
    ("admin", "colleague", 302, "admin"),
]


@pytest.mark.parametrize("actor, whose, status, assignee", TAKES)
def test_take_through_the_page(client, people, actor, whose, status, assignee):
    complaint = complaint_of(people, whose)
    client.force_login(people[actor])
    response = client.post(reverse("complaints:complaint_take", args=[complaint.pk]))
    assert response.status_code == status
    assert Complaint.objects.get(pk=complaint.pk).assignee == people.get(assignee)


# The Edit page: (who, whose complaint) -> status of the page, assignees offered (None: the field is fixed)
EDIT_PAGES = [
    ("rep", "nobody", 200, {"", "rep"}),
    ("rep", "rep", 200, None),
    ("rep", "colleague", 403, None),
    ("executive", "nobody", 403, None),
    ("sales", "nobody", 403, None),
    ("admin", "rep", 200, {"", "rep", "colleague"}),
]


@pytest.mark.parametrize("actor, whose, status, offered", EDIT_PAGES)
def test_the_edit_page_offers_only_allowed_assignees(client, people, actor, whose, status, offered):
    complaint = complaint_of(people, whose)
    client.force_login(people[actor])
    response = client.get(reverse("complaints:complaint_edit", args=[complaint.pk]))
    assert response.status_code == status
    if status != 200:
        return
    field = response.context["form"].fields["assignee"]
    if offered is None:
        assert field.disabled
    else:
        assert not field.disabled
        assert {str(label) if value else "" for value, label in field.choices} == offered


def test_a_rep_cannot_give_their_complaint_to_a_colleague_through_edit(client, people):
    from .posts import edit_post

    complaint = complaint_of(people, "rep")
    client.force_login(people["rep"])
    url = reverse("complaints:complaint_edit", args=[complaint.pk])
    response = client.post(url, edit_post(complaint, assignee=people["colleague"], description="handed on"))
    # The field is fixed for them: what they post for it is ignored, the rest is saved.
    assert response.status_code == 302
    fresh = Complaint.objects.get(pk=complaint.pk)
    assert (fresh.assignee, fresh.description) == (people["rep"], "handed on")


def test_a_rep_cannot_give_an_unassigned_complaint_to_a_colleague_through_edit(client, people):
    from .posts import edit_post

    complaint = complaint_of(people, "nobody")
    client.force_login(people["rep"])
    response = client.post(
        reverse("complaints:complaint_edit", args=[complaint.pk]), edit_post(complaint, assignee=people["colleague"])
    )
    assert response.status_code == 200 and "assignee" in response.context["form"].errors
    assert Complaint.objects.get(pk=complaint.pk).assignee is None


def test_an_admin_reassigns_through_edit(client, people):
    from .posts import edit_post

    complaint = complaint_of(people, "rep")
    client.force_login(people["admin"])
    response = client.post(
        reverse("complaints:complaint_edit", args=[complaint.pk]), edit_post(complaint, assignee=people["colleague"])
    )
    assert response.status_code == 302
    assert Complaint.objects.get(pk=complaint.pk).assignee == people["colleague"]


# A move through the page: (who, whose complaint) -> status, assignee afterwards
MOVES = [
    ("rep", "nobody", 302, "rep"),  # the mover works it from now on
    ("rep", "rep", 302, "rep"),
    ("rep", "colleague", 403, "colleague"),
    ("executive", "nobody", 403, None),
    ("sales", "nobody", 403, None),
    ("admin", "nobody", 302, "admin"),
    ("admin", "colleague", 302, "colleague"),  # an admin's move leaves the assignee as it is
]


@pytest.mark.parametrize("actor, whose, status, assignee", MOVES)
def test_the_assignment_a_move_makes(client, people, actor, whose, status, assignee):
    complaint = complaint_of(people, whose)
    client.force_login(people[actor])
    response = client.post(
        reverse("complaints:complaint_transition", args=[complaint.pk]), {"to": "acknowledged", "expected_state": "new"}
    )
    assert response.status_code == status
    fresh = Complaint.objects.get(pk=complaint.pk)
    assert fresh.assignee == people.get(assignee)
    assert fresh.state == (State.ACKNOWLEDGED if status == 302 else State.NEW)


def test_the_worker_is_checked_on_the_row_as_it_is_when_moving(people):
    """The page let the rep in while nobody worked it; a colleague took it before the move arrived."""
    complaint = complaint_of(people, "nobody")
    seen = Complaint.objects.get(pk=complaint.pk)
    complaint_take(complaint=complaint, by=people["colleague"])
    with pytest.raises(AssignmentError) as refused:
        complaint_transition(complaint=seen, to=State.ACKNOWLEDGED, by=people["rep"], as_worker=True)
    assert refused.value.messages == ["colleague works this complaint now. Only the assignee (or an admin) works it."]
    assert not ComplaintTransition.objects.filter(complaint=complaint).exists()


def test_two_takes_one_winner(people):
    complaint = complaint_of(people, "nobody")
    seen_by_both = [Complaint.objects.get(pk=complaint.pk) for _ in range(2)]
    complaint_take(complaint=seen_by_both[0], by=people["rep"])
    with pytest.raises(AssignmentError) as refused:
        complaint_take(complaint=seen_by_both[1], by=people["colleague"])
    assert refused.value.messages == ["rep works this complaint now: only an admin can give it to someone else."]
    assert Complaint.objects.get(pk=complaint.pk).assignee == people["rep"]


def test_a_task_s_move_assigns_nobody(people):
    complaint = complaint_of(people, "nobody")
    assert complaint_transition(complaint=complaint, to=State.ACKNOWLEDGED, by=None).assignee is None
