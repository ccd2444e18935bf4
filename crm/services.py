"""Write-side operations on customer records. Views, forms and commands call these."""

from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.records import history_change_entries, record_update

from .models import Contact, Customer, Interaction
from .selectors import sales_reps
from .signals import customer_owners_changed

__all__ = [
    "contact_create",
    "contact_restore",
    "contact_retire",
    "contact_update",
    "customer_update",
    "customers_reassign_owner",
    "interaction_create",
    "record_update",
]


@transaction.atomic
def customer_update(*, customer: Customer, data: dict, by) -> list[str]:
    """Applies `data` (field -> value) to the customer and returns the fields that changed.

    Only changed fields are saved, with a history entry naming `by`; a save that changes nothing
    writes nothing, not even a history entry (core.records.record_update). A new owner is told to
    the apps that keep figures per owner once it commits (crm.signals.customer_owners_changed).
    """
    changed = record_update(customer, data=data, by=by)
    if "owner" in changed:
        customer_ids, owner_ids = [customer.pk], {customer.owner_id} - {None}
        transaction.on_commit(
            lambda: customer_owners_changed.send(sender=Customer, customer_ids=customer_ids, owner_ids=owner_ids)
        )
    return changed


@transaction.atomic
def interaction_create(*, customer: Customer, by, data: dict) -> Interaction:
    """Log a visit, call, email or meeting with the customer, made by `by`."""
    interaction = Interaction(customer=customer, by=by, **data)
    interaction.full_clean()
    interaction.save()
    return interaction


@transaction.atomic
def contact_create(*, customer: Customer, data: dict, by) -> Contact:
    """Adds a contact (name, title, email, phone, decision maker) to the customer; its history's
    first entry ("Created") names `by`."""
    contact = Contact(customer=customer, **data)
    contact.full_clean()
    contact._history_user = by
    contact.save()
    return contact


def _locked(contact: Contact) -> Contact:
    """The contact as stored now, its row locked until the transaction ends: a concurrent edit,
    retirement or restore waits, and then works on what this one wrote."""
    return Contact.objects.select_for_update().get(pk=contact.pk)


@transaction.atomic
def contact_update(*, contact: Contact, data: dict, by) -> list[str]:
    """Applies `data` (field -> value) to the contact and returns the fields that changed.

    The row is locked and read again, and only the fields whose value differs from the stored one
    are saved (a concurrent edit of other fields survives), with a history entry naming `by`; when
    nothing differs nothing is saved and the history gets no entry.
    """
    stored = _locked(contact)
    changed = record_update(stored, data=data, by=by)
    for name in [*changed, "updated_at"]:
        setattr(contact, name, getattr(stored, name))
    return changed


@transaction.atomic
def contact_retire(*, contact: Contact, by) -> bool:
    """Retires the contact (kept for the record, out of pickers and e-mails); False, with nothing
    written, when it already was."""
    return _set_retired(contact, when=timezone.now(), by=by)


@transaction.atomic
def contact_restore(*, contact: Contact, by) -> bool:
    """Makes a retired contact current again; False, with nothing written, when it was not retired."""
    return _set_retired(contact, when=None, by=by)


def _set_retired(contact: Contact, *, when, by) -> bool:
    stored = _locked(contact)
    if (stored.retired_at is None) == (when is None):
        contact.retired_at = stored.retired_at
        return False
    stored.retired_at = when
    stored._history_user = by
    stored.save(update_fields=["retired_at", "updated_at"])
    contact.retired_at, contact.updated_at = stored.retired_at, stored.updated_at
    return True


BULK_CHUNK = 5_000  # ids per statement: PostgreSQL takes at most 65,535 parameters in one
REASSIGN_REASON = "Bulk reassignment"  # stored in each history entry, in English like every stored value


class ReassignError(ValidationError):
    """A refused bulk reassignment; its message is meant for the user. Nothing was changed."""


@dataclass(frozen=True)
class Reassigned:
    changed: int  # customers that went to the new owner, each with one history entry
    already: int  # customers the new owner had already (left as they were, no history entry)


def customers_reassign_owner(*, customer_ids, owner, by, reselect: Callable[[], list[int]] | None = None) -> Reassigned:
    """Gives the customers of `customer_ids` to `owner` (an active sales rep), all or none.

    One transaction: the rows are locked in id order (two reassignments of overlapping sets wait
    for each other instead of deadlocking), an unknown id refuses the whole batch, and only the
    owner (and `updated_at`) is written, by one UPDATE per 5,000 customers, with one history entry
    per customer that changed, naming `by` (core.records.history_change_entries). Customers already
    owned by `owner` are left alone. Apps that keep figures per owner are told once it commits
    (crm.signals.customer_owners_changed).

    `reselect` (the ids a filter selects now): called once the rows are locked; when it finds other
    customers than `customer_ids` (one changed meanwhile), the whole batch is refused.
    """
    ids = sorted({int(pk) for pk in customer_ids})
    if not ids:
        raise ReassignError(_("No customer is selected."))
    if owner is None or not sales_reps().filter(pk=owner.pk).exists():
        raise ReassignError(_("Customers can only be given to an active sales rep."))
    with transaction.atomic():
        found = {}
        for chunk in _chunks(ids):
            locked = Customer.objects.select_for_update().filter(pk__in=chunk).order_by("pk")
            found.update(locked.values_list("pk", "owner_id"))
        missing = [pk for pk in ids if pk not in found]
        if missing:
            raise ReassignError(
                _(
                    "%(count)s of the selected customers no longer exist (ids %(ids)s); nothing was reassigned. "
                    "Go back to the list and select them again."
                ),
                params={"count": len(missing), "ids": ", ".join(map(str, missing[:10]))},
            )
        if reselect is not None:
            now_selected = sorted(set(reselect()))
            if now_selected != ids:
                raise ReassignError(
                    _(
                        "The selection changed while it was being reassigned: %(then)s customers then, %(now)s now. "
                        "Nothing was reassigned; check the selection and confirm again."
                    ),
                    params={"then": len(ids), "now": len(now_selected)},
                )
        changed = [pk for pk in ids if found[pk] != owner.pk]
        now = timezone.now()
        for chunk in _chunks(changed):
            Customer.objects.filter(pk__in=chunk).update(owner=owner, updated_at=now)
            history_change_entries(Customer, pks=chunk, by=by, reason=REASSIGN_REASON)
        if changed:
            old_owners = {found[pk] for pk in changed} - {None}
            transaction.on_commit(
                lambda: customer_owners_changed.send(
                    sender=Customer, customer_ids=changed, owner_ids=old_owners | {owner.pk}
                )
            )
    return Reassigned(changed=len(changed), already=len(ids) - len(changed))


def _chunks(ids: list[int]):
    for start in range(0, len(ids), BULK_CHUNK):
        yield ids[start : start + BULK_CHUNK]
