"""Writing generated rows fast: PostgreSQL COPY (text lines built in copytext), or executemany
elsewhere (SQLite in tests).

Rows are plain tuples in the order of the field names given; nothing goes through model save(),
so signals, validation and defaults do not run: the generator supplies every column itself.
A sink is a context manager around the whole load: one transaction, the audit head locked from
the first entry to the last, committed (with the head moved) only if every row went in.

On PostgreSQL outside any transaction (the command) a `ThreadedSink` writes through a second
connection in a thread, so the server ingests one chunk while Python builds the next (two cores:
one each). Inside a transaction (a test) the `DjangoSink` writes through Django's own connection,
whose rows the test rolls back.
"""

import queue
import threading

import psycopg
from django.db import connection, transaction

from casework.audit import GENESIS
from casework.models import AuditHead
from tipline.models import Report

from . import bulkload, copytext

HEAD = AuditHead._meta.db_table
# The head row is created if missing and locked until the load commits, as audit.record locks it.
LOCK_HEAD = (
    f"INSERT INTO {HEAD} (id, last_hash, count) VALUES (1, %s, 0) ON CONFLICT DO NOTHING",  # noqa: S608
    f"SELECT last_hash, count FROM {HEAD} WHERE id = 1 FOR UPDATE",  # noqa: S608
)
MOVE_HEAD = f"UPDATE {HEAD} SET last_hash = %s, count = %s WHERE id = 1"  # noqa: S608
LOAD_SETTINGS = (
    # Nothing is lost by not waiting for the WAL flush at commit (a crash loses the whole load,
    # which is re-run); index rebuilds sort in memory.
    "SET LOCAL synchronous_commit = off",
    "SET LOCAL maintenance_work_mem = '256MB'",
)


def columns(model, fields: list[str]):
    """(table, column names, defaults appended to every row): columns the generator leaves out
    get the model's default, as an ORM insert would."""
    meta = model._meta
    named = [meta.get_field(name) for name in fields]
    rest = [
        f
        for f in meta.concrete_fields
        if f not in named and not (f.primary_key and f.get_internal_type().endswith("AutoField"))
    ]
    names = ", ".join(connection.ops.quote_name(f.column) for f in named + rest)
    return meta.db_table, names, named + rest, tuple(f.get_default() for f in rest)


class Sink:
    def __init__(self, reports: int, tables: list[str], log):
        self.reports, self.tables, self.log = reports, tables, log
        self.written: dict[str, int] = {}
        self.restore: list[str] = []
        self.head = (GENESIS, 0)
        self.postgres = connection.vendor == "postgresql"

    def write(self, model, fields: list[str], rows: list[tuple]) -> None:
        if not rows:
            return
        table, names, cols, defaults = columns(model, fields)
        if defaults:
            rows = [row + defaults for row in rows]
        if self.postgres:
            self._send(self.copy_sql(table, names), "".join(map(copytext.line, rows)))
        else:
            self._insert(table, names, cols, rows)
        self._count(model, len(rows))

    def write_lines(self, model, fields: list[str], lines: list[str]) -> None:
        """Rows already formatted as COPY lines (the audit chain builds its own); PostgreSQL."""
        table, names, _, defaults = columns(model, fields)
        if defaults:
            raise ValueError(f"pre-formatted lines must name every column of {table}")
        self._send(self.copy_sql(table, names), "".join(lines))
        self._count(model, len(lines))

    def _count(self, model, n):
        self.written[model._meta.label] = self.written.get(model._meta.label, 0) + n

    def copy_sql(self, table, names):
        return f"COPY {table} ({names}) FROM STDIN"

    def prepare(self, cursor):
        """Start of the load, in its transaction: settings, indexes set aside when large."""
        for sql in LOAD_SETTINGS:
            cursor.execute(sql)
        if bulkload.large(cursor, Report._meta.db_table, self.reports):
            self.restore = bulkload.set_aside(cursor, self.tables)


class DjangoSink(Sink):
    def __enter__(self):
        self.atomic = transaction.atomic()
        self.atomic.__enter__()
        head, _ = AuditHead.objects.select_for_update().get_or_create(pk=1)
        self.head = (head.last_hash, head.count)
        if self.postgres:
            # Rows written earlier in this transaction have deferred key checks pending, which
            # forbid ALTER TABLE: run them now.
            connection.check_constraints()
            with connection.cursor() as cursor:
                self.prepare(cursor)
        return self

    def __exit__(self, *exc):
        if exc[0] is None:
            if self.restore:
                with connection.cursor() as cursor:
                    bulkload.restore(cursor, self.restore, self.log)
            AuditHead.objects.filter(pk=1).update(last_hash=self.head[0], count=self.head[1])
        return self.atomic.__exit__(*exc)

    def _send(self, sql, text):
        with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
            copy.write(text)

    def _insert(self, table, names, cols, rows):
        prepared = [
            tuple(f.get_db_prep_save(v, connection) for f, v in zip(cols, row, strict=True))
            for row in rows
        ]
        marks = ", ".join(["%s"] * len(cols))
        with connection.cursor() as cursor:
            # Table and column names come from the model, never from input.
            cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", prepared)  # noqa: S608


class ThreadedSink(Sink):
    def __enter__(self):
        params = connection.get_connection_params()
        params.pop("cursor_factory", None)
        params.pop("context", None)
        self.conn = psycopg.connect(**params)
        with self.conn.cursor() as cursor:
            cursor.execute(LOCK_HEAD[0], [GENESIS])
            cursor.execute(LOCK_HEAD[1])
            self.head = cursor.fetchone()
            self.prepare(cursor)
        self.jobs: queue.Queue = queue.Queue(maxsize=8)  # a few chunks ahead at most
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._copy_jobs, name="loadgen-copy", daemon=True)
        self.thread.start()
        return self

    def _copy_jobs(self):
        cursor = self.conn.cursor()
        for sql, text in iter(self.jobs.get, None):
            if self.error is None:
                try:
                    with cursor.copy(sql) as copy:
                        copy.write(text)
                except BaseException as e:
                    self.error = e

    def _send(self, sql, text):
        if self.error is not None:
            raise self.error
        self.jobs.put((sql, text))

    def __exit__(self, *exc):
        self.jobs.put(None)
        self.thread.join()
        try:
            if exc[0] is None and self.error is None:
                with self.conn.cursor() as cursor:
                    bulkload.restore(cursor, self.restore, self.log)
                    cursor.execute(MOVE_HEAD, list(self.head))
                self.conn.commit()
            else:
                self.conn.rollback()
        finally:
            self.conn.close()
        if exc[0] is None and self.error is not None:
            raise self.error


def open_sink(reports: int, tables: list[str], log) -> Sink:
    threaded = connection.vendor == "postgresql" and not connection.in_atomic_block
    return (ThreadedSink if threaded else DjangoSink)(reports, tables, log)


def reserve_ids(model, n: int) -> int:
    """Take n consecutive integer primary keys for rows inserted with explicit ids; returns the
    first. On PostgreSQL the identity sequence moves past them (nextval is outside transactions,
    so the load's own connection need not see it), and later ORM inserts never collide; SQLite's
    AUTOINCREMENT follows the largest id by itself."""
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id'))", [table])
            first = cursor.fetchone()[0]
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)", [table, first + n - 1]
            )
            return first
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")  # noqa: S608
        return cursor.fetchone()[0] + 1
