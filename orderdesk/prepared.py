"""Prepared reads: the ORM's own SQL for a hot query, compiled once per process and run with new values (issue 14).

Django compiles a queryset to SQL on every evaluation. For the queries every API request runs (the token with
its user and roles, one order with its customer, assistant and workshop, an order's lines) that compilation is
most of their cost: measured in process, reading a token with its user through the ORM took 0.64 ms, the same
statement sent through a cursor 0.14 ms; an order with three joined tables ~1.5 ms against ~0.3 ms.

A :class:`PreparedQuery` builds its queryset once per *shape* with distinctive marker values in place of the
parameters, compiles it, finds the markers among the compiled parameters, and from then on sends the same SQL
with the caller's values put where the markers were, turning the rows into model instances exactly as
``QuerySet.__iter__`` does (the same ``from_db``, related populators, converters and annotations). So the SQL
is still the ORM's — written once, by the queryset — and everything that counts or wraps queries (the test
suite's query-count guards, ``connection.execute_wrapper``) sees each execution as before.

On PostgreSQL the statement is also prepared on the server (``PREPARE`` once per connection, then ``EXECUTE``
with the values), which spares the server parsing and planning it each time: ~0.5 ms → ~0.2 ms for an order
with three joined tables. The ``PREPARE`` goes to the server outside Django's query log (it is part of the
query it serves, once per connection: query counts stay one per read); the ``EXECUTE`` is logged and counted
as the query, its statement named after the read (``od_<name>_<hash>``, :func:`statement_sql` gives its SQL).
A new connection starts with none prepared (``connection_created``). ``DATABASE_PREPARED_STATEMENTS=false``
turns server-side preparation off (e.g. behind a transaction-pooling proxy, which does not keep them).

What a shape must hold: everything that changes the SQL other than the parameters (e.g. the caller's roles,
which decide the scope filter). Settings read while building (a threshold in a filter) are compiled in: the
compiled SQL is forgotten whenever a setting changes (``setting_changed``, as tests' ``override_settings``
sends). Values are converted by the parameter's model field (``get_prep_value``); a value the field refuses
raises ``ValueError``/``TypeError`` as the ORM would, and an integer out of the column's range finds nothing,
as Django's own lookups do.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.db import connections
from django.db.backends.signals import connection_created
from django.db.models import Field, Model, QuerySet
from django.db.models.query import ModelIterable, ValuesListIterable, get_related_populators

_INTEGER_TYPES = {"AutoField", "BigAutoField", "SmallAutoField", "IntegerField", "BigIntegerField",
                  "SmallIntegerField", "PositiveIntegerField", "PositiveSmallIntegerField",
                  "PositiveBigIntegerField"}


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: tuple
    slots: tuple[tuple[int, str, int], ...]  # (position in params, parameter name, index in a Many's list)
    model: type[Model] | None  # None: rows of values (a ``values_list`` query)
    init_list: tuple[str, ...]
    fields_start: int
    fields_end: int
    populators: tuple
    annotations: tuple[tuple[str, int], ...]
    converters: dict
    locks: bool
    server: dict  # the server-side statement (PostgreSQL): its name, PREPARE and EXECUTE (:func:`_server_side`)
    width: int  # the columns a row of values holds


#: The longest list (:class:`Many`) a prepared read keeps a statement for; a longer one runs as a plain queryset.
MAX_PREPARED_LIST = 64


@dataclass(frozen=True)
class Many:
    """A parameter that is a list of values of `field` (an ``__in`` filter): each length is a shape of its own;
    an empty list finds nothing (the ORM's ``__in=[]`` does not reach the database either)."""

    field: Field


def _target(field: Field) -> Field:
    """The column a foreign key's value is compared with (its target field), else the field itself."""
    return field.target_field if field.is_relation and field.many_to_one else field


def _marker(name: str, field: Field, index: int, connection):
    """A value of the parameter's type that no query holds as a constant."""
    internal = _target(field).get_internal_type()
    if internal in _INTEGER_TYPES:
        _low, high = connection.ops.integer_field_range(internal)
        return (high or 2**31 - 1) - 1009 - index
    return f"\x01prepared:{name}:{index}\x01"


class PreparedQuery:
    """A read whose SQL is compiled once per shape and database (see the module docstring).

    ``build(shape, **values)`` returns the queryset for a shape; ``params`` names each value and the model field
    that converts it; ``optional`` names those a shape may leave out of its SQL (the caller's id where the scope
    does not filter by it). ``fetch(shape, **values)`` returns the model instances (a list), or for a
    ``values_list`` queryset its rows as tuples.
    """

    def __init__(self, name: str, build: Callable[..., QuerySet], *, params: dict[str, Field | Many],
                 optional: tuple[str, ...] = ()):
        self.name = name
        self.build = build
        self.params = params
        self.optional = frozenset(optional)
        self._compiled: dict[tuple, _Compiled] = {}
        self._lock = threading.Lock()
        _ALL.append(self)

    def clear(self) -> None:
        self._compiled = {}

    def __copy__(self):
        return self  # one compiled cache per read: a serializer field's deep copy shares it

    def __deepcopy__(self, memo):
        return self

    def _compile(self, shape: Hashable, sizes: tuple, alias: str) -> _Compiled:
        connection = connections[alias]
        markers, by_value = {}, {}
        for i, (name, field) in enumerate(self.params.items()):
            if isinstance(field, Many):
                size = dict(sizes)[name]
                markers[name] = [_marker(name, field.field, 100 * i + k, connection) for k in range(size)]
                by_value.update({m: (name, k) for k, m in enumerate(markers[name])})
            else:
                markers[name] = _marker(name, field, 100 * i, connection)
                by_value[markers[name]] = (name, 0)
        queryset = self.build(shape, **markers)
        if queryset.db != alias:
            raise ImproperlyConfigured(f"{self.name}: the queryset reads {queryset.db}, not {alias}")
        compiler = queryset.query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        slots = tuple((i, *by_value[p]) for i, p in enumerate(params)
                      if isinstance(p, (int, str)) and not isinstance(p, bool) and p in by_value)
        missing = sorted(set(markers) - {name for _i, name, _k in slots} - self.optional)
        if missing:
            # a value the ORM transformed (LIKE patterns, casts) cannot be put back: build the query otherwise
            raise ImproperlyConfigured(f"{self.name}: parameter(s) {', '.join(missing)} not found in the SQL")
        select, klass_info = compiler.select, compiler.klass_info
        columns = [s[0] for s in select[0:compiler.col_count]]
        if compiler.has_composite_fields(columns):
            raise ImproperlyConfigured(f"{self.name}: composite primary keys are not supported")
        model, init_list, start, end, populators = None, (), 0, 0, ()
        if queryset._iterable_class not in (ModelIterable, ValuesListIterable):
            raise ImproperlyConfigured(f"{self.name}: only model instances and values_list() rows are supported")
        if queryset._iterable_class is ModelIterable:
            fields = klass_info["select_fields"]
            start, end = fields[0], fields[-1] + 1
            model, init_list = klass_info["model"], tuple(f[0].target.attname for f in select[start:end])
            populators = tuple(get_related_populators(klass_info, select, alias))
        return _Compiled(
            sql=sql, params=tuple(params), slots=slots, model=model, init_list=init_list, fields_start=start,
            fields_end=end, populators=populators, annotations=tuple((compiler.annotation_col_map or {}).items()),
            converters=compiler.get_converters(columns), locks=bool(queryset.query.select_for_update),
            width=compiler.col_count, server=_server_side(self.name, sql, len(params), connection),
        )

    def fetch(self, shape: Hashable = (), *, using: str = "default", **values) -> list:
        connection = connections[using]
        converted, sizes = {}, []
        for name, field in self.params.items():
            many = isinstance(field, Many)
            items = list(values[name]) if many else [values[name]]
            if many:
                if not items:
                    return []
                sizes.append((name, len(items)))
            column = _target(field.field if many else field)
            internal = column.get_internal_type()
            prepped = []
            for value in items:
                value = column.get_prep_value(value)
                if internal in _INTEGER_TYPES:
                    value = int(value)
                    low, high = connection.ops.integer_field_range(internal)
                    if (low is not None and value < low) or (high is not None and value > high):
                        if not many:
                            return []  # Django's lookups find nothing for an out-of-range integer
                        continue
                prepped.append(value)
            if many and not prepped:
                return []
            if many and len(prepped) != len(items):  # out-of-range members dropped: a shape of the new length
                sizes[-1] = (name, len(prepped))
            converted[name] = prepped
        if any(size > MAX_PREPARED_LIST for _name, size in sizes):
            # a long list (a scan's thousands of recipients) is a statement of its own each time: not kept
            return list(self.build(shape, **{name: values[name] for name in self.params}))
        key = (shape, tuple(sizes), using, connection.vendor)
        compiled = self._compiled.get(key)
        if compiled is None:
            with self._lock:
                compiled = self._compiled.get(key) or self._compile(shape, tuple(sizes), using)
                self._compiled[key] = compiled
        if compiled.locks and not connection.in_atomic_block:
            from django.db import transaction

            raise transaction.TransactionManagementError("select_for_update cannot be used outside of a transaction.")
        params = list(compiled.params)
        for position, name, index in compiled.slots:
            params[position] = converted[name][index]
        with connection.cursor() as cursor:
            _execute(cursor, connection, compiled.sql, compiled.server, params)
            rows = cursor.fetchall()
        if not rows:
            return []
        if compiled.converters:
            rows = _converted(rows, compiled.converters, connection)
        if compiled.model is None:
            return [tuple(row[:compiled.width]) for row in rows]
        result = []
        model, init_list = compiled.model, list(compiled.init_list)
        start, end = compiled.fields_start, compiled.fields_end
        for row in rows:
            obj = model.from_db(using, init_list, row[start:end])
            for populator in compiled.populators:
                populator.populate(row, obj)
            for attr, position in compiled.annotations:
                setattr(obj, attr, row[position])
            result.append(obj)
        return result


class _PreparedWrite:
    """A write of one model whose statements are compiled once per shape (forgotten with a changed setting)."""

    def __init__(self, name: str, model: type[Model]):
        self.name = name
        self.model = model
        self._compiled: dict[tuple, tuple] = {}
        _ALL.append(self)

    def clear(self) -> None:
        self._compiled = {}


class PreparedInsert(_PreparedWrite):
    """The ``INSERT`` of one row of a model, its SQL written once by Django's own compiler and (PostgreSQL)
    prepared on the server, like :class:`PreparedQuery`'s reads: ``save(obj)`` is ``obj.save()`` for a new row —
    ``pre_save``/``post_save`` sent, each field's ``pre_save`` (``auto_now``, defaults) and ``get_db_prep_save``
    applied, the key read back — without compiling the statement each time (issue 14: the inserts every transition
    makes — its state-log record, its audit entry — and the order an intake records). A value that is an SQL
    expression is refused (the compiled statement holds one placeholder per column)."""

    def __init__(self, name: str, model: type[Model], *, ignore_conflicts: bool = False, returning: tuple = ()):
        super().__init__(name, model)
        # ``bulk_create(ignore_conflicts=True)``'s ON CONFLICT DO NOTHING: a row that conflicts is not written (its
        # key stays unset and ``save`` returns None)
        self.ignore_conflicts = ignore_conflicts
        # columns read back besides the key (on a database that returns columns from an INSERT): values a
        # trigger completes (orders/0015: the order's number)
        self.returning = tuple(model._meta.get_field(name) for name in returning)

    def _compile(self, obj, fields, returning, alias: str, connection):
        from django.db.models.constants import OnConflict
        from django.db.models.sql import InsertQuery

        query = InsertQuery(self.model, on_conflict=OnConflict.IGNORE if self.ignore_conflicts else None)
        query.insert_values(fields, [obj])
        compiler = query.get_compiler(using=alias)
        compiler.returning_fields = returning
        [(sql, params)] = compiler.as_sql()
        if len(params) != len(fields) or sql.count("%s") != len(fields):
            raise ImproperlyConfigured(f"{self.name}: a column is not one plain placeholder")
        return sql, _server_side(self.name, sql, len(fields), connection)

    def bind(self, obj, *, using: str = "default") -> BoundWrite:
        """The insert of `obj` ready to run (``pre_save`` sent, values prepared): ``.run()`` or
        :func:`save_together`."""
        from django.db.models.signals import post_save, pre_save

        model, meta = self.model, self.model._meta
        if type(obj) is not model or not obj._state.adding:
            raise ValueError(f"{self.name}: a new {model.__name__} only")
        connection = connections[using]
        obj._prepare_related_fields_for_save(operation_name="save")  # as Model.save: no unsaved related object
        pre_save.send(sender=model, instance=obj, raw=False, using=using, update_fields=None)
        fields = [f for f in meta.local_concrete_fields if not f.generated and not (f.primary_key and f.db_returning)]
        returning = meta.db_returning_fields
        if self.returning and connection.features.can_return_columns_from_insert:
            returning = [*returning, *self.returning]
        key = (using, connection.vendor)
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = self._compiled[key] = self._compile(obj, fields, returning, using, connection)
        sql, server = compiled
        params = [_db_value(self.name, field, obj, True, connection) for field in fields]

        def finish(returned):
            if returning:
                if returned is None:  # a conflict ignored: nothing written
                    return None
                _set_returned(obj, returning, returned, connection)
            obj._state.adding = False
            obj._state.db = using
            post_save.send(sender=model, instance=obj, created=True, update_fields=None, raw=False, using=using)
            return obj

        return BoundWrite(self, using, sql, server, params, finish, returning=tuple(returning))

    def save(self, obj, *, using: str = "default"):
        """``obj.save()`` for a new row; None if a conflict was ignored."""
        return self.bind(obj, using=using).run()


class PreparedUpdate(_PreparedWrite):
    """The ``UPDATE`` of some columns of one row found by its key and the values ``match`` names (django-fsm's
    concurrency guard: the state it was read in), statement written once per set of columns and (PostgreSQL)
    prepared on the server. ``save(obj, update_fields, match)`` is ``obj.save(update_fields=…)`` for that row —
    signals sent, each field's ``pre_save`` (``auto_now``) and ``get_db_prep_save`` applied — and returns how
    many rows it changed (0: the row is gone or no longer matches). The statement is the plain
    ``UPDATE t SET a = %s, … WHERE key = %s AND m = %s`` Django writes for such a save, quoted by the backend."""


    def bind(self, obj, update_fields, match: dict, *, using: str = "default") -> BoundWrite:
        """The update ready to run (``pre_save`` sent, values prepared): ``.run()`` or :func:`save_together`
        give how many rows it changed."""
        from django.db.models.signals import post_save, pre_save

        model, meta = self.model, self.model._meta
        connection = connections[using]
        names = tuple(update_fields)
        fields = [meta.get_field(name) for name in names]
        matched = [meta.get_field(name) for name in match]
        update_set = frozenset(names)
        pre_save.send(sender=model, instance=obj, raw=False, using=using, update_fields=update_set)
        key = (names, tuple(match), using, connection.vendor)
        compiled = self._compiled.get(key)
        if compiled is None:
            quote = connection.ops.quote_name
            sql = (f"UPDATE {quote(meta.db_table)} SET {', '.join(f'{quote(f.column)} = %s' for f in fields)} "
                   f"WHERE {' AND '.join(f'{quote(f.column)} = %s' for f in [meta.pk, *matched])}")
            compiled = self._compiled[key] = (sql, _server_side(self.name, sql, len(fields) + 1 + len(matched),
                                                                connection))
        sql, server = compiled
        params = [_db_value(self.name, field, obj, False, connection) for field in fields]
        params.append(meta.pk.get_db_prep_value(obj.pk, connection))
        params += [f.get_db_prep_value(match[f.name], connection) for f in matched]

        def finish(changed):
            if changed:
                post_save.send(sender=model, instance=obj, created=False, update_fields=update_set, raw=False,
                               using=using)
            return changed

        return BoundWrite(self, using, sql, server, params, finish, returning=())

    def save(self, obj, update_fields, match: dict, *, using: str = "default") -> int:
        """``obj.save(update_fields=…)`` where the row still holds `match`; how many rows it changed."""
        return self.bind(obj, update_fields, match, using=using).run()


@dataclass(frozen=True)
class BoundWrite:
    """One prepared write with its values (:meth:`PreparedInsert.bind`, :meth:`PreparedUpdate.bind`): ``run()``
    sends it alone; :func:`save_together` sends several in one statement. ``finish`` takes what the statement gave
    back (the returned row of an insert, None when it wrote nothing; the count of an update) and completes the
    instance as ``save`` would (keys, state, ``post_save``)."""

    write: _PreparedWrite
    using: str
    sql: str
    server: dict
    params: list
    finish: Callable
    returning: tuple = ()

    def run(self):
        connection = connections[self.using]
        with connection.cursor() as cursor:
            _execute(cursor, connection, self.sql, self.server, self.params)
            if self.returning:
                return self.finish(cursor.fetchone())
            return self.finish(cursor.rowcount)


_TOGETHER: dict[tuple, tuple] = {}


def save_together(*writes: BoundWrite) -> list:
    """Run several bound writes in one round trip and return what each ``run()`` would (issue 14: a transition's
    state-log record, its UPDATE of the order and its audit entry). On PostgreSQL they become one statement of
    data-modifying ``WITH`` queries, each its own statement as written once (``WITH w0 AS (UPDATE … RETURNING 1),
    w1 AS (INSERT … RETURNING "id") SELECT (SELECT count(*) FROM w0), (SELECT "id" FROM w1)``), itself prepared
    on the server. They run on one snapshot, in no order among themselves: none may read what another writes (the
    rows' triggers run at the end of the statement, as after separate ones). Elsewhere each runs in turn.

    Call it inside a transaction: a write that changed nothing does not stop the others (the caller raises, and the
    transaction takes them all back)."""
    if not writes:
        return []
    using = writes[0].using
    connection = connections[using]
    if len(writes) == 1 or connection.vendor != "postgresql" or any(w.using != using for w in writes) or any(
            len(w.returning) > 1 for w in writes):
        return [write.run() for write in writes]
    key = (using, tuple((id(w.write), w.sql) for w in writes))
    compiled = _TOGETHER.get(key)
    if compiled is None:
        quote = connection.ops.quote_name
        parts, picks = [], []
        for i, write in enumerate(writes):
            if write.returning:
                parts.append(f"w{i} AS ({write.sql})")
                picks.append(f"(SELECT {quote(write.returning[0].column)} FROM w{i})")
            else:
                parts.append(f"w{i} AS ({write.sql} RETURNING 1)")
                picks.append(f"(SELECT count(*) FROM w{i})")
        sql = f"WITH {', '.join(parts)} SELECT {', '.join(picks)}"
        name = " + ".join(w.write.name for w in writes)
        compiled = _TOGETHER[key] = (sql, _server_side(name, sql, sum(len(w.params) for w in writes), connection))
    sql, server = compiled
    with connection.cursor() as cursor:
        _execute(cursor, connection, sql, server, [p for write in writes for p in write.params])
        row = cursor.fetchone()
    return [write.finish(None if value is None else (value,)) if write.returning else write.finish(value)
            for write, value in zip(writes, row, strict=True)]


class PreparedBulkInsert(_PreparedWrite):
    """``Model.objects.bulk_create(objs)`` with its statement written once (issue 14: an order's lines, a
    transition's notifications and e-mails). On PostgreSQL Django inserts two rows or more as ``INSERT … SELECT *
    FROM UNNEST(%s::type[], …)``, one array per column: the same statement for any number of rows, so it is
    compiled once, by Django's own compiler (from two rows, so that one row takes it too), and prepared on the
    server; the keys come back in the rows' order, as Django reads them. Another database, or more than
    :data:`MAX_PREPARED_ROWS` rows (a scheduled check's thousands), goes through ``bulk_create`` itself. Like
    ``bulk_create``: no signals, no ``save()``.

    ``ignore_conflicts="<unique field>"``: ``bulk_create(ignore_conflicts=True)``'s ``ON CONFLICT DO NOTHING``, with
    what Django leaves out there — the keys of the rows written come back (``RETURNING`` the key and that field, to
    tell which rows they are). ``save_all`` returns the objects written; a row that conflicted keeps no key (through
    ``bulk_create`` no row gets one)."""

    def __init__(self, name: str, model: type[Model], *, ignore_conflicts: str | None = None):
        super().__init__(name, model)
        self.match = model._meta.get_field(ignore_conflicts) if ignore_conflicts else None

    def save_all(self, objs: list, *, using: str = "default") -> list:
        from django.db.models.constants import OnConflict
        from django.db.models.sql import InsertQuery

        connection = connections[using]
        if not objs:
            return []
        if len(objs) > MAX_PREPARED_ROWS or connection.vendor != "postgresql":
            written = self.model._default_manager.using(using).bulk_create(
                objs, ignore_conflicts=self.match is not None, batch_size=2000)
            return written if self.match is None else [obj for obj in written if obj.pk is not None]
        meta = self.model._meta
        fields = [f for f in meta.local_concrete_fields if not f.generated and not (f.primary_key and f.db_returning)]
        returning = list(meta.db_returning_fields)
        if self.match is not None:
            returning.append(self.match)
        key = (using, connection.vendor)
        compiled = self._compiled.get(key)
        if compiled is None:
            query = InsertQuery(self.model, on_conflict=OnConflict.IGNORE if self.match is not None else None)
            query.insert_values(fields, [objs[0], objs[0]])  # two rows: Django's UNNEST form
            compiler = query.get_compiler(using=using)
            compiler.returning_fields = returning
            [(sql, params)] = compiler.as_sql()
            if "UNNEST(" not in sql or len(params) != len(fields):  # no constant statement for these columns
                raise ImproperlyConfigured(f"{self.name}: the columns cannot be inserted as arrays")
            compiled = self._compiled[key] = (sql, _server_side(self.name, sql, len(fields), connection))
        sql, server = compiled
        params = [[_db_value(self.name, field, obj, True, connection) for obj in objs] for field in fields]
        with connection.cursor() as cursor:
            _execute(cursor, connection, sql, server, params)
            rows = cursor.fetchall()
        if self.match is None:
            written = objs
            for obj, row in zip(objs, rows, strict=True):
                _set_returned(obj, returning, row, connection)
        else:  # only the rows written come back: matched by their unique value
            by_value = {}
            for obj in objs:
                by_value.setdefault(getattr(obj, self.match.attname), obj)
            written = []
            for row in rows:
                obj = by_value[row[-1]]
                _set_returned(obj, returning[:-1], row[:-1], connection)
                written.append(obj)
        for obj in written:
            obj._state.adding = False
            obj._state.db = using
        return written


#: the most rows :class:`PreparedBulkInsert` writes as its prepared statement; more go through ``bulk_create``
MAX_PREPARED_ROWS = 500


def _execute(cursor, connection, sql: str, server: dict, params) -> None:
    """Run `sql` with `params`: on PostgreSQL as its prepared statement (``PREPARE`` once per connection, outside
    the query log: see the module docstring; then ``EXECUTE``), elsewhere or when turned off as itself."""
    if server["statement"] and getattr(settings, "DATABASE_PREPARED_STATEMENTS", True):
        prepared = connection.__dict__.setdefault("_orderdesk_prepared", set())
        if server["statement"] not in prepared:
            with connection.connection.cursor() as raw:
                raw.execute(server["prepare_sql"])
            prepared.add(server["statement"])
        cursor.execute(server["execute_sql"], params)
    else:
        cursor.execute(sql, params)


def _db_value(name: str, field, obj, add: bool, connection):
    """A column's value as ``Model.save`` writes it: the field's ``pre_save`` (``auto_now``), then its
    ``get_db_prep_save``; an SQL expression has no place in a statement of placeholders."""
    value = field.pre_save(obj, add)
    if hasattr(value, "resolve_expression"):
        raise ValueError(f"{name}: {field.name} is an expression")
    return field.get_db_prep_save(value, connection=connection)


def _set_returned(obj, returning, row, connection) -> None:
    """The values an insert returned (the key) onto the instance, through the fields' converters."""
    for field, value in zip(returning, row, strict=True):
        for converter in field.get_db_converters(connection):
            value = converter(value, field, connection)
        setattr(obj, field.attname, value)


_STATEMENTS: dict[str, str] = {}


def _server_side(name: str, sql: str, n_params: int, connection) -> dict:
    """The PREPARE and EXECUTE statements of `sql` on PostgreSQL (empty elsewhere)."""
    if connection.vendor != "postgresql":
        return {"statement": "", "prepare_sql": "", "execute_sql": ""}
    slug = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")[:40]
    statement = f"od_{slug}_{hashlib.sha1(sql.encode()).hexdigest()[:12]}"
    _STATEMENTS[statement] = sql
    numbered = sql % tuple(f"${i}" for i in range(1, n_params + 1))  # %s → $n, %% → %
    arguments = f"({', '.join(['%s'] * n_params)})" if n_params else ""
    return {"statement": statement, "prepare_sql": f"PREPARE {statement} AS {numbered}",
            "execute_sql": f"EXECUTE {statement}{arguments}"}


def statement_sql(sql: str) -> str:
    """The SQL behind ``EXECUTE od_…(…)`` (as a query log shows it), else `sql` itself."""
    match = re.match(r"EXECUTE (od_[a-z0-9_]+)", sql)
    return _STATEMENTS.get(match.group(1), sql) if match else sql


def _forget_prepared(sender, connection, **kwargs) -> None:
    connection.__dict__["_orderdesk_prepared"] = set()


connection_created.connect(_forget_prepared, dispatch_uid="orderdesk.prepared.forget")


def _converted(rows, converters: dict, connection):
    """``SQLCompiler.apply_converters`` with this thread's connection (a compiler keeps the one it was made on)."""
    items = list(converters.items())
    for row in map(list, rows):
        for position, (functions, expression) in items:
            value = row[position]
            for function in functions:
                value = function(value, expression, connection)
            row[position] = value
        yield row


_ALL: list[PreparedQuery] = []


def clear_all(**kwargs) -> None:
    for query in _ALL:
        query.clear()
    _TOGETHER.clear()


# a setting read while building (a threshold, the time zone) is compiled into the SQL
setting_changed.connect(clear_all, dispatch_uid="orderdesk.prepared.clear_all")
