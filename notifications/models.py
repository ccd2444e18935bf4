"""What the product tells people: the e-mail outbox, in-app notifications and each user's choices.

An e-mail is an `Outbox` row written in the same transaction as the event that causes it, already
rendered in its recipient's language; a Celery task sends it (notifications.services.outbox_send).
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .kinds import KINDS, kind_choices


class Outbox(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting to be sent")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed, retrying")
        GAVE_UP = "gave_up", _("Failed, gave up")

    kind = models.CharField(_("kind"), max_length=40, choices=kind_choices)
    to = models.EmailField(_("to"))
    language = models.CharField(_("language"), max_length=10)
    subject = models.CharField(_("subject"), max_length=300)
    body_text = models.TextField(_("text"))
    body_html = models.TextField(_("HTML"), blank=True)
    # The same Message-ID on every attempt: a copy sent again after a worker died in the instant
    # between the SMTP server's acceptance and our "sent" is recognisably the same message.
    message_id = models.CharField(_("Message-ID"), max_length=200, unique=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    claimed_at = models.DateTimeField(_("sending since"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    complaint = models.ForeignKey(
        "complaints.Complaint",
        verbose_name=_("complaint"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="emails",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("outgoing e-mail")
        verbose_name_plural = _("outgoing e-mails")
        indexes = [
            # The sweep: rows to send again (failed after their back-off, stuck in sending).
            models.Index(
                fields=["status", "next_attempt_at"],
                condition=models.Q(status__in=["pending", "sending", "failed"]),
                name="outbox_due_idx",
            )
        ]

    def __str__(self):
        return f"{self.get_kind_display()} → {self.to}"

    @staticmethod
    def new_message_id() -> str:
        domain = getattr(settings, "EMAIL_MESSAGE_ID_DOMAIN", "") or "customer-value.local"
        return f"<{uuid.uuid4().hex}@{domain}>"


class Notification(models.Model):
    """One thing a member of staff is told in the app. Its text is written when read, in the
    reader's language, from its kind and `args` (notifications.kinds)."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recipient"), on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(_("kind"), max_length=40, choices=kind_choices)
    args = models.JSONField(_("details"), default=dict, blank=True)
    link = models.CharField(_("link"), max_length=300, blank=True)
    # Set for what is said once per occasion (an SLA warning per complaint and clock): a second
    # notice with the same key is not written.
    key = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [models.Index(fields=["recipient", "read_at"], name="notification_unread_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "kind", "key"], condition=~models.Q(key=""), name="notification_once_per_key"
            )
        ]

    def __str__(self):
        return self.text

    @property
    def text(self) -> str:
        kind = KINDS.get(self.kind)
        return kind.text(self.args) if kind else self.kind


class NotificationPreference(models.Model):
    """A user's language for what the product sends them, and which kinds they want by e-mail too."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="notification_preference",
    )
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES, blank=True)
    # Kinds this user does not want by e-mail (every kind is e-mailed unless turned off here).
    email_off = models.JSONField(_("no e-mail for"), default=list, blank=True)

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")

    def __str__(self):
        return str(self.user_id)


class SurveyInvitation(models.Model):
    """The satisfaction survey sent after a complaint closed: one per complaint, answered once
    through its signed link (notifications.surveys); the answer is a crm.Survey record."""

    complaint = models.OneToOneField(
        "complaints.Complaint",
        verbose_name=_("complaint"),
        on_delete=models.CASCADE,
        related_name="survey_invitation",
    )
    sent_to = models.EmailField(_("sent to"))
    sent_at = models.DateTimeField(_("sent at"), auto_now_add=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    survey = models.ForeignKey(
        "crm.Survey", verbose_name=_("survey"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("survey invitation")
        verbose_name_plural = _("survey invitations")

    def __str__(self):
        return str(self.complaint_id)
