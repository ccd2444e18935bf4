"""Fills the running totals and company months of migration 0008 from the monthly totals, and adds
(PostgreSQL) the index that carries the order figures by day; PostgreSQL only, their only reader.
A migration of its own: 0008's indexes exist only once that migration has ended, and a whole
refresh rebuilds them.
"""
from django.db import migrations

ORDER_DAY_INDEX = (
    "CREATE INDEX IF NOT EXISTS order_day_figures_idx ON crm_order (ordered_on) "
    "INCLUDE (customer_id, status, revenue, cost, service_cost, entry_error, promised_on, delivered_on)"
)


# The company months as they were then (revenue only: 0013 adds and fills the orders), written out
# here rather than by analytics.totals, whose code writes the columns of today's model.
COMPANY_MONTHS = (
    "INSERT INTO analytics_companymonth (month, revenue) "
    "SELECT month, sum(revenue) FROM analytics_customermonth GROUP BY month"
)


def fill(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    from analytics.totals import running_refresh

    schema_editor.execute(ORDER_DAY_INDEX)
    running_refresh()
    schema_editor.execute("DELETE FROM analytics_companymonth")
    schema_editor.execute(COMPANY_MONTHS)


def unfill(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS order_day_figures_idx")


class Migration(migrations.Migration):
    dependencies = [("analytics", "0008_running_totals")]

    operations = [migrations.RunPython(fill, unfill)]
