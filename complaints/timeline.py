"""Complaints on a customer's timeline (crm.timeline): each complaint received, each move of its
state (acknowledged, investigating, ..., closed) from the workflow's log, and what the customer was
told (customer-facing notes; internal ones stay on the complaint's page). Registered by
ComplaintsConfig.ready() for users who may read complaints; one query per kind per page."""

from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.timeline import Entry, TimelineSource, register_timeline_source

from .models import Complaint, ComplaintNote, ComplaintTransition, State

DESCRIPTION_WORDS = 30


class ComplaintSource(TimelineSource):
    kind = "complaint"
    label = gettext_lazy("Complaints")
    permission = "complaints.view_complaint"
    order = 40

    def entries(self, *, customer, before, limit, user):
        complaints = (
            Complaint.objects.filter(customer=customer)
            .filter(self.before_q(before, at="received_at"))
            .only("id", "number", "received_at", "category", "severity", "channel", "description")
            .order_by("-received_at", "-id")[:limit]
        )
        return [
            Entry(
                at=complaint.received_at,
                kind=self.kind,
                id=complaint.pk,
                title=_("Complaint %(number)s received: %(category)s, %(severity)s")
                % {
                    "number": complaint.number,
                    "category": complaint.get_category_display(),
                    "severity": complaint.get_severity_display(),
                },
                detail=Truncator(complaint.description).words(DESCRIPTION_WORDS),
                url=complaint.get_absolute_url(),
            )
            for complaint in complaints
        ]


class ComplaintStateSource(TimelineSource):
    kind = "complaint_state"
    label = gettext_lazy("Complaint progress")
    permission = "complaints.view_complaint"
    order = 45

    def entries(self, *, customer, before, limit, user):
        moves = (
            ComplaintTransition.objects.filter(complaint__customer=customer)
            .filter(self.before_q(before, at="at"))
            .select_related("by", "complaint")
            .only("id", "at", "from_state", "to_state", "note", "complaint__id", "complaint__number", "by__username")
            .order_by("-at", "-id")[:limit]
        )
        return [
            Entry(
                at=move.at,
                kind=self.kind,
                id=move.pk,
                title=(
                    _("Complaint %(number)s closed") % {"number": move.complaint.number}
                    if move.to_state == State.CLOSED
                    else _("Complaint %(number)s: %(from)s → %(to)s")
                    % {
                        "number": move.complaint.number,
                        "from": move.get_from_state_display(),
                        "to": move.get_to_state_display(),
                    }
                ),
                detail=move.note,
                url=move.complaint.get_absolute_url(),
                by=move.by.get_username() if move.by else "",
            )
            for move in moves
        ]


class CustomerNoteSource(TimelineSource):
    """What the customer was told about a complaint (its customer-facing notes; internal ones stay on
    the complaint's page)."""

    kind = "complaint_note"
    label = gettext_lazy("Notes to the customer")
    permission = "complaints.view_complaint"
    order = 46

    def entries(self, *, customer, before, limit, user):
        notes = (
            ComplaintNote.objects.filter(complaint__customer=customer, visibility=ComplaintNote.Visibility.CUSTOMER)
            .filter(self.before_q(before, at="created_at"))
            .select_related("author", "complaint")
            .only("id", "created_at", "body", "complaint__id", "complaint__number", "author__username")
            .order_by("-created_at", "-id")[:limit]
        )
        return [
            Entry(
                at=note.created_at,
                kind=self.kind,
                id=note.pk,
                title=_("Complaint %(number)s: note to the customer") % {"number": note.complaint.number},
                detail=Truncator(note.body).words(DESCRIPTION_WORDS),
                url=note.complaint.get_absolute_url(),
                by=note.author.get_username() if note.author else "",
            )
            for note in notes
        ]


def register() -> None:
    """Called by ComplaintsConfig.ready()."""
    register_timeline_source(ComplaintSource())
    register_timeline_source(ComplaintStateSource())
    register_timeline_source(CustomerNoteSource())
