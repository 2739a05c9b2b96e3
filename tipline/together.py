"""New rows of several tables written by one SQL statement: one round trip and, outside a
transaction, one commit.

A report is a handful of new rows: the spent form token, the report, its sealed identity, its
evidence, the clerks' notice in the outbox. Saved one by one in a transaction they cost a round
trip each, BEGIN and COMMIT included (six for a report with an identity), on a server where
each round trip waits for PostgreSQL to be scheduled. On PostgreSQL they go as one INSERT whose
data-modifying WITH clauses insert the others; its foreign keys are checked at the end of the
statement (a row may refer to one inserted before it in the same statement), and outside a
transaction the statement is its own transaction: all rows or none, committed (and flushed)
before it returns. Inside a transaction it runs in a savepoint, so that a failure (a spent form
token's unique key) leaves the caller's transaction usable. On other databases (SQLite in
development) the rows are saved one by one in a transaction.

Each row's values are what Django's INSERT would send (every concrete field's pre_save for an
insert, then get_db_prep_save); the statement's text is made once per model and set of columns.
No signal is sent and no save() override runs, so only models without either belong here, with
plain values (no expressions) in fields that need no placeholder of their own. Only the last
row gets back what the database generates (its serial id); the others must not need it.
"""

from django.db import connection, transaction

# (model, columns, placeholders, returning) -> INSERT … VALUES (…) [RETURNING …]
_TEXT: dict[tuple, str] = {}


def _fields(obj) -> list:
    meta = obj._meta
    return [f for f in meta.local_concrete_fields if not (f is meta.auto_field and obj.pk is None)]


def _values(obj, fields) -> tuple[tuple, list]:
    """The row's placeholders and values, as Django's INSERT makes them."""
    placeholders, values = [], []
    for field in fields:
        value = field.pre_save(obj, True)
        if hasattr(value, "resolve_expression"):
            raise TypeError(f"{field} holds an expression: not for tipline.together")
        value = field.get_db_prep_save(value, connection)
        # A field may want its own placeholder (BinaryField asks the backend: %s here).
        placeholder = (
            field.get_placeholder(value, None, connection)
            if hasattr(field, "get_placeholder")
            else "%s"
        )
        placeholders.append(placeholder)
        values.append(value)
    return tuple(placeholders), values


def _text(obj, fields, placeholders, returning) -> str:
    key = (type(obj), tuple(f.column for f in fields), placeholders, tuple(returning))
    text = _TEXT.get(key)
    if text is None:
        qn = connection.ops.quote_name
        table = qn(obj._meta.db_table)
        columns = ", ".join(qn(f.column) for f in fields)
        # Names from the model's meta, values as parameters: nothing from outside.
        text = f"INSERT INTO {table} ({columns}) VALUES ({', '.join(placeholders)})"  # noqa: S608
        if returning:
            text += " RETURNING " + ", ".join(f"{table}.{qn(f.column)}" for f in returning)
        text = _TEXT[key] = text
    return text


def _statement(objs) -> tuple[str, list, list]:
    """The last row's INSERT with the others in front of it as WITH clauses; its parameters;
    the fields the last row gets back."""
    clauses, params = [], []
    for i, obj in enumerate(objs[:-1]):
        fields = _fields(obj)
        placeholders, values = _values(obj, fields)
        clauses.append(f"w{i} AS ({_text(obj, fields, placeholders, ())})")
        params += values
    last = objs[-1]
    fields = _fields(last)
    returning = [f for f in last._meta.db_returning_fields if f not in fields]
    placeholders, values = _values(last, fields)
    sql = _text(last, fields, placeholders, returning)
    params += values
    return (f"WITH {', '.join(clauses)} {sql}" if clauses else sql), params, returning


def _execute(objs) -> None:
    sql, params, returning = _statement(objs)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone() if returning else ()
    for field, value in zip(returning, row, strict=True):
        if hasattr(field, "from_db_value"):
            value = field.from_db_value(value, None, connection)
        setattr(objs[-1], field.attname, value)


def insert(*objs) -> None:
    """Insert new model instances together, in an order their foreign keys allow: one statement
    on PostgreSQL, all or nothing. The last instance gets its generated fields back."""
    for obj in objs:
        obj._prepare_related_fields_for_save(operation_name="insert")
    if connection.vendor != "postgresql":
        with transaction.atomic():
            for obj in objs:
                obj.save(force_insert=True)
        return
    if connection.in_atomic_block:
        with transaction.atomic():  # a savepoint
            _execute(objs)
    else:
        _execute(objs)  # autocommit: the statement is its own transaction
    for obj in objs:
        obj._state.adding = False
        obj._state.db = connection.alias
