"""The role groups of DESIGN section 2 and their permissions on customer records."""
from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP_PERMISSIONS = {
    "Sales": [
        "view_customer", "change_customer", "export_customer", "view_money",
        "view_contact", "view_interaction", "add_interaction",
        "view_order", "view_invoice", "view_survey", "view_region", "view_industry",
    ],
    # Service reps see contact data and complaint history, never money.
    "Service": ["view_customer", "view_contact", "view_interaction", "view_order", "view_survey", "view_region", "view_industry"],
    # Executives read everything and export; they do not edit records.
    "Executive": [
        "view_customer", "export_customer", "view_money", "view_contact", "view_interaction",
        "view_order", "view_invoice", "view_survey", "view_region", "view_industry",
    ],
}  # fmt: skip


def create_groups(apps, schema_editor):
    # Permissions are normally made after all migrations; make crm's now so groups can hold them.
    crm = apps.get_app_config("crm")
    crm.models_module = True
    create_permissions(crm, apps=apps, verbosity=0)
    crm.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in GROUP_PERMISSIONS.items():
        group, _created = Group.objects.get_or_create(name=name)
        permissions = Permission.objects.filter(content_type__app_label="crm", codename__in=codenames)
        missing = set(codenames) - set(permissions.values_list("codename", flat=True))
        if missing:
            raise RuntimeError(f"Permissions missing for {name}: {sorted(missing)}")
        group.permissions.add(*permissions)


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=GROUP_PERMISSIONS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
