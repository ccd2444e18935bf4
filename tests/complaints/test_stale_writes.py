"""No write path undoes what another one did (issue 15.1), shown with stale instances and stale pages.

Every write locks the row and saves only the fields it changes, so an instance (or a page) read
before a move cannot carry the old state or workflow fields back. The same on PostgreSQL with
real concurrent requests: test_concurrent_writes.py.
"""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from complaints.models import Complaint, ComplaintTransition, State
from complaints.services import complaint_add_note, complaint_mark_breaches, complaint_take, complaint_update
from complaints.workflow import AssignmentError, TransitionError, complaint_transition
from crm.roles import Role
from tests.factories import make_complaint

from .posts import as_input, edit_post

pytestmark = pytest.mark.django_db

WORKFLOW_FIELDS = (
    "state",
    "action_plan",
    "customer_notified_at",
    "root_cause",
    "internal_review_notes",
    "duplicate_id",
    "first_response_at",
    "first_response_seconds",
    "first_response_due_at",
    "resolution_due_at",
    "paused_since",
    "paused_seconds",
    "resolved_at",
    "resolution_seconds",
    "closed_at",
    "first_response_breached",
    "resolution_breached",
    "reopen_count",
)


def workflow_fields(complaint) -> dict:
    fresh = Complaint.objects.get(pk=complaint.pk)
    return {name: getattr(fresh, name.replace("duplicate_id", "duplicate_of_id")) for name in WORKFLOW_FIELDS}


def investigating(**data):
    complaint = make_complaint(received_at=timezone.now() - datetime.timedelta(hours=3), **data)
    for to in (State.ACKNOWLEDGED, State.INVESTIGATING):
        complaint = complaint_transition(complaint=complaint, to=to, by=None)
    return complaint


def communicate(complaint, by=None):
    notified = timezone.now().replace(microsecond=0) - datetime.timedelta(minutes=5)
    return complaint_transition(
        complaint=complaint,
        to=State.ACTION_COMMUNICATED,
        by=by,
        action_plan="Replace the goods",
        customer_notified_at=notified,
    )


@pytest.fixture
def other_rep(make_user):
    return make_user(Role.SERVICE, username="service2")


class TestStaleInstances:
    def test_an_edit_cannot_undo_a_move(self, service_user):
        complaint = make_complaint(assignee=service_user)
        stale = Complaint.objects.get(pk=complaint.pk)
        complaint_transition(complaint=complaint, to=State.ACKNOWLEDGED, by=service_user)
        moved = workflow_fields(complaint)

        saved = complaint_update(complaint=stale, data={"description": "Two boxes crushed"}, by=service_user)

        assert workflow_fields(complaint) == moved and moved["state"] == State.ACKNOWLEDGED
        assert saved.state == State.ACKNOWLEDGED and saved.description == "Two boxes crushed"
        assert stale.description != "Two boxes crushed"  # the instance passed in is not what is saved
        assert ComplaintTransition.objects.filter(complaint=complaint).count() == 1

    def test_an_edit_cannot_erase_the_action_plan_and_a_new_severity_retimes_from_the_row(self, service_user):
        complaint = investigating(assignee=service_user, severity="low")
        stale = Complaint.objects.get(pk=complaint.pk)
        communicate(complaint, by=service_user)
        told = workflow_fields(complaint)
        assert told["action_plan"] and told["customer_notified_at"] and told["first_response_at"]

        complaint_update(complaint=stale, data={"severity": "critical", "description": "Whole pallet"}, by=service_user)

        after = workflow_fields(complaint)
        retimed = {"first_response_due_at", "resolution_due_at"}
        assert {k: v for k, v in after.items() if k not in retimed} == {
            k: v for k, v in told.items() if k not in retimed
        }
        fresh = Complaint.objects.get(pk=complaint.pk)
        assert fresh.first_response_due_at == fresh.received_at + datetime.timedelta(hours=2)
        assert (fresh.severity, fresh.description) == ("critical", "Whole pallet")

    def test_the_sla_task_s_flags_survive_a_stale_edit_take_and_note(self, service_user):
        complaint = make_complaint(received_at=timezone.now() - datetime.timedelta(days=30), severity="critical")
        stale = Complaint.objects.get(pk=complaint.pk)
        assert complaint_mark_breaches() == {"first_response": 1, "resolution": 1}

        complaint_update(complaint=stale, data={"description": "Late again"}, by=service_user)
        complaint_take(complaint=stale, by=service_user)
        complaint_add_note(complaint=stale, by=service_user, body="Called", visibility="customer")

        fresh = Complaint.objects.get(pk=complaint.pk)
        assert fresh.first_response_breached and fresh.resolution_breached
        assert (fresh.assignee, fresh.description) == (service_user, "Late again")

    def test_a_move_cannot_undo_an_edit_or_a_flag(self, service_user):
        complaint = make_complaint(received_at=timezone.now() - datetime.timedelta(days=30), assignee=service_user)
        seen = Complaint.objects.get(pk=complaint.pk)
        complaint_update(
            complaint=complaint, data={"description": "Edited meanwhile", "severity": "high"}, by=service_user
        )
        complaint_mark_breaches()

        complaint_transition(complaint=seen, to=State.ACKNOWLEDGED, by=service_user)

        fresh = Complaint.objects.get(pk=complaint.pk)
        assert (fresh.state, fresh.description, fresh.severity) == (State.ACKNOWLEDGED, "Edited meanwhile", "high")
        assert fresh.first_response_breached and fresh.resolution_breached

    def test_a_take_and_a_note_cannot_undo_a_move(self, service_user, other_rep):
        complaint = make_complaint()
        stale = Complaint.objects.get(pk=complaint.pk)
        complaint_transition(complaint=complaint, to=State.ACKNOWLEDGED, by=service_user, as_worker=True)
        with pytest.raises(AssignmentError):
            complaint_take(complaint=stale, by=other_rep)
        complaint_take(complaint=stale, by=service_user)  # their own: nothing to do
        complaint_add_note(complaint=stale, by=service_user, body="We are on it", visibility="customer")
        fresh = Complaint.objects.get(pk=complaint.pk)
        assert (fresh.state, fresh.assignee) == (State.ACKNOWLEDGED, service_user)
        assert fresh.first_response_at is not None

    def test_a_stale_move_is_refused_whatever_it_carries(self, service_user):
        complaint = investigating(assignee=service_user)
        stale = Complaint.objects.get(pk=complaint.pk)
        communicate(complaint, by=service_user)
        told = workflow_fields(complaint)
        with pytest.raises(TransitionError):
            complaint_transition(complaint=stale, to=State.AWAITING_CUSTOMER, by=service_user)
        assert workflow_fields(complaint) == told

    def test_a_save_that_changes_nothing_writes_no_history(self, service_user):
        complaint = make_complaint(assignee=service_user, description="Same")
        entries = complaint.history.count()
        complaint_update(complaint=complaint, data={"description": "Same", "assignee": service_user}, by=service_user)
        complaint_take(complaint=complaint, by=service_user)
        assert complaint.history.count() == entries
        complaint_update(complaint=complaint, data={"description": "Other"}, by=service_user)
        assert complaint.history.count() == entries + 1
        assert complaint.history.first().history_user == service_user

    def test_a_move_and_its_assignment_are_one_history_entry(self, service_user):
        complaint = make_complaint()
        entries = complaint.history.count()
        complaint_transition(complaint=complaint, to=State.ACKNOWLEDGED, by=service_user, as_worker=True)
        assert complaint.history.count() == entries + 1
        latest = complaint.history.first()
        assert (latest.state, latest.assignee_id, latest.history_user) == (
            State.ACKNOWLEDGED,
            service_user.pk,
            service_user,
        )


class TestStalePages:
    """The Edit page posts what it showed beside what was typed; only what was typed is written."""

    def test_the_edit_page_posts_what_it_showed(self, client, service_user):
        complaint = make_complaint(assignee=service_user)
        client.force_login(service_user)
        page = client.get(reverse("complaints:complaint_edit", args=[complaint.pk])).content.decode()
        for name in ("channel", "severity", "description", "assignee", "problem", "significant"):
            assert f'name="initial-{name}"' in page, name

    def test_an_edit_page_opened_before_acknowledge_cannot_undo_it(self, client, service_user):
        complaint = make_complaint()  # nobody works it: acknowledging makes it the mover's
        seen = Complaint.objects.get(pk=complaint.pk)
        client.force_login(service_user)
        url = reverse("complaints:complaint_transition", args=[complaint.pk])
        assert client.post(url, {"to": "acknowledged", "expected_state": "new"}).status_code == 302

        response = client.post(
            reverse("complaints:complaint_edit", args=[complaint.pk]), edit_post(seen, description="Crushed")
        )

        assert response.status_code == 302
        fresh = Complaint.objects.get(pk=complaint.pk)
        assert (fresh.state, fresh.assignee, fresh.description) == (State.ACKNOWLEDGED, service_user, "Crushed")
        assert ComplaintTransition.objects.get(complaint=complaint).to_state == fresh.state

    def test_an_edit_page_opened_before_communicate_action_cannot_erase_it(self, client, service_user):
        complaint = investigating(assignee=service_user)
        seen = Complaint.objects.get(pk=complaint.pk)
        client.force_login(service_user)
        notified = timezone.now() - datetime.timedelta(minutes=10)
        response = client.post(
            reverse("complaints:complaint_transition", args=[complaint.pk]),
            {
                "to": "action_communicated",
                "expected_state": "investigating",
                "action_plan": "Refund",
                "customer_notified_at": as_input(notified),
            },
        )
        assert response.status_code == 302
        told = workflow_fields(complaint)

        response = client.post(
            reverse("complaints:complaint_edit", args=[complaint.pk]), edit_post(seen, channel="email")
        )

        assert response.status_code == 302
        assert workflow_fields(complaint) == told
        assert told["action_plan"] == "Refund" and told["first_response_at"] == notified.replace(microsecond=0)
        assert Complaint.objects.get(pk=complaint.pk).channel == "email"

    def test_an_untouched_edit_writes_no_history(self, client, service_user):
        complaint = make_complaint(assignee=service_user)
        entries = complaint.history.count()
        client.force_login(service_user)
        response = client.post(reverse("complaints:complaint_edit", args=[complaint.pk]), edit_post(complaint))
        assert response.status_code == 302
        assert complaint.history.count() == entries

    def test_an_edit_page_opened_before_a_colleague_took_it_is_refused(self, client, service_user, other_rep):
        complaint = make_complaint()
        seen = Complaint.objects.get(pk=complaint.pk)
        complaint_take(complaint=complaint, by=other_rep)
        client.force_login(service_user)
        response = client.post(
            reverse("complaints:complaint_edit", args=[complaint.pk]),
            edit_post(seen, assignee=service_user, description="x"),
        )
        assert response.status_code == 403
        fresh = Complaint.objects.get(pk=complaint.pk)
        assert (fresh.assignee, fresh.description) == (other_rep, seen.description)

    def test_the_admin_writes_only_what_it_changed(self, client, admin_user_, service_user):
        complaint = make_complaint(assignee=service_user)
        client.force_login(admin_user_)
        url = reverse("admin:complaints_complaint_change", args=[complaint.pk])
        form = client.get(url).context["adminform"].form
        data = {name: form[name].value() if form[name].value() is not None else "" for name in form.fields}
        data["significant"] = "on" if data["significant"] else ""
        for prefix in ("notes", "transitions"):
            data |= {f"{prefix}-TOTAL_FORMS": 0, f"{prefix}-INITIAL_FORMS": 0}
        complaint_transition(complaint=complaint, to=State.ACKNOWLEDGED, by=service_user)  # while the admin reads
        entries = complaint.history.count()

        response = client.post(url, {**data, "description": "Edited in the admin"})

        assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
        fresh = Complaint.objects.get(pk=complaint.pk)
        assert (fresh.state, fresh.description) == (State.ACKNOWLEDGED, "Edited in the admin")
        assert complaint.history.count() == entries + 1
        client.post(url, {**data, "description": "Edited in the admin"})
        assert complaint.history.count() == entries + 1
