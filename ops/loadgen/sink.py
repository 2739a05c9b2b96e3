"""Writing generated rows fast: PostgreSQL COPY, or executemany elsewhere (SQLite in tests).

Rows are plain tuples in the order of the field names given; nothing goes through model save(),
so signals, validation and defaults do not run: the generator supplies every column itself.
"""

import json

from django.db import connection


class Sink:
    def __init__(self):
        self.postgres = connection.vendor == "postgresql"
        self.written: dict[str, int] = {}
        self.superuser = None

    def write(self, model, fields: list[str], rows: list[tuple]) -> None:
        if not rows:
            return
        meta = model._meta
        columns = [meta.get_field(name) for name in fields]
        # Columns the generator leaves out get the model's default, as an ORM insert would.
        rest = [
            f
            for f in meta.concrete_fields
            if f not in columns
            and not (f.primary_key and f.get_internal_type().endswith("AutoField"))
        ]
        if rest:
            defaults = tuple(f.get_default() for f in rest)
            columns += rest
            rows = [row + defaults for row in rows]
        table = meta.db_table
        names = ", ".join(connection.ops.quote_name(f.column) for f in columns)
        if self.postgres:
            json_at = [i for i, f in enumerate(columns) if f.get_internal_type() == "JSONField"]
            with connection.cursor() as cursor:
                raw = cursor.cursor  # psycopg 3 cursor under Django's wrapper
                with raw.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                    for row in rows:
                        if json_at:
                            row = list(row)
                            for i in json_at:
                                row[i] = json.dumps(row[i], ensure_ascii=False)
                        copy.write_row(row)
        else:
            prepared = [
                tuple(f.get_db_prep_save(v, connection) for f, v in zip(columns, row, strict=True))
                for row in rows
            ]
            marks = ", ".join(["%s"] * len(columns))
            with connection.cursor() as cursor:
                # Table and column names come from the model, never from input.
                sql = f"INSERT INTO {table} ({names}) VALUES ({marks})"  # noqa: S608
                cursor.executemany(sql, prepared)
        self.written[meta.label] = self.written.get(meta.label, 0) + len(rows)

    def begin_chunk(self):
        """At the start of each chunk's transaction: skip the foreign-key triggers when the role
        may (a superuser, as pg_restore --disable-triggers does). Every id written was just
        created or read from the database, and the deferred checks of millions of rows would
        otherwise double the load time. Without the privilege the checks run as usual."""
        if not self.postgres:
            return
        with connection.cursor() as cursor:
            if self.superuser is None:
                cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
                self.superuser = cursor.fetchone()[0]
            if self.superuser:
                cursor.execute("SET LOCAL session_replication_role = replica")


def reserve_ids(model, n: int) -> int:
    """Take n consecutive integer primary keys for rows inserted with explicit ids; returns the
    first. On PostgreSQL the identity sequence moves past them, so later ORM inserts never
    collide; SQLite's AUTOINCREMENT follows the largest id by itself."""
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
