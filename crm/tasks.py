"""Background tasks of the customer records app."""

from celery import shared_task
from django.db import connection

from .models import Customer


@shared_task(name="crm.health_check")
def health_check() -> dict:
    """Proves a worker is alive and reads the same database as the web: used by probes and CI."""
    return {"customers": Customer.objects.count(), "database": connection.vendor}
