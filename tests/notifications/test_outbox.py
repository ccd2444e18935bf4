"""The outbox: written with its event, sent once, nothing lost when SMTP fails or a worker dies."""

import datetime

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from notifications import services
from notifications.models import Outbox
from notifications.tasks import send_email, sweep_outbox

pytestmark = pytest.mark.django_db


def queue(to="customer@example.com", number="CP0000042"):
    return services.email_queue(kind="acknowledgment", to=to, language="en", args={"number": number}, context={})


def test_written_in_the_event_transaction_and_sent_after_commit(smtp, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        row = queue()
        assert smtp.received == []  # nothing goes before the event commits
    assert len(callbacks) == 1
    [mail] = smtp.received
    row.refresh_from_db()
    assert (row.status, row.attempts, mail.to) == (Outbox.Status.SENT, 1, ["customer@example.com"])
    assert mail.message_id == row.message_id and mail.subject == "We received your complaint CP0000042"


def test_an_event_rolled_back_sends_nothing(smtp, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError), transaction.atomic():
            queue()
            raise RuntimeError("the event failed")
    assert not Outbox.objects.exists() and smtp.received == []


def test_a_redelivered_task_sends_nothing_more(smtp):
    row = queue()
    send_email(row.pk)
    send_email(row.pk)  # the broker delivers it again (acks late)
    assert len(smtp.received) == 1
    assert services.outbox_send(outbox_id=row.pk) is None


def test_smtp_refusing_loses_nothing_and_retries_after_the_backoff(smtp):
    row = queue()
    smtp.handler.refusing = True
    now = timezone.now()
    failed = services.outbox_send(outbox_id=row.pk, now=now)
    row.refresh_from_db()
    assert (row.status, row.attempts) == (Outbox.Status.FAILED, 1)
    assert row.get_status_display() == "Failed, retrying"
    assert row.next_attempt_at == now + datetime.timedelta(minutes=1) == failed.next_attempt_at
    assert "451" in row.last_error
    # Before its back-off nobody sends it, redelivered or swept.
    assert services.outbox_send(outbox_id=row.pk, now=now + datetime.timedelta(seconds=30)) is None
    assert services.outbox_due(now=now + datetime.timedelta(seconds=30)) == []
    # Refused again after the back-off: the next wait doubles.
    assert services.outbox_due(now=now + datetime.timedelta(minutes=1)) == [row.pk]
    services.outbox_send(outbox_id=row.pk, now=now + datetime.timedelta(minutes=1))
    row.refresh_from_db()
    assert (row.attempts, row.next_attempt_at) == (2, now + datetime.timedelta(minutes=3))
    # The server takes mail again: sent once, with the same Message-ID.
    smtp.handler.refusing = False
    services.outbox_send(outbox_id=row.pk, now=now + datetime.timedelta(minutes=3))
    services.outbox_send(outbox_id=row.pk, now=now + datetime.timedelta(minutes=10))
    row.refresh_from_db()
    assert row.status == Outbox.Status.SENT and row.attempts == 3
    assert [mail.message_id for mail in smtp.received] == [row.message_id]


def test_smtp_server_down_loses_nothing(smtp):
    row = queue()
    smtp.stop()
    now = timezone.now()
    services.outbox_send(outbox_id=row.pk, now=now)
    row.refresh_from_db()
    assert row.status == Outbox.Status.FAILED and "Connection" in row.last_error
    smtp.start()
    services.outbox_send(outbox_id=row.pk, now=now + datetime.timedelta(minutes=1))
    row.refresh_from_db()
    assert row.status == Outbox.Status.SENT
    assert [mail.message_id for mail in smtp.received] == [row.message_id]


def test_gives_up_after_the_last_attempt_and_the_admin_resends(
    smtp, settings, admin_user_, client, django_capture_on_commit_callbacks
):
    settings.EMAIL_MAX_ATTEMPTS = 2
    row = queue()
    smtp.handler.refusing = True
    now = timezone.now()
    services.outbox_send(outbox_id=row.pk, now=now)
    services.outbox_send(outbox_id=row.pk, now=now + datetime.timedelta(hours=1))
    row.refresh_from_db()
    assert (row.status, row.next_attempt_at) == (Outbox.Status.GAVE_UP, None)
    assert services.outbox_due(now=now + datetime.timedelta(days=1)) == []
    smtp.handler.refusing = False
    client.force_login(admin_user_)
    changelist = reverse("admin:notifications_outbox_changelist")
    assert "Failed, gave up" in client.get(changelist).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(changelist, {"action": "resend", "_selected_action": [row.pk]})
    assert response.status_code == 302
    row.refresh_from_db()
    assert row.status == Outbox.Status.SENT
    assert [mail.message_id for mail in smtp.received] == [row.message_id]


def test_the_admin_page_shows_failed_retrying(smtp, admin_user_, client):
    row = queue()
    smtp.handler.refusing = True
    services.outbox_send(outbox_id=row.pk)
    client.force_login(admin_user_)
    page = client.get(reverse("admin:notifications_outbox_changelist")).content.decode()
    assert "Failed, retrying" in page and "customer@example.com" in page


def test_worker_killed_between_sent_and_marked_sent(smtp):
    """The SMTP server has the message, the row still says "sending": the redelivered task sends
    nothing; only after EMAIL_SENDING_TIMEOUT_SECONDS is the row swept, with the same Message-ID."""
    row = queue()
    now = timezone.now()
    with pytest.raises(services.WorkerKilled):
        services.outbox_send(outbox_id=row.pk, now=now, die_after_send=True)
    row.refresh_from_db()
    assert row.status == Outbox.Status.SENDING and len(smtp.received) == 1
    send_email(row.pk)  # acks_late: the broker redelivers the task to another worker
    services.outbox_send(outbox_id=row.pk, now=now + datetime.timedelta(minutes=5))
    assert len(smtp.received) == 1
    assert services.outbox_due(now=now + datetime.timedelta(minutes=5)) == []
    later = now + datetime.timedelta(seconds=601)
    assert services.outbox_due(now=later) == [row.pk]


def test_worker_killed_before_sending_loses_nothing(smtp, django_capture_on_commit_callbacks):
    row = queue()
    Outbox.objects.filter(pk=row.pk).update(
        status=Outbox.Status.SENDING, claimed_at=timezone.now() - datetime.timedelta(minutes=11), attempts=1
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert sweep_outbox() == 1  # beat
    row.refresh_from_db()
    assert row.status == Outbox.Status.SENT and row.attempts == 2
    assert [mail.message_id for mail in smtp.received] == [row.message_id]


def test_a_lost_task_is_swept(smtp, django_capture_on_commit_callbacks):
    row = queue()  # its task is never run: the on-commit callback is not executed
    Outbox.objects.filter(pk=row.pk).update(created_at=timezone.now() - datetime.timedelta(minutes=11))
    with django_capture_on_commit_callbacks(execute=True):
        assert sweep_outbox() == 1
    assert [mail.message_id for mail in smtp.received] == [row.message_id]


def test_the_broker_down_leaves_the_row_waiting(monkeypatch, smtp, django_capture_on_commit_callbacks):
    def refuse(*args, **kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr(send_email, "delay", refuse)
    with django_capture_on_commit_callbacks(execute=True):
        row = queue()
    row.refresh_from_db()
    assert row.status == Outbox.Status.PENDING and smtp.received == []
