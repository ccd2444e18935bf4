"""Every kind of message the product sends: its name, what a person reads about it, its subject.

Texts are English msgids filled with the message's `args` when read or rendered, so each reader
gets them in their own language. The e-mail of kind K is templates/notifications/email/K.txt and
K.html.
"""

from dataclasses import dataclass

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Kind:
    name: str
    label: str  # on the preferences page
    subject: str  # the e-mail's subject; for staff kinds also the in-app text
    staff: bool = True

    def text(self, args: dict) -> str:
        try:
            return gettext(self.subject) % args
        except (KeyError, TypeError, ValueError):
            return gettext(self.subject)


COMPLAINT_ASSIGNED = "complaint_assigned"
COMPLAINT_REOPENED = "complaint_reopened"
SLA_BREACHING_SOON = "sla_breaching_soon"
SLA_BREACHED = "sla_breached"
RUN_FAILED = "run_failed"
IMPORT_FINISHED = "import_finished"
IMPORT_FAILED = "import_failed"
WEEKLY_DIGEST = "weekly_digest"
ACKNOWLEDGMENT = "acknowledgment"
ACTION_PLAN = "action_plan"
SURVEY = "survey"

# The msgids are marked with _() for the catalogue and translated when used (Kind.text).
KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (
        Kind(
            COMPLAINT_ASSIGNED,
            _("A complaint is assigned to me"),
            "Complaint %(number)s (%(customer)s) is assigned to you",
        ),
        Kind(COMPLAINT_REOPENED, _("A complaint of mine is reopened"), "Complaint %(number)s was reopened: %(reason)s"),
        Kind(
            SLA_BREACHING_SOON,
            _("A complaint will breach its SLA soon"),
            "Complaint %(number)s is due within %(hours)s hours (%(due)s)",
        ),
        Kind(SLA_BREACHED, _("A complaint breached its SLA"), "Complaint %(number)s breached its SLA (due %(due)s)"),
        Kind(RUN_FAILED, _("An analysis run failed"), "Analysis run %(run)s failed"),
        Kind(
            IMPORT_FINISHED,
            _("My import finished"),
            "The import of %(file)s finished: %(created)s new, %(updated)s changed",
        ),
        Kind(IMPORT_FAILED, _("My import failed"), "The import of %(file)s failed"),
        Kind(
            WEEKLY_DIGEST,
            _("The weekly digest (executives)"),
            "The week: %(breaches)s SLA breaches, %(churned)s customers churned, satisfaction %(satisfaction)s",
        ),
        Kind(ACKNOWLEDGMENT, _("Acknowledgment"), "We received your complaint %(number)s", staff=False),
        Kind(ACTION_PLAN, _("Action plan"), "What we will do about your complaint %(number)s", staff=False),
        Kind(SURVEY, _("Satisfaction survey"), "How satisfied are you with how we handled %(number)s?", staff=False),
    )
}

# For makemessages-style review: every msgid above, marked.
_MSGIDS = (
    _("Complaint %(number)s (%(customer)s) is assigned to you"),
    _("Complaint %(number)s was reopened: %(reason)s"),
    _("Complaint %(number)s is due within %(hours)s hours (%(due)s)"),
    _("Complaint %(number)s breached its SLA (due %(due)s)"),
    _("Analysis run %(run)s failed"),
    _("The import of %(file)s finished: %(created)s new, %(updated)s changed"),
    _("The import of %(file)s failed"),
    _("The week: %(breaches)s SLA breaches, %(churned)s customers churned, satisfaction %(satisfaction)s"),
    _("We received your complaint %(number)s"),
    _("What we will do about your complaint %(number)s"),
    _("How satisfied are you with how we handled %(number)s?"),
)

STAFF_KINDS = [kind for kind in KINDS.values() if kind.staff]


def staff_kind_choices() -> list[tuple[str, str]]:
    """The kinds staff may choose to get by e-mail, registered ones included (read when asked)."""
    return [(kind.name, kind.label) for kind in STAFF_KINDS]


def kind_choices() -> list[tuple[str, str]]:
    """The models' `kind` choices, read when asked, so a kind registered later (register_kind) is
    named, not shown as its code, in the admin and wherever get_kind_display() is used."""
    return [(kind.name, kind.label) for kind in KINDS.values()]


def register_kind(kind: Kind) -> None:
    """A kind contributed by an app above notifications (from its AppConfig.ready(); tasks: "task due"):
    its messages are written, read and e-mailed as the kinds above (registering it again is harmless)."""
    KINDS[kind.name] = kind
    if kind.staff and all(known.name != kind.name for known in STAFF_KINDS):
        STAFF_KINDS.append(kind)
