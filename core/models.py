"""The record every background job keeps (analysis runs, imports, what-if, mail): one abstract model.

A job's own model inherits `Job`, declares its `status` with its own choices, and describes
itself to core.jobs with a `JobKind` (which statuses wait for a worker, which mean a worker is on
it, which are final, who may see it, how to fail one). Everything else about a job's life reads
and writes only these fields: the status endpoint, the progress bar, the progress writer, the
heartbeat, the takeover of a job whose worker died and the sweep.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from . import jobs


class Job(models.Model):
    # Each kind overrides it with its choices and its first status as the default.
    status = models.CharField(_("status"), max_length=16)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    progress = models.PositiveSmallIntegerField(_("progress"), default=0)
    # In English, marked with gettext_noop where written; shown translated (progress_label).
    progress_note = models.CharField(max_length=200, blank=True)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    # Written every few seconds while a worker is on the job (core.jobs.Heartbeat) and with each
    # progress step: a job silent for JOB_STALE_SECONDS is taken over or given up.
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True
        ordering = ["-created_at", "-id"]

    @property
    def progress_label(self) -> str:
        """The progress note (stored in English, marked with gettext_noop) in the reader's language."""
        return gettext(self.progress_note) if self.progress_note else ""

    @property
    def error_message(self) -> str:
        """The reason in the reader's language when the job failed because its task was never sent
        or its worker stopped (jobs.NOT_SENT, jobs.WORKER_STOPPED); otherwise "" (the error is the job's own)."""
        return jobs.explained(self.error)

    @property
    def status_url(self) -> str:
        """Where the progress bar polls this job's status (the one endpoint: core.views.JobStatusView)."""
        return jobs.kind_of(self).status_url(self)


class SavedView(models.Model):
    """A list's state saved under a name by its user (core.saved_views): the filters, sort and page
    size as a normalised query string (only the list's own parameters), and the columns shown.
    Optionally shared with a role (a Group), for whose members it is read-only."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="saved_views"
    )
    list_key = models.CharField(_("list"), max_length=40)
    name = models.CharField(_("name"), max_length=80)
    query = models.TextField(_("filters and sort"), blank=True)
    columns = models.JSONField(_("columns"), default=list, blank=True)
    shared_with = models.ForeignKey(
        "auth.Group",
        verbose_name=_("shared with"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("saved view")
        verbose_name_plural = _("saved views")
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "list_key", "name"], name="core_savedview_one_name_per_list")
        ]
        indexes = [models.Index(fields=["list_key", "shared_with"], name="core_savedview_shared")]

    def __str__(self):
        return self.name
