"""Running totals per customer and month, and the company's monthly revenue (filled by 0009).

The SQL engine reads, per customer, three running-total rows and the orders of a few edge days
instead of twelve to twenty-four monthly rows.
"""

import django.db.models.deletion
from decimal import Decimal
from django.db import migrations, models


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
    ]
