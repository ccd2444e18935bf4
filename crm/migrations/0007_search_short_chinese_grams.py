"""A GIN index on the one- and two-character pieces of each name that hold a non-ASCII character,
for searching one or two Chinese characters: pg_trgm cannot use its index for a term shorter than
three characters, so such a search scanned all 100,000 names twice (count and page, ~40 ms each).
See crm.filters.contains_text. PostgreSQL only."""
from django.db import migrations

FUNCTION = r"""
CREATE OR REPLACE FUNCTION crm_short_grams(value text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT coalesce(array_agg(DISTINCT gram), '{}')
    FROM (
        SELECT substr(value, i, size) AS gram
        FROM generate_series(1, char_length(value)) AS i, (VALUES (1), (2)) AS sizes(size)
        WHERE i + size - 1 <= char_length(value)
    ) AS grams
    WHERE gram ~ '[^\x01-\x7f]'
$$
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FUNCTION)
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS customer_name_short_grams_idx ON crm_customer USING gin (crm_short_grams(name))"
    )
    schema_editor.execute("ANALYZE crm_customer")  # statistics on the new expression, for the planner


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX IF EXISTS customer_name_short_grams_idx")
    schema_editor.execute("DROP FUNCTION IF EXISTS crm_short_grams(text)")


class Migration(migrations.Migration):
    dependencies = [("crm", "0006_churn_reason_label")]
    operations = [migrations.RunPython(create, drop)]
