"""Bulk reassignment of complaints (issue 19): only the service lead (an admin) ticks complaints on
the queue and gives them to a service rep; a confirmation names those that are not open and they
refuse the batch; one history entry and one notification per complaint, all or nothing."""

from unittest import mock

import pytest
from django.contrib.messages import get_messages
from django.core import mail
from django.urls import reverse

from complaints import services
from complaints.models import Complaint, State
from complaints.services import complaints_reassign
from complaints.workflow import AssignmentError, complaint_transition
from crm.roles import Role
from notifications import kinds
from notifications.models import Notification
from tests.factories import CustomerFactory, make_complaint

pytestmark = pytest.mark.django_db

URL = reverse("complaints:complaint_reassign")
QUEUE = reverse("complaints:queue")


@pytest.fixture
def people(make_user):
    return {
        "rep": make_user(Role.SERVICE, username="rep", email="rep@example.com"),
        "colleague": make_user(Role.SERVICE, username="colleague", email="colleague@example.com"),
        "executive": make_user(Role.EXECUTIVE, username="exec"),
        "sales": make_user(Role.SALES, username="sales"),
        "admin": make_user(None, username="lead", is_staff=True, is_superuser=True),
    }


@pytest.fixture
def open_ones(people):
    customer = CustomerFactory(name="深圳华强电子有限公司")
    return [
        make_complaint(customer=customer, number=f"CP-B{i}", assignee=people["rep"] if i else None) for i in range(3)
    ]


def texts(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def assignees(complaints) -> list:
    return list(
        Complaint.objects.filter(pk__in=[c.pk for c in complaints]).order_by("pk").values_list("assignee", flat=True)
    )


def rejected(number):
    return complaint_transition(complaint=make_complaint(number=number), to=State.REJECTED, by=None, note="spam")


class TestWhoMay:
    @pytest.mark.parametrize("role, status", [("sales", 403), ("rep", 403), ("executive", 403), ("admin", 200)])
    def test_confirmation_page(self, client, people, open_ones, role, status):
        client.force_login(people[role])
        response = client.get(URL, {"ids": [c.pk for c in open_ones], "to": people["colleague"].pk})
        assert response.status_code == status

    @pytest.mark.parametrize("role", ["sales", "rep", "executive"])
    def test_others_cannot_post(self, client, people, open_ones, role):
        client.force_login(people[role])
        response = client.post(URL, {"ids": [c.pk for c in open_ones], "to": people["colleague"].pk})
        assert response.status_code == 403
        assert assignees(open_ones) == [None, people["rep"].pk, people["rep"].pk]

    @pytest.mark.parametrize("role, ticks", [("sales", False), ("rep", False), ("executive", False), ("admin", True)])
    def test_only_the_lead_gets_tick_boxes(self, client, people, open_ones, role, ticks):
        client.force_login(people[role])
        response = client.get(QUEUE, {"tab": "open"})
        page = response.content.decode()
        assert ('name="ids"' in page) is ticks
        assert (URL in page) is ticks
        if ticks:
            assert [column.name for column in response.context["table"].columns][:2] == ["select", "number"]


class TestConfirmation:
    def test_lists_the_ticked_complaints_and_the_new_assignee(self, client, people, open_ones):
        client.force_login(people["admin"])
        response = client.get(URL, {"ids": [c.pk for c in open_ones], "to": people["rep"].pk})
        page = response.content.decode()
        assert "3 complaints are ticked." in page
        for complaint in open_ones:
            assert complaint.number in page
        assert "rep works these 3 complaints from now on and is told about each" in page
        assert "2 are already theirs and stay as they are." in page
        assert "Reassign 3 complaints to rep" in page

    def test_names_those_not_open_and_offers_no_confirmation(self, client, people, open_ones):
        refused = rejected("CP-REJ")
        client.force_login(people["admin"])
        page = client.get(URL, {"ids": [open_ones[0].pk, refused.pk], "to": people["rep"].pk}).content.decode()
        assert (
            "Complaint CP-REJ is no longer open and keeps the assignee who worked it. "
            "Untick it on the queue, then reassign the others." in page
        )
        assert "Reassign 2 complaints" not in page and "bulk-execute" not in page

    def test_a_sales_rep_is_no_assignee(self, client, people, open_ones):
        client.force_login(people["admin"])
        page = client.get(URL, {"ids": [open_ones[0].pk], "to": people["sales"].pk}).content.decode()
        assert "Complaints can only be given to an active service rep." in page
        assert "bulk-execute" not in page

    def test_nothing_ticked(self, client, people):
        client.force_login(people["admin"])
        page = client.get(URL, {"to": people["rep"].pk}).content.decode()
        assert "Tick the complaints to reassign on the queue." in page


class TestReassign:
    def test_one_request_one_history_entry_and_notification_each(
        self, client, people, open_ones, django_capture_on_commit_callbacks
    ):
        colleague, lead = people["colleague"], people["admin"]
        history_before = Complaint.history.count()
        client.force_login(lead)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(URL, {"ids": [c.pk for c in open_ones], "to": colleague.pk})
        assert response.status_code == 302 and response.url == f"{QUEUE}?tab=open"
        assert texts(response) == ["3 complaints are now worked by colleague."]
        assert assignees(open_ones) == [colleague.pk] * 3
        entries = Complaint.history.order_by("history_id")[history_before:]
        assert [(e.number, e.assignee_id, e.history_user_id) for e in entries] == [
            (c.number, colleague.pk, lead.pk) for c in open_ones
        ]
        told = Notification.objects.filter(recipient=colleague, kind=kinds.COMPLAINT_ASSIGNED)
        assert sorted(n.args["number"] for n in told) == ["CP-B0", "CP-B1", "CP-B2"]
        assert sorted(m.subject for m in mail.outbox if m.to == ["colleague@example.com"]) == [
            f"Complaint CP-B{i} (深圳华强电子有限公司) is assigned to you" for i in range(3)
        ]

    def test_those_already_theirs_are_left(self, client, people, open_ones):
        history_before = Complaint.history.count()
        client.force_login(people["admin"])
        response = client.post(URL, {"ids": [c.pk for c in open_ones], "to": people["rep"].pk})
        assert texts(response) == [
            "1 complaint is now worked by rep.",
            "2 were already theirs and were left as they were.",
        ]
        assert Complaint.history.count() == history_before + 1
        assert Notification.objects.filter(recipient=people["rep"], kind=kinds.COMPLAINT_ASSIGNED).count() == 1

    def test_one_closed_meanwhile_refuses_the_batch(self, client, people, open_ones):
        client.force_login(people["admin"])
        complaint_transition(complaint=open_ones[1], to=State.REJECTED, by=people["admin"], note="spam")
        response = client.post(URL, {"ids": [c.pk for c in open_ones], "to": people["colleague"].pk})
        assert texts(response) == [
            "Only open complaints are reassigned, and these are not: CP-B1. Nothing was reassigned."
        ]
        assert assignees(open_ones) == [None, people["rep"].pk, people["rep"].pk]
        assert not Notification.objects.filter(recipient=people["colleague"]).exists()


class TestService:
    def test_all_or_nothing_when_one_save_fails(self, people, open_ones):
        real = services.save_changed_fields
        calls = []

        def fail_on_the_third(complaint, before, *, by):
            calls.append(complaint.pk)
            if len(calls) == 3:
                raise RuntimeError("lost connection")
            return real(complaint, before, by=by)

        with mock.patch.object(services, "save_changed_fields", side_effect=fail_on_the_third):
            with pytest.raises(RuntimeError):
                complaints_reassign(
                    complaint_ids=[c.pk for c in open_ones], assignee=people["colleague"], by=people["admin"]
                )
        assert assignees(open_ones) == [None, people["rep"].pk, people["rep"].pk]
        assert not Notification.objects.filter(recipient=people["colleague"]).exists()

    def test_an_unknown_id_changes_nothing(self, people, open_ones):
        with pytest.raises(AssignmentError) as refused:
            complaints_reassign(
                complaint_ids=[open_ones[0].pk, 999999], assignee=people["colleague"], by=people["admin"]
            )
        assert refused.value.messages == ["1 of the selected complaints no longer exists; nothing was reassigned."]
        assert assignees(open_ones)[0] is None

    def test_only_the_admin_gives_them_away(self, people, open_ones):
        """The assignment rule (workflow.check_assignment) holds for each complaint: a rep may not."""
        with pytest.raises(AssignmentError) as refused:
            complaints_reassign(complaint_ids=[open_ones[1].pk], assignee=people["colleague"], by=people["rep"])
        assert refused.value.messages == ["Only an admin can give a complaint to someone else or leave it with nobody."]
        assert assignees(open_ones)[1] == people["rep"].pk

    @pytest.mark.parametrize("who", ["sales", "executive", "admin"])
    def test_only_a_service_rep_gets_them(self, people, open_ones, who):
        with pytest.raises(AssignmentError) as refused:
            complaints_reassign(complaint_ids=[open_ones[0].pk], assignee=people[who], by=people["admin"])
        assert refused.value.messages == ["Complaints can only be given to an active service rep."]

    def test_at_most_a_hundred(self, people):
        with pytest.raises(AssignmentError) as refused:
            complaints_reassign(complaint_ids=range(1, 102), assignee=people["rep"], by=people["admin"])
        assert refused.value.messages == ["At most 100 complaints are reassigned at once."]
