"""The portfolio's reads of interactions have their indexes on PostgreSQL (crm migration 0010), and
the planner takes them: the follow-ups due read from the partial covering index alone, the
interactions since a day through the day's index."""

import datetime

import pytest
from django.db import connection, transaction

from tests.factories import CustomerFactory, InteractionFactory

pytestmark = [
    # VACUUM (it cannot run in a transaction) sets the visibility map, as autovacuum does on a live
    # database: only then is an index-only scan the planner's choice, whatever ran before. Serialized
    # rollback, as every transactional test here: the flush after it then leaves the migrations' rows
    # to be put back from the serialized copy, instead of making content types again that the next
    # serialized test would load a second time.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.postgres,  # PostgreSQL's indexes (deselected on SQLite, never skipped)
]


def plan(sql: str) -> str:
    with transaction.atomic(), connection.cursor() as cursor:  # SET LOCAL lasts for this transaction
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute(f"EXPLAIN {sql}")
        return "\n".join(row[0] for row in cursor.fetchall())


def test_the_portfolio_reads_interactions_through_their_indexes():
    customer = CustomerFactory()
    for day in range(1, 20):
        InteractionFactory(
            customer=customer,
            occurred_on=datetime.date(2026, 11, day),
            next_follow_up=datetime.date(2026, 12, day) if day % 2 else None,
        )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) crm_interaction")
    due = plan(
        "SELECT customer_id, occurred_on FROM crm_interaction "
        "WHERE next_follow_up IS NOT NULL AND next_follow_up <= '2026-12-06'"
    )
    assert "Index Only Scan using interaction_follow_up_due_idx" in due
    since = plan("SELECT customer_id FROM crm_interaction WHERE occurred_on > '2026-11-15'")
    assert "Index Only Scan using interaction_occurred_customer_idx" in since
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) crm_customer")
    owned = plan(f"SELECT id, code FROM crm_customer WHERE owner_id = {customer.owner_id or 0}")
    assert "Index Only Scan using customer_owner_code_idx" in owned
