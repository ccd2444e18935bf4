"""Write-side operations on customer records. Views, forms and commands call these."""

from django.db import transaction

from core.records import record_update

from .models import Customer, Interaction

__all__ = ["customer_update", "interaction_create", "record_update"]


@transaction.atomic
def customer_update(*, customer: Customer, data: dict, by) -> list[str]:
    """Applies `data` (field -> value) to the customer and returns the fields that changed.

    Only changed fields are saved, with a history entry naming `by`; a save that changes nothing
    writes nothing, not even a history entry (core.records.record_update).
    """
    return record_update(customer, data=data, by=by)


@transaction.atomic
def interaction_create(*, customer: Customer, by, data: dict) -> Interaction:
    """Log a visit, call, email or meeting with the customer, made by `by`."""
    interaction = Interaction(customer=customer, by=by, **data)
    interaction.full_clean()
    interaction.save()
    return interaction
