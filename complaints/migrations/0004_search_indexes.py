"""Indexes for the top bar's search of complaints (complaints.search.complaint_search): the number's
start, any case (`istartswith`: `UPPER(number::text) LIKE 'CP00%'`, a B-tree with pattern ops), and
the description containing the text: trigrams on UPPER(description) (Latin text, any case) and on
the plain description (Chinese, digits), and its one- and two-character Chinese pieces
(crm_short_grams, crm 0007), which trigrams cannot serve. PostgreSQL only."""

from django.db import migrations

INDEXES = {
    "complaint_number_upper_prefix_idx": ("btree", '(UPPER("number"::text)) text_pattern_ops'),
    "complaint_description_trgm_idx": ("gin", '(UPPER("description"::text)) gin_trgm_ops'),
    "complaint_description_plain_trgm_idx": ("gin", '"description" gin_trgm_ops'),
    "complaint_description_short_grams_idx": ("gin", 'crm_short_grams("description")'),
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for index, (method, expression) in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {index} ON complaints_complaint USING {method} ({expression})"
        )
    schema_editor.execute("ANALYZE complaints_complaint")  # statistics on the new expressions, for the planner


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for index in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {index}")


class Migration(migrations.Migration):
    dependencies = [("complaints", "0003_queue_indexes"), ("crm", "0007_search_short_chinese_grams")]
    operations = [migrations.RunPython(create, drop)]
