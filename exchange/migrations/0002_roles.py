"""Executives import files (admins can do everything); no other role may."""
from django.db import migrations

from crm.role_migrations import grant_permissions, revoke_permissions

GROUP_PERMISSIONS = {"Executive": ["import_data", "view_importjob", "add_importjob"]}


def forwards(apps, schema_editor):
    grant_permissions(apps, "exchange", GROUP_PERMISSIONS)


def backwards(apps, schema_editor):
    revoke_permissions(apps, "exchange", GROUP_PERMISSIONS)


class Migration(migrations.Migration):
    dependencies = [("exchange", "0001_initial"), ("crm", "0002_roles")]
    operations = [migrations.RunPython(forwards, backwards)]
