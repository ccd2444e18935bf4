import django_tables2 as tables
from django.utils.translation import gettext_lazy as _

from .models import Customer, Order


class CustomerTable(tables.Table):
    code = tables.Column(linkify=True)
    name = tables.Column(linkify=True)
    industry = tables.Column(order_by=("industry__name",))
    region = tables.Column(order_by=("region__name",))
    owner = tables.Column(order_by=("owner__username",))
    strategic = tables.BooleanColumn()

    class Meta:
        model = Customer
        fields = ("code", "name", "kind", "industry", "region", "owner", "status", "since", "growth_potential", "strategic")
        attrs = {"class": "table table-customers"}
        empty_text = _("No customer matches these filters. Clear a filter or search for another code or name.")
        order_by = ("name",)


class OrderTable(tables.Table):
    class Meta:
        model = Order
        fields = ("number", "ordered_on", "status", "quantity", "promised_on", "delivered_on", "entry_error")
        attrs = {"class": "table"}
        empty_text = _("No orders yet.")


class OrderMoneyTable(OrderTable):
    revenue = tables.Column(attrs={"td": {"class": "num"}})
    cost = tables.Column(attrs={"td": {"class": "num"}})
    service_cost = tables.Column(attrs={"td": {"class": "num"}})

    class Meta(OrderTable.Meta):
        fields = OrderTable.Meta.fields[:3] + ("revenue", "cost", "service_cost") + OrderTable.Meta.fields[3:]
