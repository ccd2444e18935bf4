"""Trigram indexes on the plain code and name columns, for searches without cased letters (Chinese,
digits), which match case-sensitively (see CustomerFilter.search). PostgreSQL only."""
from django.db import migrations

INDEXES = {"customer_name_plain_trgm_idx": "name", "customer_code_plain_trgm_idx": "code"}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for index, column in INDEXES.items():
        schema_editor.execute(f'CREATE INDEX IF NOT EXISTS {index} ON crm_customer USING gin ("{column}" gin_trgm_ops)')


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for index in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {index}")


class Migration(migrations.Migration):
    dependencies = [("crm", "0004_survey_complaint")]
    operations = [migrations.RunPython(create, drop)]
