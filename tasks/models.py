"""Follow-ups: something a person must do for a customer by a date (issue 19).

A follow-up belongs to a customer and optionally to a complaint and to the interaction whose
"next follow-up" date made it. It is open, done, or snoozed until a date; a snoozed follow-up whose
date has come counts as open again (`due_q`, `effective_due`).
"""

from django.conf import settings
from django.db import models
from django.db.models import Case, F, Q, When
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class Source(models.TextChoices):
    CUSTOMER = "customer", _("Customer page")
    COMPLAINT = "complaint", _("Complaint")
    INTERACTION = "interaction", _("Interaction")
    NEGLECTED = "neglected", _("Neglected account")
    DECLINING = "declining", _("Declining top account")


# Alerts of the portfolio: at most one follow-up not done per customer and alert.
ALERT_SOURCES = (Source.NEGLECTED, Source.DECLINING)


class State(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")
    SNOOZED = "snoozed", _("Snoozed")


NOTE_MAX = 500


class Task(models.Model):
    customer = models.ForeignKey(
        "crm.Customer", verbose_name=_("customer"), on_delete=models.CASCADE, related_name="tasks"
    )
    complaint = models.ForeignKey(
        "complaints.Complaint",
        verbose_name=_("complaint"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="tasks",
    )
    interaction = models.ForeignKey(
        "crm.Interaction",
        verbose_name=_("interaction"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="tasks",
    )
    source = models.CharField(_("source"), max_length=16, choices=Source.choices, default=Source.CUSTOMER)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_tasks",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    due_on = models.DateField(_("due"))
    note = models.CharField(_("note"), max_length=NOTE_MAX, blank=True)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.OPEN)
    snoozed_until = models.DateField(_("snoozed until"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("completed by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # The due date the assignee was last reminded of (tasks.tasks.remind_due_tasks): never twice for one date.
    reminded_for = models.DateField(_("reminded for"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    history = HistoricalRecords(excluded_fields=["reminded_for"])

    class Meta:
        ordering = ["due_on", "pk"]
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        indexes = [
            models.Index(fields=["assignee", "state", "due_on"], name="task_assignee_state_due_idx"),
            models.Index(fields=["customer", "state"], name="task_customer_state_idx"),
        ]
        constraints = [
            # One follow-up not done per customer and portfolio alert: a second click creates none.
            models.UniqueConstraint(
                fields=["customer", "source"],
                condition=Q(source__in=["neglected", "declining"]) & ~Q(state="done"),
                name="task_one_open_per_alert",
            ),
            models.CheckConstraint(
                condition=~Q(state="snoozed") | Q(snoozed_until__isnull=False), name="task_snoozed_has_date"
            ),
        ]

    def __str__(self):
        return f"{self.customer} {self.due_on}"

    def get_absolute_url(self):
        # My tasks with this one ticked, ready to complete or snooze (tasks/_task_rows.html)
        return reverse("tasks:my_tasks") + f"?task={self.pk}#task-{self.pk}"

    @property
    def next_due(self):
        """When it is due: the snooze's date while snoozed, else its due date."""
        return self.snoozed_until if self.state == State.SNOOZED else self.due_on


def effective_due():
    """The database's `next_due`: the snooze's date while snoozed, else the due date."""
    return Case(When(state=State.SNOOZED, then=F("snoozed_until")), default=F("due_on"))


def due_q(until) -> Q:
    """Follow-ups to act on by `until`: open ones due by then, snoozed ones whose date has come by then."""
    return Q(state=State.OPEN, due_on__lte=until) | Q(state=State.SNOOZED, snoozed_until__lte=until)
