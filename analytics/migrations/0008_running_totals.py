"""Running totals per customer and month, the company's monthly revenue, and (PostgreSQL) an index
that carries the order figures by day.

The SQL engine reads, per customer, three running-total rows and the orders of a few edge days
instead of twelve to twenty-four monthly rows; the day index answers those edge days from the index
alone. Both tables are filled here from the monthly totals, on PostgreSQL (their only reader).
"""

import django.db.models.deletion
from decimal import Decimal
from django.db import migrations, models

ORDER_DAY_INDEX = (
    "CREATE INDEX IF NOT EXISTS order_day_figures_idx ON crm_order (ordered_on) "
    "INCLUDE (customer_id, status, revenue, cost, service_cost, entry_error, promised_on, delivered_on)"
)


def fill(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    from analytics.totals import company_months_refresh, running_refresh

    schema_editor.execute(ORDER_DAY_INDEX)
    running_refresh()
    company_months_refresh()


def unfill(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS order_day_figures_idx")


class Migration(migrations.Migration):

    dependencies = [
        ('analytics', '0007_reports_permission'),
        ('crm', '0008_order_customer_index_in_the_composite'),
    ]

    operations = [
        migrations.CreateModel(
            name='CompanyMonth',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('month', models.DateField(unique=True)),
                ('revenue', models.DecimalField(decimal_places=2, default=Decimal('0.00'), max_digits=20)),
            ],
        ),
        migrations.CreateModel(
            name='CustomerRunningTotal',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('month', models.DateField()),
                ('revenue', models.DecimalField(decimal_places=2, default=Decimal('0.00'), max_digits=18)),
                ('cost', models.DecimalField(decimal_places=2, default=Decimal('0.00'), max_digits=18)),
                ('service_cost', models.DecimalField(decimal_places=2, default=Decimal('0.00'), max_digits=18)),
                ('orders', models.PositiveIntegerField(default=0)),
                ('error_orders', models.PositiveIntegerField(default=0)),
                ('dated_deliveries', models.PositiveIntegerField(default=0)),
                ('on_time_deliveries', models.PositiveIntegerField(default=0)),
                ('first_order_on', models.DateField()),
                ('last_order_on', models.DateField()),
                ('customer', models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='crm.customer')),
            ],
            options={
                'indexes': [models.Index(fields=['customer', 'month'], name='running_total_customer_month')],
                'constraints': [models.UniqueConstraint(fields=('month', 'customer'), name='running_total_month_customer')],
            },
        ),
        migrations.RunPython(fill, unfill),
    ]
