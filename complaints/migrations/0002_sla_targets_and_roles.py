"""Default SLA targets per severity, and what each role may do with complaints."""
from django.db import migrations

from crm.role_migrations import grant_permissions, revoke_permissions

SLA_HOURS = {"low": (48, 240), "medium": (24, 120), "high": (8, 48), "critical": (2, 24)}

GROUP_PERMISSIONS = {
    "Service": [
        "view_complaint", "add_complaint", "change_complaint", "work_complaint",
        "view_complaintnote", "add_complaintnote", "view_complainttransition",
        "view_problem", "add_problem", "change_problem", "view_slatarget",
    ],
    "Sales": ["view_complaint", "view_complaintnote", "view_complainttransition", "view_problem", "view_slatarget"],
    "Executive": [
        "view_complaint", "view_complaintnote", "view_complainttransition", "view_problem",
        "view_slatarget", "change_slatarget",
    ],
}


def forwards(apps, schema_editor):
    SlaTarget = apps.get_model("complaints", "SlaTarget")
    for severity, (first, resolution) in SLA_HOURS.items():
        SlaTarget.objects.get_or_create(
            severity=severity, defaults={"first_response_hours": first, "resolution_hours": resolution}
        )
    grant_permissions(apps, "complaints", GROUP_PERMISSIONS)


def backwards(apps, schema_editor):
    apps.get_model("complaints", "SlaTarget").objects.all().delete()
    revoke_permissions(apps, "complaints", GROUP_PERMISSIONS)


class Migration(migrations.Migration):
    dependencies = [("complaints", "0001_initial"), ("crm", "0002_roles")]
    operations = [migrations.RunPython(forwards, backwards)]
