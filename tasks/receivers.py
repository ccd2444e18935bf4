"""An interaction's "next follow-up" date becomes a follow-up (connected in TasksConfig.ready():
crm, below tasks, knows nothing of them)."""

from django.db.models.signals import post_save
from django.dispatch import receiver

from crm.models import Interaction

from .services import task_from_interaction


@receiver(post_save, sender=Interaction, dispatch_uid="tasks.interaction_follow_up")
def interaction_follow_up(sender, instance: Interaction, raw=False, **kwargs):
    if raw or instance.next_follow_up is None:
        return
    task_from_interaction(interaction=instance)
