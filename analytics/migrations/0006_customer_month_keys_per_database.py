"""CustomerMonth's unique key on every database; the covering indexes only where they exist.

0005 declared the unique key and the month index with INCLUDE columns. PostgreSQL builds them as
covering indexes; SQLite cannot, and Django then creates no unique constraint at all there (and warns
on every command). From here the model declares the plain unique key; PostgreSQL keeps 0005's
covering versions under the same names, and other databases get the plain unique index.
"""
from django.db import migrations, models

COLUMNS = "analytics_customermonth (customer_id, month)"


def plain_unique_key_elsewhere(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        schema_editor.execute(f"CREATE UNIQUE INDEX IF NOT EXISTS customer_month_unique ON {COLUMNS}")


def drop_plain_unique_key(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS customer_month_unique")


class Migration(migrations.Migration):
    dependencies = [("analytics", "0005_run_reads_from_indexes")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveConstraint(model_name="customermonth", name="customer_month_unique"),
                migrations.RemoveIndex(model_name="customermonth", name="customer_month_month_idx"),
                migrations.AddConstraint(
                    model_name="customermonth",
                    constraint=models.UniqueConstraint(fields=("customer", "month"), name="customer_month_unique"),
                ),
            ],
            database_operations=[migrations.RunPython(plain_unique_key_elsewhere, drop_plain_unique_key)],
        ),
    ]
