"""Indexes for the sales portfolio's reads of interactions on every view (analytics.reports.portfolio),
named for them. PostgreSQL only (partial and covering indexes); SQLite reads a few rows anyway.

- interaction_follow_up_due_idx: the follow-ups due (`next_follow_up <= Sunday`), read from the index
  alone with the customer and the day they were logged, for the check that no later interaction
  answered them: a bitmap scan of the interactions' rows took most of the page's SQL at 330,000
  interactions (100,000 due).
- interaction_occurred_customer_idx: the interactions logged since the run's as-of date (they take an
  account off the neglected list); without it every view scanned all interactions.
- customer_owner_code_idx: a rep's customers with the code the follow-ups are sorted by, from the
  index alone (18,638 customers' rows were read for it).

Measured on the bench database (100,000 customers, 332,307 interactions, a rep with 18,638): the
follow-ups' query 150-435 ms before, 107-173 ms after (most of what is left is the check per due
follow-up that no later interaction answered it); the interactions since the run 61 ms to 0.04 ms.
"""

from django.db import migrations

INDEXES = {
    "interaction_follow_up_due_idx": (
        "crm_interaction (next_follow_up) INCLUDE (customer_id, occurred_on, id) WHERE next_follow_up IS NOT NULL"
    ),
    "interaction_occurred_customer_idx": "crm_interaction (occurred_on) INCLUDE (customer_id)",
    "customer_owner_code_idx": "crm_customer (owner_id) INCLUDE (id, code)",
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for index, definition in INDEXES.items():
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {index} ON {definition}")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for index in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {index}")


class Migration(migrations.Migration):
    dependencies = [("crm", "0009_search_email_phone_trigram")]
    operations = [migrations.RunPython(create, drop)]
