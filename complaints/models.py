"""Complaints: the record, its timeline, its transition log, its root cause and the SLA targets."""

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class Channel(models.TextChoices):
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("Email")
    VISIT = "visit", _("Visit")
    WEB = "web", _("Web")
    OTHER = "other", _("Other")


class Category(models.TextChoices):
    PRODUCT_QUALITY = "product_quality", _("Product quality")
    DELIVERY = "delivery", _("Delivery")
    BILLING = "billing", _("Billing")
    SERVICE_ATTITUDE = "service_attitude", _("Service attitude")
    OTHER = "other", _("Other")


class Severity(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")
    CRITICAL = "critical", _("Critical")


class State(models.TextChoices):
    NEW = "new", _("New")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    INVESTIGATING = "investigating", _("Investigating")
    AWAITING_CUSTOMER = "awaiting_customer", _("Awaiting customer")
    ACTION_COMMUNICATED = "action_communicated", _("Action communicated")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")
    REJECTED = "rejected", _("Rejected")
    DUPLICATE = "duplicate", _("Duplicate")


# Open complaints count in the backlog and run the SLA clock (paused while awaiting the customer).
OPEN_STATES = (
    State.NEW,
    State.ACKNOWLEDGED,
    State.INVESTIGATING,
    State.AWAITING_CUSTOMER,
    State.ACTION_COMMUNICATED,
)


class SlaTarget(models.Model):
    """Hours allowed for the first response and for the resolution, per severity."""

    severity = models.CharField(_("severity"), max_length=16, choices=Severity.choices, unique=True)
    first_response_hours = models.PositiveIntegerField(_("first response (hours)"), validators=[MinValueValidator(1)])
    resolution_hours = models.PositiveIntegerField(_("resolution (hours)"), validators=[MinValueValidator(1)])
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("SLA target")
        verbose_name_plural = _("SLA targets")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(first_response_hours__gte=1, resolution_hours__gte=1), name="sla_hours_positive"
            )
        ]

    def __str__(self):
        return _("%(severity)s: first response %(first)s h, resolution %(resolution)s h") % {
            "severity": self.get_severity_display(),
            "first": self.first_response_hours,
            "resolution": self.resolution_hours,
        }


class Problem(models.Model):
    """A root cause. Many complaints link to one problem, so a repeat of the cause shows as a recurrence."""

    title = models.CharField(_("title"), max_length=200)
    category = models.CharField(_("category"), max_length=32, choices=Category.choices)
    description = models.TextField(_("description"), blank=True)
    corrective_action = models.TextField(_("corrective action"), blank=True)
    preventive_action = models.TextField(_("preventive action"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("problem")
        verbose_name_plural = _("problems")

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("complaints:problem_detail", args=[self.pk])


class Complaint(models.Model):
    number = models.CharField(_("number"), max_length=40, unique=True)
    customer = models.ForeignKey(
        "crm.Customer", verbose_name=_("customer"), on_delete=models.PROTECT, related_name="complaints"
    )
    order = models.ForeignKey(
        "crm.Order",
        verbose_name=_("order"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="complaints",
    )
    received_at = models.DateTimeField(_("received at"))
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices, default=Channel.PHONE)
    category = models.CharField(_("category"), max_length=32, choices=Category.choices, default=Category.OTHER)
    severity = models.CharField(_("severity"), max_length=16, choices=Severity.choices, default=Severity.MEDIUM)
    significant = models.BooleanField(
        _("significant"), default=False, help_text=_("Needs an internal review before it can be resolved.")
    )
    description = models.TextField(_("description"))
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_complaints",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("logged by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # The workflow owns these; nothing but complaints.workflow writes them.
    state = models.CharField(_("state"), max_length=24, choices=State.choices, default=State.NEW, editable=False)
    problem = models.ForeignKey(
        Problem,
        verbose_name=_("problem (root cause)"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="complaints",
    )
    duplicate_of = models.ForeignKey(
        "self",
        verbose_name=_("duplicate of"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="duplicates",
        editable=False,
    )
    action_plan = models.TextField(_("action plan"), blank=True, editable=False)
    customer_notified_at = models.DateTimeField(_("customer notified at"), null=True, blank=True, editable=False)
    root_cause = models.TextField(_("root cause"), blank=True, editable=False)
    internal_review_notes = models.TextField(_("internal review notes"), blank=True, editable=False)
    # SLA clock, kept by the workflow so KPIs are plain column arithmetic in SQL.
    first_response_at = models.DateTimeField(_("first response at"), null=True, blank=True, editable=False)
    first_response_seconds = models.BigIntegerField(null=True, blank=True, editable=False)
    first_response_due_at = models.DateTimeField(_("first response due"), editable=False)
    resolution_due_at = models.DateTimeField(_("resolution due"), editable=False)
    paused_since = models.DateTimeField(null=True, blank=True, editable=False)
    paused_seconds = models.BigIntegerField(default=0, editable=False)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True, editable=False)
    resolution_seconds = models.BigIntegerField(null=True, blank=True, editable=False)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True, editable=False)
    first_response_breached = models.BooleanField(_("first response breached"), default=False, editable=False)
    resolution_breached = models.BooleanField(_("resolution breached"), default=False, editable=False)
    reopen_count = models.PositiveIntegerField(_("times reopened"), default=0, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("complaint")
        verbose_name_plural = _("complaints")
        permissions = [("work_complaint", _("Can log and work complaints"))]
        indexes = [
            # The queue's tabs: open ones newest first (all, mine, unassigned), by due time (breaching).
            models.Index(
                fields=["-received_at"], condition=models.Q(state__in=OPEN_STATES), name="complaint_open_received_idx"
            ),
            models.Index(
                fields=["assignee", "-received_at"],
                condition=models.Q(state__in=OPEN_STATES),
                name="complaint_open_mine_idx",
            ),
            models.Index(
                fields=["resolution_due_at"], condition=models.Q(state__in=OPEN_STATES), name="complaint_open_due_idx"
            ),
            models.Index(fields=["-received_at"], name="complaint_received_idx"),
            models.Index(fields=["customer", "received_at"], name="complaint_customer_idx"),
            models.Index(fields=["problem", "received_at"], name="complaint_problem_idx"),
        ]

    def __str__(self):
        return self.number

    def get_absolute_url(self):
        return reverse("complaints:complaint_detail", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def is_paused(self) -> bool:
        return self.paused_since is not None


class ComplaintNote(models.Model):
    class Visibility(models.TextChoices):
        INTERNAL = "internal", _("Internal")
        CUSTOMER = "customer", _("Customer-facing")

    complaint = models.ForeignKey(
        Complaint, verbose_name=_("complaint"), on_delete=models.CASCADE, related_name="notes"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    visibility = models.CharField(
        _("visibility"), max_length=16, choices=Visibility.choices, default=Visibility.INTERNAL
    )
    body = models.TextField(_("note"))
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("note")
        verbose_name_plural = _("notes")
        indexes = [models.Index(fields=["complaint", "created_at"], name="complaint_note_idx")]

    def __str__(self):
        return self.body[:40]


class ComplaintTransition(models.Model):
    """The log: who moved which complaint from what to what, when, and why."""

    complaint = models.ForeignKey(
        Complaint, verbose_name=_("complaint"), on_delete=models.CASCADE, related_name="transitions"
    )
    from_state = models.CharField(_("from"), max_length=24, choices=State.choices)
    to_state = models.CharField(_("to"), max_length=24, choices=State.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    at = models.DateTimeField(_("at"))
    note = models.TextField(_("note"), blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("transition")
        verbose_name_plural = _("transitions")
        indexes = [models.Index(fields=["complaint", "at"], name="complaint_transition_idx")]

    def __str__(self):
        return f"{self.from_state} → {self.to_state}"
