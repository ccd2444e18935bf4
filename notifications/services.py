"""Writing notifications and e-mails, and sending the e-mails.

- `email_queue` renders an e-mail in its recipient's language and writes it to the outbox in the
  caller's transaction; its sending is enqueued when that transaction commits. An event rolled
  back sends nothing; an event committed always leaves its e-mail behind, even when the broker is
  down (the sweep sends it).
- `outbox_send` claims the row with one conditional UPDATE (pending, failed after its back-off,
  or stuck in sending), so of two deliveries of the task one sends and the other does nothing; it
  then sends through Django's mail (SMTP in production) and marks the row sent, or failed with
  its next attempt after a back-off. Every attempt carries the row's own Message-ID.
- `notify` writes in-app notifications for staff, and their e-mails unless the user turned that
  kind off (NotificationPreference).
"""

import datetime
import logging

from celery import current_app
from django.conf import settings
from django.core.cache import cache
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.utils import timezone, translation

from .kinds import KINDS, STAFF_KINDS
from .models import Notification, NotificationPreference, Outbox

logger = logging.getLogger(__name__)


class WorkerKilled(BaseException):
    """Stands for the worker process dying (tests): nothing catches it, nothing cleans up."""


# Settings, with defaults for a settings module that does not set them.
def _max_attempts() -> int:
    return getattr(settings, "EMAIL_MAX_ATTEMPTS", 8)


def _sending_timeout() -> datetime.timedelta:
    return datetime.timedelta(seconds=getattr(settings, "EMAIL_SENDING_TIMEOUT_SECONDS", 600))


def backoff(attempts: int) -> datetime.timedelta:
    """The wait after the `attempts`-th failed attempt: 1, 2, 4 … minutes, at most an hour."""
    return datetime.timedelta(seconds=min(60 * 2 ** max(0, attempts - 1), 3600))


def site_url(path: str) -> str:
    """An absolute address for a link in an e-mail (SITE_URL + path)."""
    if not path or path.startswith(("http://", "https://")):
        return path
    return getattr(settings, "SITE_URL", "http://localhost:8000").rstrip("/") + path


# Languages ------------------------------------------------------------------------------------


def _known_language(code: str | None) -> str:
    codes = {code for code, _name in settings.LANGUAGES}
    return code if code in codes else settings.LANGUAGE_CODE


def preference_of(user) -> NotificationPreference:
    """The user's choices (unsaved defaults when they made none)."""
    found = NotificationPreference.objects.filter(user=user).first()
    return found or NotificationPreference(user=user)


def user_language(user) -> str:
    """The language the user chose for what is sent to them; the site's default otherwise."""
    return _known_language(preference_of(user).language)


def customer_language(customer) -> str:
    """The customer's language as its record holds it (crm.Customer.language)."""
    return _known_language(getattr(customer, "language", "") or "")


def customer_address(customer) -> str:
    """Where the customer is written to: its first current contact with an address (decision makers
    first, Contact's ordering; a retired contact is no longer written to), else the customer's own
    address; "" when there is none."""
    contact = (
        customer.contacts.filter(retired_at__isnull=True).exclude(email="").order_by("-decision_maker", "name").first()
    )
    return contact.email if contact is not None else (customer.email or "")


# The outbox -----------------------------------------------------------------------------------


def _send_after_commit(outbox_id: int) -> None:
    def send():
        try:
            # By name: the task module (notifications.tasks) imports this one.
            current_app.tasks["notifications.send_email"].delay(outbox_id)
        except Exception:  # noqa: BLE001 - the row waits; the sweep sends it
            logger.exception("outbox %s: the task queue did not take it; the sweep will send it", outbox_id)

    transaction.on_commit(send)


def email_queue(
    *, kind: str, to: str, language: str, args: dict, context: dict | None = None, complaint=None
) -> Outbox:
    """Renders the e-mail of `kind` (templates/notifications/email/<kind>.txt and .html) in
    `language` with `args` (also its subject's values) and `context`, writes it to the outbox in the
    current transaction, and has it sent once that commits."""
    with translation.override(language):
        subject = KINDS[kind].text(args)
        values = {**args, **(context or {}), "subject": subject, "language": language}
        body_text = render_to_string(f"notifications/email/{kind}.txt", values)
        body_html = render_to_string(f"notifications/email/{kind}.html", values)
    row = Outbox.objects.create(
        kind=kind,
        to=to,
        language=language,
        subject=" ".join(subject.split())[:300],
        body_text=body_text,
        body_html=body_html,
        message_id=Outbox.new_message_id(),
        complaint=complaint,
    )
    _send_after_commit(row.pk)
    return row


def _claimable(now: datetime.datetime) -> Q:
    return (
        Q(status=Outbox.Status.PENDING)
        | Q(status=Outbox.Status.FAILED, next_attempt_at__lte=now)
        | Q(status=Outbox.Status.SENDING, claimed_at__lt=now - _sending_timeout())
    )


def outbox_send(*, outbox_id: int, now: datetime.datetime | None = None, die_after_send: bool = False) -> Outbox | None:
    """Sends one outbox row if it is due, and returns it as it ends (sent, or failed with its next
    attempt); None when there was nothing to do (sent already, another worker on it, not due).

    The claim is one conditional UPDATE to "sending": a redelivered task finds the row taken or
    sent and sends nothing. A row left in "sending" (its worker died) is claimed again only after
    EMAIL_SENDING_TIMEOUT_SECONDS, with the same Message-ID. `die_after_send` (tests) stands for
    the worker dying after the SMTP server accepted the message, before the row says so.
    """
    now = now or timezone.now()
    claimed = Outbox.objects.filter(_claimable(now), pk=outbox_id).update(
        status=Outbox.Status.SENDING, claimed_at=now, attempts=F("attempts") + 1
    )
    if not claimed:
        return None
    row = Outbox.objects.get(pk=outbox_id)
    mine = Outbox.objects.filter(pk=row.pk, status=Outbox.Status.SENDING, claimed_at=now)
    message = EmailMultiAlternatives(
        subject=row.subject,
        body=row.body_text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[row.to],
        headers={"Message-ID": row.message_id, "Content-Language": row.language, "Auto-Submitted": "auto-generated"},
    )
    if row.body_html:
        message.attach_alternative(row.body_html, "text/html")
    try:
        message.send(fail_silently=False)
    except Exception as error:  # noqa: BLE001 - any failure to hand it over: the row waits and retries
        logger.warning("outbox %s to %s: attempt %s failed: %s", row.pk, row.to, row.attempts, error)
        gave_up = row.attempts >= _max_attempts()
        row.status = Outbox.Status.GAVE_UP if gave_up else Outbox.Status.FAILED
        row.next_attempt_at = None if gave_up else now + backoff(row.attempts)
        row.last_error = f"{type(error).__name__}: {error}"[:2000]
        mine.update(status=row.status, next_attempt_at=row.next_attempt_at, last_error=row.last_error)
        return row
    if die_after_send:
        raise WorkerKilled(f"outbox {row.pk}: worker died after sending")
    row.status, row.sent_at, row.next_attempt_at = Outbox.Status.SENT, timezone.now(), None
    mine.update(status=row.status, sent_at=row.sent_at, next_attempt_at=None, last_error="")
    return row


def outbox_due(*, now: datetime.datetime | None = None) -> list[int]:
    """Rows to send again: failed after their back-off, stuck in "sending", or waiting since before
    the sending timeout (their task was lost)."""
    now = now or timezone.now()
    stale = now - _sending_timeout()
    due = (
        Q(status=Outbox.Status.FAILED, next_attempt_at__lte=now)
        | Q(status=Outbox.Status.SENDING, claimed_at__lt=stale)
        | Q(status=Outbox.Status.PENDING, created_at__lt=stale)
    )
    return list(Outbox.objects.filter(due).order_by("pk").values_list("pk", flat=True)[:1000])


def outbox_sweep(*, now: datetime.datetime | None = None) -> int:
    """Has every due row (outbox_due) sent again; returns how many."""
    due = outbox_due(now=now)
    for pk in due:
        _send_after_commit(pk)
    return len(due)


def outbox_resend(*, rows) -> int:
    """Sends again rows that failed or gave up (the admin's "resend"): they wait, due now."""
    ids = list(rows.filter(status__in=[Outbox.Status.FAILED, Outbox.Status.GAVE_UP]).values_list("pk", flat=True))
    Outbox.objects.filter(pk__in=ids).update(status=Outbox.Status.PENDING, next_attempt_at=None, claimed_at=None)
    for pk in ids:
        _send_after_commit(pk)
    return len(ids)


# Staff notifications --------------------------------------------------------------------------


def unread_cache_key(user_id: int) -> str:
    return f"notifications:unread:{user_id}"


def _forget_unread(user_ids) -> None:
    """Drops the cached unread counts now and again when the transaction commits (a page rendered
    meanwhile may have cached the count from before the commit)."""
    keys = [unread_cache_key(pk) for pk in user_ids]
    cache.delete_many(keys)
    transaction.on_commit(lambda: cache.delete_many(keys))


def notify(
    *, recipients, kind: str, args: dict, link: str = "", key: str = "", complaint=None, context: dict | None = None
) -> list[Notification]:
    """Tells each recipient (users; None and repeats are skipped) about an event of `kind` in the
    app, and by e-mail in their language unless they turned the kind off or have no address.
    Written in the caller's transaction. With a `key`, a recipient told already about this key is
    not told again. `context`: more for the e-mail's template."""
    written, seen = [], set()
    for user in recipients:
        if user is None or user.pk in seen or not user.is_active:
            continue
        seen.add(user.pk)
        if key and Notification.objects.filter(recipient=user, kind=kind, key=key).exists():
            continue
        try:
            with transaction.atomic():
                notification = Notification.objects.create(recipient=user, kind=kind, args=args, link=link, key=key)
        except IntegrityError:  # told a moment ago by another run
            continue
        written.append(notification)
        preference = preference_of(user)
        if user.email and kind not in preference.email_off:
            email_queue(
                kind=kind,
                to=user.email,
                language=_known_language(preference.language),
                args=args,
                context={**(context or {}), "recipient": user, "link": site_url(link)},
                complaint=complaint,
            )
    _forget_unread(seen)
    return written


def notifications_mark_read(*, user, ids=None, now: datetime.datetime | None = None) -> int:
    """Marks the user's unread notifications read (those of `ids`, or all); returns how many."""
    rows = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if ids is not None:
        rows = rows.filter(pk__in=ids)
    marked = rows.update(read_at=now or timezone.now())
    _forget_unread([user.pk])
    return marked


def preference_update(*, user, language: str, email_kinds) -> NotificationPreference:
    """Saves the user's language and the kinds they want by e-mail."""
    wanted = set(email_kinds)
    preference, _created = NotificationPreference.objects.update_or_create(
        user=user,
        defaults={"language": language, "email_off": sorted(k.name for k in STAFF_KINDS if k.name not in wanted)},
    )
    return preference
