"""Indexes for the top bar's search of contacts (crm.search.contact_search): name, email and phone
contain the text. Each OR-ed test is one an index serves, or PostgreSQL scans every contact: trigrams
on UPPER(name), UPPER(email), UPPER(phone) (icontains compiles to `UPPER(col::text) LIKE UPPER(%s)`),
on the plain name (text without cased letters, Chinese or digits, is matched as it is), and the
name's one- and two-character Chinese pieces (crm_short_grams, crm 0007), which trigrams cannot
serve. PostgreSQL only; SQLite has no such index type."""

from django.db import migrations

INDEXES = {
    "contact_name_trgm_idx": '(UPPER("name"::text)) gin_trgm_ops',
    "contact_name_plain_trgm_idx": '"name" gin_trgm_ops',
    "contact_email_trgm_idx": '(UPPER("email"::text)) gin_trgm_ops',
    "contact_phone_trgm_idx": '(UPPER("phone"::text)) gin_trgm_ops',
    "contact_name_short_grams_idx": 'crm_short_grams("name")',
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for index, expression in INDEXES.items():
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {index} ON crm_contact USING gin ({expression})")
    schema_editor.execute("ANALYZE crm_contact")  # statistics on the new expressions, for the planner


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for index in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {index}")


class Migration(migrations.Migration):
    dependencies = [("crm", "0012_contact_history")]
    operations = [migrations.RunPython(create, drop)]
