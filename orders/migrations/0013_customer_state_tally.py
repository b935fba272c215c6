"""Orders counted and summed by customer, state and submission, kept by a trigger on the orders table (issue 14).

See :class:`orders.models.CustomerStateTally` and, for the pattern, ``orders/0011``: the trigger appends a row of
(+1, +total) for what an insert or update leaves and one of (-1, -total) for what an update or delete takes away,
only when the state, the customer, the total or whether the order is submitted changes; the existing orders are
summed once here; the beat task of 0011 folds these rows too (:func:`orders.services.compact_state_tallies`).
PostgreSQL and SQLite each get their own trigger syntax.
"""

import django.db.models.deletion
from django.db import migrations, models

TABLE = "orders_customerstatetally"
COLUMNS = "customer_id, state, submitted, n, amount"
CHANGED = ("state", "customer_id", "total_amount")  # and whether submitted_at is set

POSTGRESQL = [
    f"""
    CREATE FUNCTION orders_order_customer_tally() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP IN ('UPDATE', 'DELETE') THEN
            INSERT INTO {TABLE} ({COLUMNS})
            VALUES (OLD.customer_id, OLD.state, OLD.submitted_at IS NOT NULL, -1, -OLD.total_amount);
        END IF;
        IF TG_OP IN ('UPDATE', 'INSERT') THEN
            INSERT INTO {TABLE} ({COLUMNS})
            VALUES (NEW.customer_id, NEW.state, NEW.submitted_at IS NOT NULL, 1, NEW.total_amount);
        END IF;
        RETURN NULL;
    END $$
    """,
    "CREATE TRIGGER orders_order_customer_tally_write AFTER INSERT OR DELETE ON orders_order "
    "FOR EACH ROW EXECUTE FUNCTION orders_order_customer_tally()",
    f"CREATE TRIGGER orders_order_customer_tally_update AFTER UPDATE OF {', '.join(CHANGED)}, submitted_at "
    f"ON orders_order FOR EACH ROW WHEN ({' OR '.join(f'OLD.{c} IS DISTINCT FROM NEW.{c}' for c in CHANGED)} "
    "OR (OLD.submitted_at IS NULL) IS DISTINCT FROM (NEW.submitted_at IS NULL)) "
    "EXECUTE FUNCTION orders_order_customer_tally()",
]
POSTGRESQL_DROP = [
    "DROP TRIGGER IF EXISTS orders_order_customer_tally_write ON orders_order",
    "DROP TRIGGER IF EXISTS orders_order_customer_tally_update ON orders_order",
    "DROP FUNCTION IF EXISTS orders_order_customer_tally()",
]
_OLD = "(OLD.customer_id, OLD.state, OLD.submitted_at IS NOT NULL, -1, -OLD.total_amount)"
_NEW = "(NEW.customer_id, NEW.state, NEW.submitted_at IS NOT NULL, 1, NEW.total_amount)"
SQLITE = [
    f"CREATE TRIGGER orders_order_customer_tally_insert AFTER INSERT ON orders_order BEGIN "
    f"INSERT INTO {TABLE} ({COLUMNS}) VALUES {_NEW}; END",
    f"CREATE TRIGGER orders_order_customer_tally_delete AFTER DELETE ON orders_order BEGIN "
    f"INSERT INTO {TABLE} ({COLUMNS}) VALUES {_OLD}; END",
    f"CREATE TRIGGER orders_order_customer_tally_update AFTER UPDATE OF {', '.join(CHANGED)}, submitted_at "
    f"ON orders_order WHEN {' OR '.join(f'OLD.{c} IS NOT NEW.{c}' for c in CHANGED)} "
    f"OR (OLD.submitted_at IS NULL) IS NOT (NEW.submitted_at IS NULL) BEGIN "
    f"INSERT INTO {TABLE} ({COLUMNS}) VALUES {_OLD}, {_NEW}; END",
]
SQLITE_DROP = [f"DROP TRIGGER IF EXISTS orders_order_customer_tally_{op}" for op in ("insert", "delete", "update")]


def create_trigger(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor not in ("postgresql", "sqlite"):
        raise RuntimeError(f"orders/0013: no tally trigger for {vendor}")
    for sql in POSTGRESQL if vendor == "postgresql" else SQLITE:
        schema_editor.execute(sql)
    # the orders already there, summed once (in the migration's transaction, with the trigger in place)
    schema_editor.execute(
        f"INSERT INTO {TABLE} ({COLUMNS}) "
        "SELECT customer_id, state, submitted_at IS NOT NULL, COUNT(*), SUM(total_amount) FROM orders_order "
        "GROUP BY customer_id, state, submitted_at IS NOT NULL"
    )


def drop_trigger(apps, schema_editor):
    for sql in POSTGRESQL_DROP if schema_editor.connection.vendor == "postgresql" else SQLITE_DROP:
        schema_editor.execute(sql)



class Migration(migrations.Migration):

    dependencies = [
        ('orders', '0012_customer_exposure'),
    ]

    operations = [
        migrations.CreateModel(
            name='CustomerStateTally',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('state', models.CharField(max_length=20)),
                ('submitted', models.BooleanField()),
                ('n', models.IntegerField()),
                ('amount', models.DecimalField(decimal_places=2, max_digits=18)),
                ('customer', models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='orders.customer')),
            ],
            options={
                'verbose_name': 'order total by customer and state',
                'verbose_name_plural': 'order totals by customer and state',
                'indexes': [models.Index(fields=['customer', 'state'], name='customer_state_tally')],
            },
        ),
        migrations.RunPython(create_trigger, drop_trigger),
    ]
