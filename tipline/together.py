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

Django compiles each INSERT (the model's fields, their defaults and pre_save); no signal is sent
and no save() override runs, so only models without either belong here. Only the last row gets
back what the database generates (its serial id); the others must not need it.
"""

from django.db import connection, transaction
from django.db.models.sql import InsertQuery


def _query(obj) -> InsertQuery:
    meta = obj._meta
    fields = [
        f for f in meta.local_concrete_fields if not (f is meta.auto_field and obj.pk is None)
    ]
    query = InsertQuery(type(obj))
    query.insert_values(fields, [obj])
    return query


def _sql(obj) -> tuple[str, tuple]:
    ((sql, params),) = _query(obj).get_compiler(connection=connection).as_sql()
    return sql, tuple(params)


def _statement(objs) -> list:
    """The last row's INSERT with the others in front of it as WITH clauses, executed."""
    last = objs[-1]
    compiler = _query(last).get_compiler(connection=connection)
    before = [_sql(obj) for obj in objs[:-1]]
    compile_last = compiler.as_sql

    def as_sql():
        ((sql, params),) = compile_last()
        if not before:
            return [(sql, params)]
        clauses = ", ".join(f"w{i} AS ({part})" for i, (part, _p) in enumerate(before))
        return [(f"WITH {clauses} {sql}", (*(p for _s, ps in before for p in ps), *params))]

    compiler.as_sql = as_sql
    returning = last._meta.db_returning_fields
    results = compiler.execute_sql(returning)
    return list(zip(results[0], returning, strict=True)) if results else []


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
            returned = _statement(objs)
    else:
        returned = _statement(objs)  # autocommit: the statement is its own transaction
    for value, field in returned:
        setattr(objs[-1], field.attname, value)
    for obj in objs:
        obj._state.adding = False
        obj._state.db = connection.alias
