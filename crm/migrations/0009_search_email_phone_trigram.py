"""Trigram indexes on UPPER(email) and UPPER(phone): the one customer search (crm.selectors.customer_search)
also finds customers by email and phone, case-insensitively (`icontains`, which compiles to
`UPPER(col::text) LIKE UPPER(%s)`), and each of its OR-ed tests must be one an index serves, or
PostgreSQL scans every customer. PostgreSQL only; SQLite has no such index type."""

from django.db import migrations

INDEXES = {"customer_email_trgm_idx": "email", "customer_phone_trgm_idx": "phone"}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
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
    dependencies = [("crm", "0008_order_customer_index_in_the_composite")]
    operations = [migrations.RunPython(create, drop)]
