"""ImportJob inherits core.models.Job: `created_by` becomes the `requested_by` every job has (the
column is renamed, its values kept); the uploaded-at label is the jobs' "requested at"."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("exchange", "0002_roles"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RenameField(model_name="importjob", old_name="created_by", new_name="requested_by"),
        migrations.AlterField(
            model_name="importjob",
            name="requested_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="requested by",
            ),
        ),
        migrations.AlterField(
            model_name="importjob",
            name="created_at",
            field=models.DateTimeField(auto_now_add=True, verbose_name="requested at"),
        ),
    ]
