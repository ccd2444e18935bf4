"""An import records a complaint closed in its source system through the workflow (issue 16): the
move is complaint_transition's, with its guards, its log entry and its history, not a write of its own."""

from unittest import mock

import pytest

from complaints import workflow
from complaints.models import Complaint, ComplaintTransition, State
from complaints.workflow import TransitionError, complaint_transition
from exchange.services import import_file
from tests.factories import CustomerFactory, make_complaint

pytestmark = pytest.mark.django_db

HEADER = "number,customer,received_at,channel,category,severity,description,status"


@pytest.fixture
def complaints_file(tmp_path):
    def write(*rows, name="source.csv"):
        path = tmp_path / name
        path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
        return path

    return write


def test_a_closed_row_is_closed_by_the_workflow(complaints_file, executive_user):
    # given a file with a complaint closed in the source system
    CustomerFactory(code="K1")
    path = complaints_file("CP-9,K1,2025-11-02 10:00,email,billing,low,Invoice twice,closed")
    # when it is imported
    with mock.patch("exchange.importers.complaint_transition", wraps=complaint_transition) as transition:
        report = import_file(kind="complaints", path=path, by=executive_user, name="source.csv")
    # then the workflow's transition service made the move, as a recorded one
    assert report.ok, report.lines()
    complaint = Complaint.objects.get(number="CP-9")
    transition.assert_called_once()
    assert transition.call_args.kwargs | {"complaint": None} == {
        "complaint": None,
        "to": State.CLOSED,
        "by": executive_user,
        "expected_state": State.NEW,
        "note": "Imported as closed from “source.csv”; its earlier history is in the source system.",
        "recorded": True,
        "in_last_entry": True,
    }
    assert (complaint.state, complaint.resolved_at) == (State.CLOSED, None)
    log = ComplaintTransition.objects.get(complaint=complaint)
    assert (log.from_state, log.to_state, log.by, log.at) == (
        State.NEW,
        State.CLOSED,
        executive_user,
        complaint.closed_at,
    )
    # one history entry: the import's creation, holding the closed state
    assert [(h.history_type, h.state, h.closed_at) for h in complaint.history.all()] == [
        ("+", State.CLOSED, complaint.closed_at)
    ]


def test_closing_an_existing_new_complaint_keeps_its_changes_in_one_entry(complaints_file, executive_user):
    customer = CustomerFactory(code="K1")
    complaint = make_complaint(customer=customer, number="CP-7", channel="email", description="Late")
    path = complaints_file("CP-7,K1,2026-03-10 09:30,phone,delivery,low,Late,closed", name="a.csv")
    import_file(kind="complaints", path=path, by=executive_user, name="a.csv")
    complaint.refresh_from_db()
    assert complaint.state == State.CLOSED
    # the row changed the channel and closed it: the import's one entry says both
    entries = [(h.history_type, h.channel, h.state) for h in complaint.history.order_by("history_id")]
    assert entries == [("+", "email", State.NEW), ("~", "phone", State.CLOSED)]
    # nothing to change but the state: the close writes its own entry
    other = make_complaint(customer=customer, number="CP-8", channel="phone", category="delivery", severity="low")
    path = complaints_file(f"CP-8,K1,2026-03-10 09:30,phone,delivery,low,{other.description},closed", name="b.csv")
    import_file(kind="complaints", path=path, by=executive_user, name="b.csv")
    entries = [(h.history_type, h.state, h.history_user) for h in other.history.order_by("history_id")]
    assert entries == [("+", State.NEW, None), ("~", State.CLOSED, executive_user)]


def test_the_workflow_refuses_a_recorded_move_it_does_not_know():
    complaint = make_complaint()
    complaint_transition(complaint=complaint, to=State.ACKNOWLEDGED, by=None)
    with pytest.raises(TransitionError, match="cannot move"):
        complaint_transition(complaint=Complaint.objects.get(pk=complaint.pk), to=State.CLOSED, by=None, recorded=True)
    assert Complaint.objects.get(pk=complaint.pk).state == State.ACKNOWLEDGED


def test_a_person_cannot_close_a_new_complaint_directly():
    """Only an import records a new complaint as closed: the workflow's own moves do not allow it."""
    complaint = make_complaint()
    assert State.CLOSED not in workflow.TRANSITIONS[State.NEW]
    with pytest.raises(TransitionError, match="cannot move"):
        complaint_transition(complaint=complaint, to=State.CLOSED, by=None)
    assert not ComplaintTransition.objects.exists()


def test_a_recorded_close_is_refused_when_someone_moved_the_complaint():
    """The workflow's own guard: the import saw it new; moved meanwhile, the close is refused."""
    complaint = make_complaint()
    complaint_transition(complaint=Complaint.objects.get(pk=complaint.pk), to=State.ACKNOWLEDGED, by=None)
    with pytest.raises(TransitionError, match="Someone else"):
        complaint_transition(complaint=complaint, to=State.CLOSED, by=None, expected_state=State.NEW, recorded=True)
    assert Complaint.objects.get(pk=complaint.pk).state == State.ACKNOWLEDGED
