"""On PostgreSQL, trigram indexes make `code/name contains text` fast at 100,000+ customers.

Django's icontains compiles to `UPPER(col::text) LIKE UPPER(%s)`, so the indexes are on UPPER(col).
SQLite has no such index type; there the operation does nothing.
"""
from django.db import migrations

INDEXES = {
    "customer_name_trgm_idx": "name",
    "customer_code_trgm_idx": "code",
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for index, column in INDEXES.items():
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS {index} ON crm_customer USING gin ((UPPER("{column}"::text)) gin_trgm_ops)'
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for index in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {index}")


class Migration(migrations.Migration):
    dependencies = [("crm", "0002_roles")]
    operations = [migrations.RunPython(create, drop)]
