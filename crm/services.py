"""Write-side operations on customer records. Views, forms and commands call these."""
from django.db import transaction

from .models import Customer, Interaction


@transaction.atomic
def customer_update(*, customer: Customer, data: dict, by) -> Customer:
    """Apply `data` (field -> value) to the customer, validate, save and record who changed it."""
    for field, value in data.items():
        setattr(customer, field, value)
    customer.full_clean()
    customer._history_user = by
    customer.save()
    return customer


@transaction.atomic
def interaction_create(*, customer: Customer, by, data: dict) -> Interaction:
    """Log a visit, call, email or meeting with the customer, made by `by`."""
    interaction = Interaction(customer=customer, by=by, **data)
    interaction.full_clean()
    interaction.save()
    return interaction
