import django_tables2 as tables
from django.utils.formats import number_format
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from analytics.models import Action, Protection, Quadrant

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


class TierColumn(tables.Column):
    def render(self, value):
        return format_html('<span class="tier tier-{}">{}</span>', value, value)


class CustomerValueTable(CustomerTable):
    """The customer list with the published run's figures (only for roles that see money)."""

    revenue = tables.Column(verbose_name=_("Revenue (12 m)"), attrs={"td": {"class": "num"}, "th": {"class": "num"}})
    profit = tables.Column(verbose_name=_("Profit (12 m)"), attrs={"td": {"class": "num"}, "th": {"class": "num"}})
    score = tables.Column(verbose_name=_("Score"), attrs={"td": {"class": "num"}})
    rank = tables.Column(verbose_name=_("Rank"), attrs={"td": {"class": "num"}})
    tier = TierColumn(verbose_name=_("Tier"))
    quadrant = tables.Column(verbose_name=_("Quadrant"))
    action = tables.Column(verbose_name=_("Action"))
    protection = tables.Column(verbose_name=_("Protection"), orderable=False)

    class Meta(CustomerTable.Meta):
        fields = ("code", "name", "region", "owner", "status", "revenue", "profit", "score", "rank", "tier",
                  "quadrant", "action", "protection")  # fmt: skip
        sequence = fields
        exclude = ("kind", "industry", "since", "growth_potential", "strategic")

    def render_revenue(self, value):
        return number_format(value, 2, force_grouping=True)

    def render_profit(self, value):
        return format_html('<span class="{}">{}</span>', "neg" if value < 0 else "", number_format(value, 2, force_grouping=True))

    def render_score(self, value):
        return number_format(value, 1)

    def render_quadrant(self, value):
        return Quadrant(value).label if value else "—"

    def render_action(self, value):
        return Action(value).label if value else "—"

    def render_protection(self, value):
        return ", ".join(str(Protection(reason).label) for reason in value.split(";") if reason) or "—"


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
