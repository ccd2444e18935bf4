"""crm's kinds in the top bar's search (core.search): customers and their contacts.

Customers are found by the one customer search (crm.selectors.customer_search: code, name, email,
phone, Chinese names as the customer list searches them), so the group and "see all" in the list
show the same customers. Contacts by name, email or phone; retired contacts are left out. Neither
shows money: every role reads the search page.
"""

from urllib.parse import urlencode

from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.search import Hit, SearchProvider, register_search_provider

from .models import Contact, Customer
from .selectors import contains_text, customer_list, customer_search


def _person(user) -> str:
    return (user.get_full_name() or user.get_username()) if user else ""


def contact_search(*, text: str, using: str = "default") -> QuerySet[Contact]:
    """The contacts (not retired) whose name, email or phone contains `text`, with their customers,
    by name. Case-insensitive for Latin letters; a one- or two-character Chinese name fragment is
    first narrowed by the name's short grams on PostgreSQL (crm 0013's indexes serve each test)."""
    condition = contains_text(text, text_fields=["name"], code_fields=[], gram_fields=["name"], using=using)
    if text.isascii():
        condition |= Q(email__icontains=text) | Q(phone__icontains=text)
    return (
        Contact.objects.using(using)
        .filter(condition, retired_at__isnull=True)
        .select_related("customer")
        .order_by("name", "pk")
    )


class CustomerSearch(SearchProvider):
    kind = "customers"
    label = _("Customers")
    permission = "crm.view_customer"
    order = 10

    def matches(self, *, text, user):
        # The customer list's rows without figures (no money), searched as the list searches them.
        return customer_search(customer_list(), text).order_by("name", "pk")

    def hit(self, customer: Customer) -> Hit:
        parts = [customer.get_status_display(), _person(customer.owner), str(customer.region or "")]
        return Hit(
            title=f"{customer.code} {customer.name}",
            url=customer.get_absolute_url(),
            detail=" · ".join(part for part in parts if part),
        )

    def see_all(self, *, text):
        return f"{reverse('crm:customer_list')}?{urlencode({'q': text})}", gettext("See them all in the customer list")


class ContactSearch(SearchProvider):
    kind = "contacts"
    label = _("Contacts")
    permission = "crm.view_contact"
    order = 20

    def matches(self, *, text, user):
        return contact_search(text=text)

    def hit(self, contact: Contact) -> Hit:
        customer = contact.customer
        parts = [contact.title, f"{customer.code} {customer.name}", contact.email, contact.phone]
        return Hit(
            title=contact.name,
            url=f"{customer.get_absolute_url()}#contact-{contact.pk}",  # the contact's row on the customer page
            detail=" · ".join(part for part in parts if part),
        )


def register() -> None:
    register_search_provider(CustomerSearch())
    register_search_provider(ContactSearch())
