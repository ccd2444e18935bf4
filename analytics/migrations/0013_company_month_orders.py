"""CompanyMonth.orders: the company's counted orders per month, kept with the revenue (analytics.totals)
so that the complaint KPIs' whole months read 12 rows; filled from the monthly totals (PostgreSQL
only, where the company months are kept)."""

from django.db import migrations, models

# Written out here rather than by analytics.totals, whose code writes the columns of a later model.
COMPANY_MONTHS = (
    "INSERT INTO analytics_companymonth (month, revenue, orders) "
    "SELECT month, sum(revenue), sum(orders) FROM analytics_customermonth GROUP BY month"
)


def fill(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DELETE FROM analytics_companymonth")
    schema_editor.execute(COMPANY_MONTHS)


class Migration(migrations.Migration):
    dependencies = [("analytics", "0012_run_chart_gzipped")]

    operations = [
        migrations.AddField(model_name="companymonth", name="orders", field=models.BigIntegerField(default=0)),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
