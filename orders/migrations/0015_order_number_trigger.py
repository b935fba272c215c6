"""An order's number taken in its own INSERT on PostgreSQL (issue 14: one round trip fewer per intake).

The intake writes the number's prefix with the year (``SO-2026-``); a BEFORE INSERT trigger takes the year's next
value the way :func:`orders.services.next_order_number` does — ``INSERT … ON CONFLICT DO UPDATE … RETURNING`` on
the year's counter row, which stays locked until commit — and completes the number (six digits at least, as
``f"{last:06d}"``). The INSERT returns it. A number written whole (imports, tests, fixtures) is left alone.
SQLite (the quick start) keeps the service's own statement: nothing is created there.
"""

from django.db import migrations

POSTGRESQL = [
    """
    CREATE FUNCTION orders_order_number() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        taken integer;
    BEGIN
        INSERT INTO orders_ordernumbersequence (year, last) VALUES (substr(NEW.number, 4, 4)::integer, 1)
        ON CONFLICT (year) DO UPDATE SET last = orders_ordernumbersequence.last + 1
        RETURNING last INTO taken;
        NEW.number := NEW.number || lpad(taken::text, greatest(6, length(taken::text)), '0');
        RETURN NEW;
    END $$
    """,
    "CREATE TRIGGER orders_order_number BEFORE INSERT ON orders_order "
    "FOR EACH ROW WHEN (NEW.number ~ '^SO-[0-9]{4}-$') EXECUTE FUNCTION orders_order_number()",
]
POSTGRESQL_DROP = [
    "DROP TRIGGER IF EXISTS orders_order_number ON orders_order",
    "DROP FUNCTION IF EXISTS orders_order_number()",
]


def create_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in POSTGRESQL:
            schema_editor.execute(sql)


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in POSTGRESQL_DROP:
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("orders", "0014_drop_indexes_covered_by_composites")]

    operations = [migrations.RunPython(create_trigger, drop_trigger)]
