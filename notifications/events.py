"""The events people are told about, each in one function that the app where it happens calls
inside the transaction that makes it happen (complaints, analysis runs, imports).

This module imports nothing of the apps that call it: they pass their objects in.
"""

import datetime

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from crm.roles import Role

from . import kinds, surveys
from .services import customer_address, customer_language, email_queue, notify


def _local(moment: datetime.datetime | None) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else ""


def _complaint_args(complaint) -> dict:
    return {"number": complaint.number, "customer": complaint.customer.name}


# Complaints ------------------------------------------------------------------------------------


def complaint_assigned(*, complaint, by, previous_assignee_id=None) -> None:
    """The new assignee is told, unless they gave it to themselves or already had it."""
    assignee = complaint.assignee
    if assignee is None or assignee.pk == previous_assignee_id or assignee.pk == getattr(by, "pk", None):
        return
    notify(
        recipients=[assignee],
        kind=kinds.COMPLAINT_ASSIGNED,
        args=_complaint_args(complaint),
        link=complaint.get_absolute_url(),
        complaint=complaint,
    )


def complaint_reopened(*, complaint, by, reason: str) -> None:
    """The assignee and the service leads are told why a closed complaint is back (not the one who reopened it)."""
    recipients = [complaint.assignee, *_service_leads()]
    notify(
        recipients=[user for user in recipients if user is not None and user.pk != getattr(by, "pk", None)],
        kind=kinds.COMPLAINT_REOPENED,
        args={**_complaint_args(complaint), "reason": reason},
        link=complaint.get_absolute_url(),
        complaint=complaint,
    )


def complaint_acknowledge(*, complaint) -> bool:
    """The acknowledgment to the customer's contact, in the customer's language; False when the
    customer has no address to write to."""
    to = customer_address(complaint.customer)
    if not to:
        return False
    email_queue(
        kind=kinds.ACKNOWLEDGMENT,
        to=to,
        language=customer_language(complaint.customer),
        args={"number": complaint.number},
        context={"complaint": complaint, "customer": complaint.customer},
        complaint=complaint,
    )
    return True


def complaint_send_action_plan(*, complaint) -> bool:
    """The action plan to the customer's contact, in the customer's language; False without an address."""
    to = customer_address(complaint.customer)
    if not to:
        return False
    email_queue(
        kind=kinds.ACTION_PLAN,
        to=to,
        language=customer_language(complaint.customer),
        args={"number": complaint.number},
        context={"complaint": complaint, "customer": complaint.customer, "action_plan": complaint.action_plan},
        complaint=complaint,
    )
    return True


def complaint_send_survey(*, complaint) -> bool:
    """The satisfaction survey's link to the customer's contact, once per complaint (notifications.surveys)."""
    return surveys.survey_send(complaint=complaint) is not None


def _service_leads():
    """Who answers for the service team: the admins (the product has no separate lead role)."""
    return get_user_model().objects.filter(is_superuser=True, is_active=True).order_by("pk")


def _soon_clock(complaint, hours: int, now) -> tuple[str, datetime.datetime]:
    """The clock that falls due within `hours`: the first response's while none is recorded and it
    is not breached yet, else the resolution's."""
    first_due = complaint.first_response_due_at
    if (
        complaint.first_response_at is None
        and not complaint.first_response_breached
        and now < first_due <= now + datetime.timedelta(hours=hours)
    ):
        return "first_response", first_due
    return "resolution", complaint.resolution_due_at


def sla_warn(*, breaching_soon, breached, hours: int, now: datetime.datetime | None = None) -> int:
    """Tells the assignee and the service leads, once per complaint and clock, that a complaint's
    SLA falls due within `hours` (`breaching_soon`) or has breached (`breached`, by its flags);
    returns how many notifications were written."""
    now = now or timezone.now()
    leads = list(_service_leads())
    told = 0

    def tell(complaint, kind, clock, due):
        return len(
            notify(
                recipients=[complaint.assignee, *leads],
                kind=kind,
                args={**_complaint_args(complaint), "due": _local(due), "hours": hours},
                link=complaint.get_absolute_url(),
                key=f"complaint:{complaint.pk}:{clock}",  # once per complaint, clock and kind
                complaint=complaint,
            )
        )

    for complaint in breaching_soon.select_related("customer", "assignee"):
        clock, due = _soon_clock(complaint, hours, now)
        told += tell(complaint, kinds.SLA_BREACHING_SOON, clock, due)
    for complaint in breached.select_related("customer", "assignee"):
        if complaint.first_response_breached:
            told += tell(complaint, kinds.SLA_BREACHED, "first_response", complaint.first_response_due_at)
        if complaint.resolution_breached:
            told += tell(complaint, kinds.SLA_BREACHED, "resolution", complaint.resolution_due_at)
    return told


# Jobs -----------------------------------------------------------------------------------------


def _executives():
    return get_user_model().objects.filter(Q(groups__name=Role.EXECUTIVE.value), is_active=True).distinct()


def run_failed(*, run) -> None:
    """Who asked for the run and the executives are told it failed (the published run stays)."""
    notify(
        recipients=[run.requested_by, *_executives().order_by("pk")],
        kind=kinds.RUN_FAILED,
        args={"run": run.pk},
        link=reverse("analytics:runs"),
    )


def _import_people(job):
    return [job.requested_by, job.confirmed_by]


def import_finished(*, job) -> None:
    report = job.report or {}
    notify(
        recipients=_import_people(job),
        kind=kinds.IMPORT_FINISHED,
        args={"file": job.original_name, "created": report.get("created", 0), "updated": report.get("updated", 0)},
        link=reverse("exchange:import_detail", args=[job.pk]),
    )


def import_failed(*, job) -> None:
    notify(
        recipients=_import_people(job),
        kind=kinds.IMPORT_FAILED,
        args={"file": job.original_name},
        link=reverse("exchange:import_detail", args=[job.pk]),
    )
