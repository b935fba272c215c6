"""Drop the orders table's single-column indexes on ``assistant``, ``customer`` and ``state`` (issue 14).

The composite indexes (assistant, state), (customer, state) and (state, promised date) serve every lookup those
did; each index is written on every insert of an order and every change of its state. The state's
``varchar_pattern_ops`` twin (PostgreSQL, for ``LIKE`` on the state) served nothing.

The indexes are dropped by name as the database reports them, not by altering the fields: on SQLite Django alters a
field by rebuilding the table, which would drop the triggers that keep the tallies (``orders/0011``, ``0012``,
``0013``, ``supervision/0003``). The fields' state changes with ``SeparateDatabaseAndState``.
"""

import django.db.models.deletion
import django_fsm
from django.conf import settings
from django.db import migrations, models

COLUMNS = ("assistant_id", "customer_id", "state")


def _single_column_indexes(schema_editor, table):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    return [name for name, info in constraints.items()
            if info.get("index") and not info.get("unique") and not info.get("primary_key")
            and len(info.get("columns") or ()) == 1 and info["columns"][0] in COLUMNS]


def drop_indexes(apps, schema_editor):
    model = apps.get_model("orders", "Order")
    quote = schema_editor.quote_name
    for name in _single_column_indexes(schema_editor, model._meta.db_table):
        schema_editor.execute(f"DROP INDEX IF EXISTS {quote(name)}")


def create_indexes(apps, schema_editor):
    model = apps.get_model("orders", "Order")
    table = model._meta.db_table
    for column in COLUMNS:
        name = schema_editor._create_index_name(table, [column])
        schema_editor.execute(f"CREATE INDEX {schema_editor.quote_name(name)} ON {schema_editor.quote_name(table)} "
                              f"({schema_editor.quote_name(column)})")


class Migration(migrations.Migration):

    dependencies = [
        ('orders', '0013_customer_state_tally'),
        ('supervision', '0003_kpi_rollup'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='order',
                    name='assistant',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='assisted_orders', to=settings.AUTH_USER_MODEL, verbose_name='assistant'),
                ),
                migrations.AlterField(
                    model_name='order',
                    name='customer',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='orders', to='orders.customer', verbose_name='customer'),
                ),
                migrations.AlterField(
                    model_name='order',
                    name='state',
                    field=django_fsm.FSMField(choices=[('received', 'Received'), ('reviewed', 'Reviewed'), ('scheduled', 'Scheduled'), ('producing', 'Producing'), ('shipped', 'Shipped'), ('accepted', 'Accepted'), ('settled', 'Settled'), ('cancelled', 'Cancelled')], default='received', max_length=50, protected=True, verbose_name='state'),
                ),
            ],
            database_operations=[migrations.RunPython(drop_indexes, create_indexes)],
        ),
    ]
