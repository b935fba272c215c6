"""The KPI rollup (issue 14): marks, facts and days (see :mod:`supervision.kpi_rollup`), the triggers that mark an
order whenever a write can change what it counts for, and beat's fold.

Triggers, PostgreSQL (plpgsql) and SQLite alike, each appending the order's id to the marks:

- ``orders_order``: an insert or delete of an order that counts somewhere (submitted, approved or promised); an
  update of its assistant, its being cancelled, its first submission, submission, approval, promise or acceptance.
- ``django_fsm_log_statelog``: a ``return`` or ``reject_delivery`` record written, changed or removed.
- ``orders_orderchange``: any field change written, changed or removed (whether it is a correction depends on the
  field and on the order's first submission: the fold decides).
- ``supervision_checkitem``: an item whose outcome is or was ``error`` written, changed or removed.

Every existing order is marked here; after ``migrate`` :func:`supervision.kpi_rollup.check_zone` (post_migrate)
builds the rollup from the orders as they are.
"""

from django.db import migrations, models

MARKS = "supervision_kpiordermark"
ORDER_COLUMNS = ("assistant_id", "first_submitted_at", "submitted_at", "approved_at", "promised_delivery_date",
                 "accepted_at")
COUNTS = "(%(r)s.first_submitted_at IS NOT NULL OR %(r)s.approved_at IS NOT NULL " \
         "OR %(r)s.promised_delivery_date IS NOT NULL)"
TRANSITIONS = "('return', 'reject_delivery')"


def _changed(columns, distinct):
    return " OR ".join(f"OLD.{c} {distinct} NEW.{c}" for c in columns)


def _order_update(distinct):
    cancelled = f"(OLD.state = 'cancelled') {distinct} (NEW.state = 'cancelled')"
    return f"{_changed(ORDER_COLUMNS, distinct)} OR {cancelled}"


# (table, the column naming the order, when an insert counts, when a delete counts, columns of an update, when an
# update counts given the spelling of IS DISTINCT FROM)
TABLES = [
    ("orders_order", "id", COUNTS % {"r": "NEW"}, COUNTS % {"r": "OLD"}, (*ORDER_COLUMNS, "state"), _order_update),
    ("django_fsm_log_statelog", "object_id", f"NEW.transition IN {TRANSITIONS}", f"OLD.transition IN {TRANSITIONS}",
     ("transition", "object_id", "content_type_id"),
     lambda d: f"(OLD.transition IN {TRANSITIONS} OR NEW.transition IN {TRANSITIONS}) AND "
               f"({_changed(('transition', 'object_id', 'content_type_id'), d)})"),
    ("orders_orderchange", "order_id", None, None, ("order_id", "field", "at"),
     lambda d: _changed(("order_id", "field", "at"), d)),
    ("supervision_checkitem", "order_id", "NEW.outcome = 'error'", "OLD.outcome = 'error'", ("outcome", "order_id"),
     lambda d: f"(OLD.outcome = 'error' OR NEW.outcome = 'error') AND ({_changed(('outcome', 'order_id'), d)})"),
]


def _postgresql():
    for table, column, on_insert, on_delete, columns, on_update in TABLES:
        function = f"supervision_kpi_mark_{table}"
        # an update marks the order the row named before and the one it names now (the same one, for an order)
        old = "TG_OP = 'DELETE'" if table == "orders_order" else "TG_OP <> 'INSERT'"
        yield (
            f"CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"IF {old} THEN INSERT INTO {MARKS} (order_id) VALUES (OLD.{column}); END IF; "
            f"IF TG_OP <> 'DELETE' THEN INSERT INTO {MARKS} (order_id) VALUES (NEW.{column}); END IF; "
            f"RETURN NULL; END $$"
        )
        for event, when in (("INSERT", on_insert), ("DELETE", on_delete),
                            (f"UPDATE OF {', '.join(columns)}", on_update("IS DISTINCT FROM"))):
            name = event.split()[0].lower()
            yield (f"CREATE TRIGGER {function}_{name} AFTER {event} ON {table} FOR EACH ROW "
                   f"{f'WHEN ({when}) ' if when else ''}EXECUTE FUNCTION {function}()")


def _postgresql_drop():
    for table, *_rest in TABLES:
        for name in ("insert", "delete", "update"):
            yield f"DROP TRIGGER IF EXISTS supervision_kpi_mark_{table}_{name} ON {table}"
        yield f"DROP FUNCTION IF EXISTS supervision_kpi_mark_{table}()"


def _sqlite():
    for table, column, on_insert, on_delete, columns, on_update in TABLES:
        trigger = f"supervision_kpi_mark_{table}"
        update_marks = f"(NEW.{column})" if table == "orders_order" else f"(OLD.{column}), (NEW.{column})"
        for name, event, when, values in (
            ("insert", "INSERT", on_insert, f"(NEW.{column})"),
            ("delete", "DELETE", on_delete, f"(OLD.{column})"),
            ("update", f"UPDATE OF {', '.join(columns)}", on_update("IS NOT"), update_marks),
        ):
            yield (f"CREATE TRIGGER {trigger}_{name} AFTER {event} ON {table} FOR EACH ROW "
                   f"{f'WHEN {when} ' if when else ''}BEGIN INSERT INTO {MARKS} (order_id) VALUES {values}; END")


def _sqlite_drop():
    for table, *_rest in TABLES:
        for name in ("insert", "delete", "update"):
            yield f"DROP TRIGGER IF EXISTS supervision_kpi_mark_{table}_{name}"


def create_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor not in ("postgresql", "sqlite"):
        raise RuntimeError(f"supervision/0003: no KPI triggers for {vendor}")
    for sql in _postgresql() if vendor == "postgresql" else _sqlite():
        schema_editor.execute(sql)
    # every order there is, to be folded (post_migrate rebuilds the rollup from them at once)
    schema_editor.execute(f"INSERT INTO {MARKS} (order_id) SELECT id FROM orders_order")


def drop_triggers(apps, schema_editor):
    for sql in _postgresql_drop() if schema_editor.connection.vendor == "postgresql" else _sqlite_drop():
        schema_editor.execute(sql)


def schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every, _ = IntervalSchedule.objects.get_or_create(every=5, period="minutes")
    PeriodicTask.objects.get_or_create(
        name="fold_kpi_rollup",
        defaults={"task": "supervision.tasks.fold_kpi_rollup", "interval": every, "enabled": True},
    )


def unschedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name="fold_kpi_rollup").delete()


class Migration(migrations.Migration):

    dependencies = [
        ('supervision', '0002_loss_incidents'),
        ('orders', '0011_order_state_tally'),
        ('django_fsm_log', '0005_description_null'),
        ('django_celery_beat', '0019_alter_periodictasks_options'),
    ]

    operations = [
        migrations.CreateModel(
            name='KpiOrderFact',
            fields=[
                ('order_id', models.BigIntegerField(primary_key=True, serialize=False)),
                ('assistant_id', models.BigIntegerField()),
                ('submitted_on', models.DateField(null=True)),
                ('decided', models.BooleanField(default=False)),
                ('accurate', models.BooleanField(default=False)),
                ('returned', models.BooleanField(default=False)),
                ('corrected', models.BooleanField(default=False)),
                ('promised_on', models.DateField(null=True)),
                ('accepted', models.BooleanField(default=False)),
                ('on_time', models.BooleanField(default=False)),
                ('on_time_in_full', models.BooleanField(default=False)),
                ('approved_on', models.DateField(null=True)),
                ('turnaround_us', models.BigIntegerField(default=0)),
            ],
        ),
        migrations.CreateModel(
            name='KpiOrderMark',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('order_id', models.BigIntegerField()),
            ],
        ),
        migrations.CreateModel(
            name='KpiRollupZone',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=64)),
            ],
        ),
        migrations.CreateModel(
            name='KpiDay',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('assistant_id', models.BigIntegerField()),
                ('day', models.DateField()),
                ('submitted', models.IntegerField(default=0)),
                ('decided', models.IntegerField(default=0)),
                ('accurate', models.IntegerField(default=0)),
                ('returned', models.IntegerField(default=0)),
                ('corrected', models.IntegerField(default=0)),
                ('promised', models.IntegerField(default=0)),
                ('accepted', models.IntegerField(default=0)),
                ('on_time', models.IntegerField(default=0)),
                ('on_time_in_full', models.IntegerField(default=0)),
                ('approved', models.IntegerField(default=0)),
                ('turnaround_us', models.BigIntegerField(default=0)),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('day', 'assistant_id'), name='kpi_day_once')],
            },
        ),
        migrations.RunPython(create_triggers, drop_triggers),
        migrations.RunPython(schedule, unschedule),
    ]
