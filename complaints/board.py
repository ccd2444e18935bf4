"""The complaint board's read side (issue 19): the pipeline by state, one column per state in the
workflow's order, each with its count and its most urgent cards, and what each card may do.

The board reads; every move it offers goes through `workflow.complaint_transition` (board_views).
A card offers only the moves TRANSITIONS allows from its state, and only to someone who may work
it (`workflow.can_work`); a move that needs facts (an action plan, a root cause, a reason...) or
asks first opens the move's own fields on the board instead of being made in one step.
"""

import datetime
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Count, F, QuerySet
from django.utils import timezone

from .forms import TransitionForm
from .models import Complaint, State
from .workflow import CONFIRM_MESSAGES, allowed_transitions, can_work, required_details


class Scope:
    MINE = "mine"
    UNASSIGNED = "unassigned"
    ALL = "all"


SCOPES = (Scope.MINE, Scope.UNASSIGNED, Scope.ALL)

# Columns with cards, in the workflow's order; the ends of the path are counts only (closed,
# rejected and duplicate complaints pile up for ever and are read in the queue).
CARD_STATES = (
    State.NEW,
    State.ACKNOWLEDGED,
    State.INVESTIGATING,
    State.AWAITING_CUSTOMER,
    State.ACTION_COMMUNICATED,
    State.RESOLVED,
)
COUNT_STATES = (State.CLOSED, State.REJECTED, State.DUPLICATE)
CARDS_PER_COLUMN = 50

# Most urgent first: an open complaint by its resolution due time (a breached one is already past
# it), a resolved one (waiting to be closed) by when it was resolved, newest first.
COLUMN_ORDER = {state: (F("resolution_due_at").asc(), F("id").asc()) for state in CARD_STATES}
COLUMN_ORDER[State.RESOLVED] = (F("resolved_at").desc(nulls_last=True), F("id").desc())


def needs_fields(complaint: Complaint, to: str) -> bool:
    """The move to `to` has fields of its own (TransitionForm.FIELDS_FOR), needs facts the complaint
    does not hold (workflow.required_details) or asks first (CONFIRM_MESSAGES): the board opens its
    form instead of making it in one step."""
    return bool(TransitionForm.FIELDS_FOR.get(to) or required_details(complaint, to) or to in CONFIRM_MESSAGES)


@dataclass
class Move:
    to: str
    label: str
    needs_fields: bool


@dataclass
class Card:
    complaint: Complaint
    moves: list[Move]
    sla: str  # breached, overdue, soon, paused, on_time or "" (resolved: the clock has stopped)
    due_at: datetime.datetime | None

    @property
    def move_states(self) -> str:
        return " ".join(move.to for move in self.moves)

    @property
    def field_states(self) -> str:
        return " ".join(move.to for move in self.moves if move.needs_fields)


@dataclass
class Column:
    state: str
    label: str
    count: int
    cards: list[Card] = field(default_factory=list)
    collapsed: bool = False

    @property
    def more(self) -> int:
        return self.count - len(self.cards) if not self.collapsed else 0


def sla_of(complaint: Complaint, now: datetime.datetime) -> tuple[str, datetime.datetime | None]:
    """The card's SLA badge and the due time it shows: the first response's while nobody has
    answered the customer and it falls due first, else the resolution's."""
    if complaint.first_response_breached or complaint.resolution_breached:
        return "breached", None
    if not complaint.is_open:
        return "", None
    if complaint.paused_since is not None:
        return "paused", None
    due = complaint.resolution_due_at
    if complaint.first_response_at is None:
        due = min(due, complaint.first_response_due_at)
    if due <= now:
        return "overdue", due  # past due; the beat task has not flagged it yet
    if due <= now + datetime.timedelta(hours=settings.COMPLAINT_BREACH_WARNING_HOURS):
        return "soon", due
    return "on_time", due


def board_card(*, complaint: Complaint, user, now: datetime.datetime | None = None) -> Card:
    """One card: the complaint, the moves `user` may make from its state, its SLA badge."""
    moves = []
    if can_work(user, complaint):
        for to in allowed_transitions(complaint):
            moves.append(Move(to=to, label=State(to).label, needs_fields=needs_fields(complaint, to)))
    sla, due = sla_of(complaint, now or timezone.now())
    return Card(complaint=complaint, moves=moves, sla=sla, due_at=due)


def board_complaints(*, user, scope: str) -> QuerySet[Complaint]:
    """The complaints a board in `scope` reads: mine (assigned to `user`), unassigned, or all."""
    complaints = Complaint.objects.select_related("customer", "assignee")
    if scope == Scope.MINE:
        return complaints.filter(assignee=user)
    if scope == Scope.UNASSIGNED:
        return complaints.filter(assignee__isnull=True)
    return complaints


def board_columns(
    *, user, complaints: QuerySet[Complaint], per_column: int = CARDS_PER_COLUMN, now: datetime.datetime | None = None
) -> list[Column]:
    """The board's columns over `complaints` (board_complaints, filtered): every state's count in one
    query, then each card column's first `per_column` cards, one query a column, whatever the number
    of complaints (7 queries)."""
    now = now or timezone.now()
    counts = dict(complaints.order_by().values_list("state").annotate(n=Count("id")).values_list("state", "n"))
    columns = []
    for state in CARD_STATES:
        rows = complaints.filter(state=state).order_by(*COLUMN_ORDER[state])[:per_column]
        cards = [board_card(complaint=complaint, user=user, now=now) for complaint in rows]
        columns.append(Column(state=state, label=State(state).label, count=counts.get(state, 0), cards=cards))
    for state in COUNT_STATES:
        columns.append(Column(state=state, label=State(state).label, count=counts.get(state, 0), collapsed=True))
    return columns
