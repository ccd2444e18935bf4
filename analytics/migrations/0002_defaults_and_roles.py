"""The default cost model, scoring model (DESIGN section 5) and tier rules; who may see and start runs."""
from django.db import migrations

from crm.role_migrations import grant_permissions, revoke_permissions

GROUP_PERMISSIONS = {
    # Executives read every run, start runs and set the models; they never edit records.
    "Executive": [
        "view_analysisrun", "start_run", "view_customerresult", "view_runchart",
        "view_costmodel", "add_costmodel", "view_scoringmodel", "add_scoringmodel",
        "view_tierrules", "add_tierrules",
    ],
    # Sales see profit and tier of every customer. Service sees no money, so no results at all.
    "Sales": ["view_analysisrun", "view_customerresult", "view_runchart"],
}


def forwards(apps, schema_editor):
    apps.get_model("analytics", "CostModel").objects.create()
    apps.get_model("analytics", "ScoringModel").objects.create(
        factors=[["profit", 35], ["revenue", 25], ["payment", 20], ["growth", 20]]
    )
    apps.get_model("analytics", "TierRules").objects.create(core_pct=20, key_pct=50)
    grant_permissions(apps, "analytics", GROUP_PERMISSIONS)


def backwards(apps, schema_editor):
    revoke_permissions(apps, "analytics", GROUP_PERMISSIONS)


class Migration(migrations.Migration):
    dependencies = [("analytics", "0001_initial"), ("crm", "0002_roles")]
    operations = [migrations.RunPython(forwards, backwards)]
