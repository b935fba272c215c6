"""Orders counted by state and promised date, kept by a trigger on the orders table (issue 14).

See :class:`orders.models.OrderStateTally`. The trigger appends a +1 row for what an insert or update leaves
and a -1 row for what an update or delete takes away, only when the state or the promised date changes; the
existing orders are counted once here; beat folds the rows every five minutes
(:func:`orders.services.compact_state_tallies`). PostgreSQL and SQLite each get their own trigger syntax.
"""

from django.db import migrations, models

TABLE = "orders_orderstatetally"

POSTGRESQL = [
    f"""
    CREATE FUNCTION orders_order_tally() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP IN ('UPDATE', 'DELETE') THEN
            INSERT INTO {TABLE} (state, promised_delivery_date, n) VALUES (OLD.state, OLD.promised_delivery_date, -1);
        END IF;
        IF TG_OP IN ('UPDATE', 'INSERT') THEN
            INSERT INTO {TABLE} (state, promised_delivery_date, n) VALUES (NEW.state, NEW.promised_delivery_date, 1);
        END IF;
        RETURN NULL;
    END $$
    """,
    "CREATE TRIGGER orders_order_tally_write AFTER INSERT OR DELETE ON orders_order "
    "FOR EACH ROW EXECUTE FUNCTION orders_order_tally()",
    "CREATE TRIGGER orders_order_tally_update AFTER UPDATE OF state, promised_delivery_date ON orders_order "
    "FOR EACH ROW WHEN (OLD.state IS DISTINCT FROM NEW.state "
    "OR OLD.promised_delivery_date IS DISTINCT FROM NEW.promised_delivery_date) "
    "EXECUTE FUNCTION orders_order_tally()",
]
POSTGRESQL_DROP = [
    "DROP TRIGGER IF EXISTS orders_order_tally_write ON orders_order",
    "DROP TRIGGER IF EXISTS orders_order_tally_update ON orders_order",
    "DROP FUNCTION IF EXISTS orders_order_tally()",
]
SQLITE = [
    f"CREATE TRIGGER orders_order_tally_insert AFTER INSERT ON orders_order BEGIN "
    f"INSERT INTO {TABLE} (state, promised_delivery_date, n) VALUES (NEW.state, NEW.promised_delivery_date, 1); END",
    f"CREATE TRIGGER orders_order_tally_delete AFTER DELETE ON orders_order BEGIN "
    f"INSERT INTO {TABLE} (state, promised_delivery_date, n) VALUES (OLD.state, OLD.promised_delivery_date, -1); END",
    f"CREATE TRIGGER orders_order_tally_update AFTER UPDATE OF state, promised_delivery_date ON orders_order "
    f"WHEN OLD.state IS NOT NEW.state OR OLD.promised_delivery_date IS NOT NEW.promised_delivery_date BEGIN "
    f"INSERT INTO {TABLE} (state, promised_delivery_date, n) VALUES "
    f"(OLD.state, OLD.promised_delivery_date, -1), (NEW.state, NEW.promised_delivery_date, 1); END",
]
SQLITE_DROP = [f"DROP TRIGGER IF EXISTS orders_order_tally_{op}" for op in ("insert", "delete", "update")]


def create_trigger(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor not in ("postgresql", "sqlite"):
        raise RuntimeError(f"orders/0011: no tally trigger for {vendor}")
    for sql in POSTGRESQL if vendor == "postgresql" else SQLITE:
        schema_editor.execute(sql)
    # the orders already there, counted once (in the migration's transaction, with the trigger in place)
    schema_editor.execute(
        f"INSERT INTO {TABLE} (state, promised_delivery_date, n) "
        "SELECT state, promised_delivery_date, COUNT(*) FROM orders_order GROUP BY state, promised_delivery_date"
    )


def drop_trigger(apps, schema_editor):
    for sql in POSTGRESQL_DROP if schema_editor.connection.vendor == "postgresql" else SQLITE_DROP:
        schema_editor.execute(sql)


def schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every, _ = IntervalSchedule.objects.get_or_create(every=5, period="minutes")
    PeriodicTask.objects.get_or_create(
        name="compact_state_tallies",
        defaults={"task": "orders.tasks.compact_state_tallies", "interval": every, "enabled": True},
    )


def unschedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name="compact_state_tallies").delete()


class Migration(migrations.Migration):

    dependencies = [
        ('orders', '0010_first_submission_and_queue_indexes'),
        ('django_celery_beat', '0019_alter_periodictasks_options'),
    ]

    operations = [
        migrations.CreateModel(
            name='OrderStateTally',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('state', models.CharField(max_length=20)),
                ('promised_delivery_date', models.DateField(null=True)),
                ('n', models.IntegerField()),
            ],
            options={
                'verbose_name': 'order count by state',
                'verbose_name_plural': 'order counts by state',
            },
        ),
        migrations.RunPython(create_trigger, drop_trigger),
        migrations.RunPython(schedule, unschedule),
    ]
