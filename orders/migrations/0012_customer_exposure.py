"""Each customer's open exposure, kept by triggers on the orders and the invoices (issue 14).

See :class:`orders.models.CustomerExposure`. The open states are written into the triggers as they stand in
``orders.models.OPEN_APPROVED_STATES`` today (a migration that changes that list must rewrite the triggers;
``tests/orders/test_customer_exposure.py`` compares the kept figure with the live one after every kind of write).
The existing exposures are added up once here. PostgreSQL and SQLite each get their own trigger syntax.
"""

from django.db import migrations, models

TABLE = "orders_customerexposure"
OPEN = "('reviewed', 'scheduled', 'producing', 'shipped', 'accepted')"
PAID = "COALESCE((SELECT SUM(i.paid_amount) FROM finance_invoice i WHERE i.order_id = {ref}.id), 0)"

POSTGRESQL = [
    f"""
    CREATE FUNCTION orders_order_exposure() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.state IN {OPEN} THEN
            INSERT INTO {TABLE} (customer_id, amount)
            VALUES (OLD.customer_id, -(OLD.total_amount - {PAID.format(ref="OLD")}));
        END IF;
        IF TG_OP IN ('UPDATE', 'INSERT') AND NEW.state IN {OPEN} THEN
            INSERT INTO {TABLE} (customer_id, amount)
            VALUES (NEW.customer_id, NEW.total_amount - {PAID.format(ref="NEW")});
        END IF;
        RETURN NULL;
    END $$
    """,
    "CREATE TRIGGER orders_order_exposure_write AFTER INSERT OR DELETE ON orders_order "
    "FOR EACH ROW EXECUTE FUNCTION orders_order_exposure()",
    "CREATE TRIGGER orders_order_exposure_update AFTER UPDATE OF state, total_amount, customer_id ON orders_order "
    "FOR EACH ROW WHEN (OLD.state IS DISTINCT FROM NEW.state OR OLD.total_amount IS DISTINCT FROM NEW.total_amount "
    "OR OLD.customer_id IS DISTINCT FROM NEW.customer_id) EXECUTE FUNCTION orders_order_exposure()",
    f"""
    CREATE FUNCTION finance_invoice_exposure() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP IN ('UPDATE', 'DELETE') THEN
            INSERT INTO {TABLE} (customer_id, amount)
            SELECT o.customer_id, OLD.paid_amount FROM orders_order o
            WHERE o.id = OLD.order_id AND o.state IN {OPEN} AND OLD.paid_amount <> 0;
        END IF;
        IF TG_OP IN ('UPDATE', 'INSERT') THEN
            INSERT INTO {TABLE} (customer_id, amount)
            SELECT o.customer_id, -NEW.paid_amount FROM orders_order o
            WHERE o.id = NEW.order_id AND o.state IN {OPEN} AND NEW.paid_amount <> 0;
        END IF;
        RETURN NULL;
    END $$
    """,
    "CREATE TRIGGER finance_invoice_exposure_write AFTER INSERT OR DELETE ON finance_invoice "
    "FOR EACH ROW EXECUTE FUNCTION finance_invoice_exposure()",
    "CREATE TRIGGER finance_invoice_exposure_update AFTER UPDATE OF paid_amount, order_id ON finance_invoice "
    "FOR EACH ROW WHEN (OLD.paid_amount IS DISTINCT FROM NEW.paid_amount OR OLD.order_id IS DISTINCT FROM NEW.order_id) "
    "EXECUTE FUNCTION finance_invoice_exposure()",
]
POSTGRESQL_DROP = [
    "DROP TRIGGER IF EXISTS orders_order_exposure_write ON orders_order",
    "DROP TRIGGER IF EXISTS orders_order_exposure_update ON orders_order",
    "DROP FUNCTION IF EXISTS orders_order_exposure()",
    "DROP TRIGGER IF EXISTS finance_invoice_exposure_write ON finance_invoice",
    "DROP TRIGGER IF EXISTS finance_invoice_exposure_update ON finance_invoice",
    "DROP FUNCTION IF EXISTS finance_invoice_exposure()",
]


def _order_rows(ref: str, sign: str) -> str:
    return (f"INSERT INTO {TABLE} (customer_id, amount) SELECT {ref}.customer_id, "
            f"{sign}({ref}.total_amount - {PAID.format(ref=ref)}) WHERE {ref}.state IN {OPEN};")


def _invoice_rows(ref: str, sign: str) -> str:
    return (f"INSERT INTO {TABLE} (customer_id, amount) SELECT o.customer_id, {sign}{ref}.paid_amount "
            f"FROM orders_order o WHERE o.id = {ref}.order_id AND o.state IN {OPEN} AND {ref}.paid_amount <> 0;")


SQLITE = [
    f"CREATE TRIGGER orders_order_exposure_insert AFTER INSERT ON orders_order BEGIN {_order_rows('NEW', '')} END",
    f"CREATE TRIGGER orders_order_exposure_delete AFTER DELETE ON orders_order BEGIN {_order_rows('OLD', '-')} END",
    "CREATE TRIGGER orders_order_exposure_update AFTER UPDATE OF state, total_amount, customer_id ON orders_order "
    "WHEN OLD.state IS NOT NEW.state OR OLD.total_amount IS NOT NEW.total_amount OR OLD.customer_id IS NOT "
    f"NEW.customer_id BEGIN {_order_rows('OLD', '-')} {_order_rows('NEW', '')} END",
    f"CREATE TRIGGER finance_invoice_exposure_insert AFTER INSERT ON finance_invoice BEGIN {_invoice_rows('NEW', '-')} END",
    f"CREATE TRIGGER finance_invoice_exposure_delete AFTER DELETE ON finance_invoice BEGIN {_invoice_rows('OLD', '')} END",
    "CREATE TRIGGER finance_invoice_exposure_update AFTER UPDATE OF paid_amount, order_id ON finance_invoice "
    "WHEN OLD.paid_amount IS NOT NEW.paid_amount OR OLD.order_id IS NOT NEW.order_id "
    f"BEGIN {_invoice_rows('OLD', '')} {_invoice_rows('NEW', '-')} END",
]
SQLITE_DROP = [f"DROP TRIGGER IF EXISTS {table}_exposure_{op}" for table in ("orders_order", "finance_invoice")
               for op in ("insert", "delete", "update")]


def create_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor not in ("postgresql", "sqlite"):
        raise RuntimeError(f"orders/0012: no exposure triggers for {vendor}")
    for sql in POSTGRESQL if vendor == "postgresql" else SQLITE:
        schema_editor.execute(sql)
    # what is open today, added up once (in the migration's transaction, with the triggers in place)
    schema_editor.execute(
        f"INSERT INTO {TABLE} (customer_id, amount) "
        f"SELECT o.customer_id, SUM(o.total_amount - {PAID.format(ref='o')}) FROM orders_order o "
        f"WHERE o.state IN {OPEN} GROUP BY o.customer_id"
    )


def drop_triggers(apps, schema_editor):
    for sql in POSTGRESQL_DROP if schema_editor.connection.vendor == "postgresql" else SQLITE_DROP:
        schema_editor.execute(sql)


class Migration(migrations.Migration):

    dependencies = [
        ("orders", "0011_order_state_tally"),
        ("finance", "0003_payment_terms_receivables"),
    ]

    operations = [
        migrations.CreateModel(
            name="CustomerExposure",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("amount", models.DecimalField(decimal_places=2, max_digits=18)),
                ("customer", models.ForeignKey(db_constraint=False, on_delete=models.deletion.CASCADE,
                                               related_name="+", to="orders.customer")),
            ],
            options={
                "verbose_name": "open exposure entry",
                "verbose_name_plural": "open exposure entries",
            },
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
