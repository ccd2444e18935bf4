"""An import started from the web: the uploaded file, its check (dry run) and the kept report."""

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from core.models import Job


class ImportJob(Job):
    """A job (core.models.Job): the file's check, then, once a person confirms it, its import.
    `requested_by` uploaded it."""

    class Kind(models.TextChoices):
        CUSTOMERS = "customers", _("Customers")
        ORDERS = "orders", _("Orders")
        INVOICES = "invoices", _("Invoices")
        SURVEYS = "surveys", _("Surveys")
        COMPLAINTS = "complaints", _("Complaints")

    class Status(models.TextChoices):
        UPLOADED = "uploaded", _("Uploaded")
        CHECKING = "checking", _("Checking")
        INVALID = "invalid", _("Has problems")
        READY = "ready", _("Checked, waiting for confirmation")
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Importing")
        SUCCEEDED = "succeeded", _("Imported")
        FAILED = "failed", _("Failed")

    IN_PROGRESS = (Status.UPLOADED, Status.CHECKING, Status.QUEUED, Status.RUNNING)

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.UPLOADED)
    file = models.FileField(_("file"), upload_to="imports/%Y/%m/")
    original_name = models.CharField(_("file name"), max_length=200)
    size = models.PositiveBigIntegerField(_("size (bytes)"), default=0)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("confirmed by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    preview = models.JSONField(_("check (dry run)"), null=True, blank=True)
    report = models.JSONField(_("report"), null=True, blank=True)
    analysis_run = models.ForeignKey(
        "analytics.AnalysisRun",
        verbose_name=_("analysis run"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta(Job.Meta):
        ordering = ["-created_at", "-id"]
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        permissions = [("import_data", _("Can import data files"))]

    def __str__(self):
        return f"{self.get_kind_display()} {self.original_name}"

    def get_absolute_url(self):
        return reverse("exchange:import_detail", args=[self.pk])

    @property
    def in_progress(self) -> bool:
        return self.status in self.IN_PROGRESS
