"""Beat tasks of the complaint workflow: thin wrappers around services, safe to run twice."""

from celery import shared_task

from . import selectors, services


@shared_task(name="complaints.mark_sla_breaches")
def mark_sla_breaches() -> dict:
    """Flags breaches and reports what breaches in the next hours (for logs and alerting)."""
    flagged = services.complaint_mark_breaches()
    soon = list(selectors.complaints_breaching_soon().values_list("number", flat=True)[:500])
    told = services.complaint_sla_notify()  # the assignee and the service leads, once each
    return {**flagged, "breaching_soon": soon, "notified": told}


@shared_task(name="complaints.auto_close")
def auto_close() -> int:
    return services.complaint_auto_close()
