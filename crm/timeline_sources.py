"""crm's own kinds of event on a customer's timeline (crm.timeline): orders and invoices (money),
interactions, satisfaction surveys and the changes of the customer's record. Registered by
CrmConfig.ready(); each answers one query per page."""

import itertools

from django.db.models import F, ForeignKey, Window
from django.db.models.functions import Lag
from django.urls import reverse
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.display import day, field_value

from .models import Contact, Customer, Interaction, Invoice, Order, Survey
from .roles import can_see_money, money_field_names
from .timeline import Entry, TimelineSource, register_timeline_source, start_of_day


class OrderSource(TimelineSource):
    kind = "order"
    label = gettext_lazy("Orders")
    money = True
    order = 10

    def entries(self, *, customer, before, limit, user):
        orders = (
            Order.objects.filter(customer=customer)
            .filter(self.date_before_q(before, on="ordered_on"))
            .only("id", "number", "ordered_on", "status", "quantity", "revenue", "delivered_on")
            .order_by("-ordered_on", "-id")[:limit]
        )
        url = reverse("crm:customer_orders", args=[customer.pk])
        return [
            Entry(
                at=start_of_day(order.ordered_on),
                kind=self.kind,
                id=order.pk,
                title=_("Order %(number)s") % {"number": order.number},
                detail=_("%(status)s · quantity %(quantity)s")
                % {"status": order.get_status_display(), "quantity": order.quantity}
                + (_(" · delivered on %(day)s") % {"day": day(order.delivered_on)} if order.delivered_on else ""),
                url=url,
                amount=order.revenue,
            )
            for order in orders
        ]


class InvoiceSource(TimelineSource):
    kind = "invoice"
    label = gettext_lazy("Invoices")
    money = True
    order = 20

    def entries(self, *, customer, before, limit, user):
        invoices = (
            Invoice.objects.filter(customer=customer)
            .filter(self.date_before_q(before, on="issued_on"))
            .order_by("-issued_on", "-id")[:limit]
        )
        return [
            Entry(
                at=start_of_day(invoice.issued_on),
                kind=self.kind,
                id=invoice.pk,
                title=_("Invoice %(number)s") % {"number": invoice.number},
                detail=(
                    _("due on %(due)s · paid on %(paid)s") % {"due": day(invoice.due_on), "paid": day(invoice.paid_on)}
                    if invoice.paid_on
                    else _("due on %(due)s · unpaid") % {"due": day(invoice.due_on)}
                ),
                amount=invoice.amount,
            )
            for invoice in invoices
        ]


class InteractionSource(TimelineSource):
    kind = "interaction"
    label = gettext_lazy("Interactions")
    order = 30

    def entries(self, *, customer, before, limit, user):
        interactions = (
            Interaction.objects.filter(customer=customer)
            .filter(self.date_before_q(before, on="occurred_on"))
            .select_related("by")
            .order_by("-occurred_on", "-id")[:limit]
        )
        return [
            Entry(
                at=start_of_day(interaction.occurred_on),
                kind=self.kind,
                id=interaction.pk,
                title=interaction.get_kind_display(),
                detail=interaction.summary
                + (
                    " · " + _("next follow-up on %(day)s") % {"day": day(interaction.next_follow_up)}
                    if interaction.next_follow_up
                    else ""
                ),
                by=interaction.by.get_username() if interaction.by else "",
            )
            for interaction in interactions
        ]


class SurveySource(TimelineSource):
    kind = "survey"
    label = gettext_lazy("Satisfaction surveys")
    order = 50

    def entries(self, *, customer, before, limit, user):
        surveys = (
            Survey.objects.filter(customer=customer)
            .filter(self.date_before_q(before, on="answered_on"))
            .order_by("-answered_on", "-id")[:limit]
        )
        return [
            Entry(
                at=start_of_day(survey.answered_on),
                kind=self.kind,
                id=survey.pk,
                title=_("Survey answered: %(score)s, %(label)s")
                % {"score": survey.score, "label": survey.get_score_display()},
                detail=survey.comment,
            )
            for survey in surveys
        ]


class CustomerChangeSource(TimelineSource):
    """The customer record's history (django-simple-history): created, then each change with its
    fields from what to what; money fields' values only to roles that see money (a change of them
    alone still shows who made it and when)."""

    kind = "change"
    label = gettext_lazy("Changes to the record")
    order = 90

    def entries(self, *, customer, before, limit, user):
        # One more record than shown: the oldest shown one is diffed against the one before it.
        records = list(
            customer.history.filter(self.before_q(before, at="history_date", id="history_id"))
            .select_related("history_user")
            .order_by("-history_date", "-history_id")[: limit + 1]
        )
        hidden = frozenset() if can_see_money(user) else money_field_names(Customer)
        changes = {}  # history_id -> [(field, old, new)]
        for newer, older in zip(records[:limit], records[1:] + [None], strict=False):
            if older is not None and newer.history_type != "+":
                delta = newer.diff_against(older, excluded_fields=hidden)
                changes[newer.history_id] = [
                    (Customer._meta.get_field(change.field), change.old, change.new) for change in delta.changes
                ]
        shown = _related_names(changes.values())
        entries = []
        for newer in records[:limit]:
            if newer.history_type == "+":
                title, detail = _("Customer created"), ""
            else:  # without an older record: the first record of a customer loaded without history
                title = _("Customer record changed")
                detail = "; ".join(
                    f"{capfirst(field.verbose_name)}: {shown(field, old)} → {shown(field, new)}"
                    for field, old, new in changes.get(newer.history_id, ())
                )
            entries.append(
                Entry(
                    at=newer.history_date,
                    kind=self.kind,
                    id=newer.history_id,
                    title=title,
                    detail=detail,
                    by=newer.history_user.get_username() if newer.history_user else _("system"),
                )
            )
        return entries


class ContactChangeSource(TimelineSource):
    """The customer's contacts' history (django-simple-history): added, edited (which fields from
    what to what), retired, restored. The previous version of each contact is read with LAG in the
    same query (the cursor only cuts off newer versions, so every version keeps its previous one)."""

    kind = "contact"
    label = gettext_lazy("Contacts")
    order = 80
    FIELDS = ("name", "title", "email", "phone", "decision_maker", "retired_at")

    def entries(self, *, customer, before, limit, user):
        by_contact = {"partition_by": [F("id")], "order_by": [F("history_date").asc(), F("history_id").asc()]}
        records = (
            Contact.history.filter(customer_id=customer.pk)
            .filter(self.before_q(before, at="history_date", id="history_id"))
            .annotate(**{f"was_{name}": Window(Lag(name), **by_contact) for name in self.FIELDS})
            .annotate(had_version=Window(Lag("history_id"), **by_contact))
            .select_related("history_user")
            .order_by("-history_date", "-history_id")[:limit]
        )
        entries = []
        for record in records:
            changed = []
            if record.history_type == "+" or record.had_version is None:
                title = _("Contact %(name)s added")
            elif record.history_type == "-":
                title = _("Contact %(name)s removed")
            else:
                if (record.retired_at is None) != (record.was_retired_at is None):
                    title = _("Contact %(name)s retired") if record.retired_at else _("Contact %(name)s restored")
                else:
                    title = _("Contact %(name)s edited")
                for name in self.FIELDS[:-1]:
                    old, new = getattr(record, f"was_{name}"), getattr(record, name)
                    if old != new:
                        field = Contact._meta.get_field(name)
                        changed.append(
                            f"{capfirst(field.verbose_name)}: {field_value(field, old)} → {field_value(field, new)}"
                        )
            entries.append(
                Entry(
                    at=record.history_date,
                    kind=self.kind,
                    id=record.history_id,
                    title=title % {"name": record.name},
                    detail="; ".join(changed),
                    by=record.history_user.get_username() if record.history_user else _("system"),
                )
            )
        return entries


def _related_names(changes):
    """How to show a changed value: a related record by its name, read in one query per related
    model for the whole page (not one per change, as core.display.field_value would)."""
    wanted = {}
    for field, old, new in itertools.chain.from_iterable(changes):
        if isinstance(field, ForeignKey):
            wanted.setdefault(field.related_model, set()).update(v for v in (old, new) if v not in (None, ""))
    names = {model: model._base_manager.in_bulk(ids) for model, ids in wanted.items() if ids}

    def shown(field, value):
        if isinstance(field, ForeignKey) and value not in (None, ""):
            related = names.get(field.related_model, {}).get(value)
            return str(related) if related is not None else f"#{value}"
        return field_value(field, value)

    return shown


def register() -> None:
    """Called by CrmConfig.ready()."""
    for source in (
        OrderSource(),
        InvoiceSource(),
        InteractionSource(),
        SurveySource(),
        ContactChangeSource(),
        CustomerChangeSource(),
    ):
        register_timeline_source(source)
