import django_tables2 as tables
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from crm.tables import LEAN_TEMPLATE, LeanRowsMixin

from .models import Complaint, Problem


class ComplaintTable(LeanRowsMixin, tables.Table):
    number = tables.Column(linkify=True)
    customer = tables.Column(linkify=True, order_by=("customer__name",))
    assignee = tables.Column(order_by=("assignee__username",), default="—")
    resolution_due_at = tables.DateTimeColumn(verbose_name=_("Resolution due"), short=True)
    sla = tables.Column(
        verbose_name=_("SLA"), empty_values=(), order_by=("resolution_breached", "first_response_breached")
    )

    class Meta:
        model = Complaint
        fields = (
            "number",
            "customer",
            "received_at",
            "severity",
            "category",
            "state",
            "assignee",
            "resolution_due_at",
            "sla",
        )
        attrs = {"class": "table table-complaints"}
        order_by = ("-received_at",)
        empty_text = _("Nothing here. Log a complaint with the button above, or look at another tab.")
        template_name = LEAN_TEMPLATE

    def render_severity(self, record, value):
        return format_html('<span class="badge severity-{}">{}</span>', record.severity, value)

    def render_sla(self, record):
        if record.first_response_breached or record.resolution_breached:
            return format_html('<span class="badge bad">{}</span>', _("Breached"))
        if record.paused_since:
            return format_html('<span class="badge">{}</span>', _("Paused"))
        return format_html('<span class="badge ok">{}</span>', _("On time"))


COMPLAINT_EXPORT_HEADERS = [
    "number",
    "customer",
    "received_at",
    "channel",
    "category",
    "severity",
    "significant",
    "state",
    "assignee",
    "problem",
    "first_response_at",
    "resolved_at",
    "first_response_breached",
    "resolution_breached",
    "reopen_count",
    "description",
]


def complaint_export_rows(queryset):
    for complaint in queryset.iterator(chunk_size=2000):
        yield [
            complaint.number,
            complaint.customer.code,
            complaint.received_at.isoformat(),
            complaint.channel,
            complaint.category,
            complaint.severity,
            "yes" if complaint.significant else "no",
            complaint.state,
            complaint.assignee.username if complaint.assignee else "",
            complaint.problem.title if complaint.problem else "",
            complaint.first_response_at.isoformat() if complaint.first_response_at else "",
            complaint.resolved_at.isoformat() if complaint.resolved_at else "",
            "yes" if complaint.first_response_breached else "no",
            "yes" if complaint.resolution_breached else "no",
            complaint.reopen_count,
            complaint.description,
        ]


class ProblemTable(tables.Table):
    title = tables.Column(linkify=True)
    complaint_count = tables.Column(verbose_name=_("Complaints"), attrs={"td": {"class": "num"}})
    last_received = tables.DateTimeColumn(verbose_name=_("Last complaint"), short=True)

    class Meta:
        model = Problem
        fields = ("title", "category", "complaint_count", "last_received", "created_at")
        attrs = {"class": "table"}
        order_by = ("-last_received",)
        empty_text = _("No problems recorded yet. Record a root cause when you resolve a complaint.")
