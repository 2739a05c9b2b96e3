"""Secondary indexes and foreign keys of the loaded tables, set aside during a large load.

The rule: they are dropped only when the load adds at least as many reports as the database
already holds (so every loaded table at least doubles). Then building each index once from sorted
data, and checking each foreign key with one join (ALTER TABLE … ADD CONSTRAINT validates every
row), is cheaper than maintaining the index and firing the key's trigger row by row; for a small
addition to a big database it is not, and nothing is dropped. Unique indexes and primary keys stay:
they are what catches a generator bug (a duplicate receipt hash or case number) at once.

Everything runs in the load's own transaction, so a failed load restores them by rolling back,
and until commit other sessions wait on the tables rather than see them without their indexes.
"""

LIST_KEYS = """
    SELECT conname, conrelid::regclass::text, pg_get_constraintdef(oid)
    FROM pg_constraint WHERE contype = 'f' AND conrelid = ANY(%s::regclass[]) ORDER BY conname
"""
LIST_INDEXES = """
    SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid)
    FROM pg_index WHERE indrelid = ANY(%s::regclass[]) AND NOT indisunique AND NOT indisprimary
    ORDER BY 1
"""


def large(cursor, report_table: str, adding: int) -> bool:
    cursor.execute(f"SELECT count(*) FROM {report_table}")  # noqa: S608 — the model's table
    return adding >= cursor.fetchone()[0]


def set_aside(cursor, tables: list[str]) -> list[str]:
    """Drop the tables' foreign keys and non-unique indexes; return the statements that restore
    them (indexes first: each key's validating join then runs against indexed tables)."""
    cursor.execute(LIST_KEYS, [tables])
    keys = cursor.fetchall()
    cursor.execute(LIST_INDEXES, [tables])
    indexes = cursor.fetchall()
    for name, table, _ in keys:
        cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for name, _ in indexes:
        cursor.execute(f"DROP INDEX {name}")
    restore_keys = [f'ALTER TABLE {t} ADD CONSTRAINT "{name}" {sql}' for name, t, sql in keys]
    return [definition for _, definition in indexes] + restore_keys


def restore(cursor, statements: list[str], log) -> None:
    for sql in statements:
        cursor.execute(sql)
    if statements:
        log(f"  rebuilt {len(statements)} indexes and foreign keys")
