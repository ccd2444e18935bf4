"""The role groups of DESIGN section 2 and their permissions on customer records."""
from django.db import migrations

from crm.role_migrations import grant_permissions

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
}


def create_groups(apps, schema_editor):
    grant_permissions(apps, "crm", GROUP_PERMISSIONS)


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=GROUP_PERMISSIONS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
