"""Default SLA targets per severity, and what each role may do with complaints."""
from django.contrib.auth.management import create_permissions
from django.db import migrations

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
}  # fmt: skip


def forwards(apps, schema_editor):
    SlaTarget = apps.get_model("complaints", "SlaTarget")
    for severity, (first, resolution) in SLA_HOURS.items():
        SlaTarget.objects.get_or_create(
            severity=severity, defaults={"first_response_hours": first, "resolution_hours": resolution}
        )
    app = apps.get_app_config("complaints")
    app.models_module = True
    create_permissions(app, apps=apps, verbosity=0)
    app.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in GROUP_PERMISSIONS.items():
        group, _created = Group.objects.get_or_create(name=name)
        permissions = Permission.objects.filter(content_type__app_label="complaints", codename__in=codenames)
        missing = set(codenames) - set(permissions.values_list("codename", flat=True))
        if missing:
            raise RuntimeError(f"Permissions missing for {name}: {sorted(missing)}")
        group.permissions.add(*permissions)


def backwards(apps, schema_editor):
    apps.get_model("complaints", "SlaTarget").objects.all().delete()
    Permission = apps.get_model("auth", "Permission")
    for group in apps.get_model("auth", "Group").objects.filter(name__in=GROUP_PERMISSIONS):
        group.permissions.remove(*Permission.objects.filter(content_type__app_label="complaints"))


class Migration(migrations.Migration):
    dependencies = [("complaints", "0001_initial"), ("crm", "0002_roles")]
    operations = [migrations.RunPython(forwards, backwards)]
