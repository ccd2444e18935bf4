"""Write-side operations on customer records. Views, forms and commands call these."""
from django.db import transaction

from .models import Customer, Interaction


def record_update(instance, *, data: dict, by):
    """Apply `data` (field -> value), validate, save, and let the change history record who did it."""
    for field, value in data.items():
        setattr(instance, field, value)
    instance.full_clean()
    instance._history_user = by
    instance.save()
    return instance


@transaction.atomic
def customer_update(*, customer: Customer, data: dict, by) -> Customer:
    """Apply `data` (field -> value) to the customer, validate, save and record who changed it."""
    return record_update(customer, data=data, by=by)


@transaction.atomic
def interaction_create(*, customer: Customer, by, data: dict) -> Interaction:
    """Log a visit, call, email or meeting with the customer, made by `by`."""
    interaction = Interaction(customer=customer, by=by, **data)
    interaction.full_clean()
    interaction.save()
    return interaction
