"""Sending e-mail from the outbox: thin tasks, by id, safe to deliver twice (services.outbox_send claims)."""

from celery import shared_task

from . import services
from .models import Outbox


@shared_task(name="notifications.send_email", ignore_result=True, acks_late=True)
def send_email(outbox_id: int) -> None:
    row = services.outbox_send(outbox_id=outbox_id)
    if row is not None and row.status == Outbox.Status.FAILED and not send_email.app.conf.task_always_eager:
        # The next attempt after its back-off; beat's sweep is the backstop if this message is lost.
        send_email.apply_async((outbox_id,), eta=row.next_attempt_at)


@shared_task(name="notifications.sweep_outbox", ignore_result=True)
def sweep_outbox() -> int:
    """Beat: e-mails failed past their back-off, stuck in sending, or whose task was lost go again."""
    return services.outbox_sweep()
