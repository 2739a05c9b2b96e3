"""Walking the audit chain: `verify` names the first entry whose link or content is broken.

The chain is read in ranges of ids. Each range is walked on its own (every entry's content
against its hash, every link inside the range), and the ranges are then joined in order: a
range's first entry must link to the last entry of the range before. That gives the same first
broken entry as one walk from the start, and lets the ranges be walked in parallel: on
PostgreSQL, outside a transaction, each range goes to a worker process that reads through its own
connection in the snapshot the parent exported, so the head row and every range read one state
of the log while appends go on.

Rows are read with COPY as text and hashed from that text (audit_chain.digest_of_text): no model
instance, no Python value built only to be serialised again, and memory bounded by one COPY
block per process whatever the log's size.
"""

import multiprocessing
import os
import re
from typing import NamedTuple

from django.db import connection, transaction
from django.db.models import Max, Min

from .audit_chain import ENCODER, GENESIS, at_iso, data_json, digest_of_text
from .models import AuditEntry, AuditHead

SPAN = 200_000  # ids per range: one worker's task
_DATA_CACHE_LIMIT = 20_000  # distinct data texts remembered (a transition's data repeats)
_FIELDS = ("id", "prev_hash", "hash", "at", "actor_id", "action", "object_type", "object_id",
           "data")  # fmt: skip


class Range(NamedTuple):
    """What the join needs of one walked range."""

    first_id: int | None
    first_prev: str
    first_action: str
    last_hash: str
    count: int
    error: str  # the first broken entry inside the range, "" if none


def _link_broken(pk, action):
    return f"entry #{pk} ({action}): an entry before it was removed or altered"


def walk(rows) -> Range:
    """Check each entry's hash, and each link after the first; rows as `_copy_rows` yields."""
    first_id, first_prev, first_action = None, "", ""
    prev, count = "", 0
    for pk, prev_hash, stored, at, actor, action, object_type, object_id, data in rows:
        if count == 0:
            first_id, first_prev, first_action = pk, prev_hash, action
        elif prev_hash != prev:
            return Range(first_id, first_prev, first_action, prev, count, _link_broken(pk, action))
        count += 1
        if digest_of_text(prev_hash, at, actor, action, object_type, object_id, data) != stored:
            error = f"entry #{pk} ({action}): its content was altered"
            return Range(first_id, first_prev, first_action, prev, count, error)
        prev = stored
    return Range(first_id, first_prev, first_action, prev, count, "")


def join(ranges) -> tuple[bool, str, str, int]:
    """The walked ranges in id order: (ok, message naming the first bad entry, last hash,
    entries)."""
    prev, count = GENESIS, 0
    for part in ranges:
        if not part.count:
            continue
        if part.first_prev != prev:
            return False, _link_broken(part.first_id, part.first_action), prev, count
        if part.error:
            return False, part.error, prev, count
        prev, count = part.last_hash, count + part.count
    return True, "", prev, count


# --- reading the rows as text ---------------------------------------------------------------

_COPY_ESCAPES = {"\\\\": "\\", "\\t": "\t", "\\n": "\n", "\\r": "\r", "\\b": "\b", "\\f": "\f",
                 "\\v": "\v"}  # fmt: skip
_COPY_ESCAPE = re.compile(r"\\.")


def _copy_text(field: str) -> str:
    return _COPY_ESCAPE.sub(lambda m: _COPY_ESCAPES[m.group()], field) if "\\" in field else field


def _copy_rows(cursor, low, high):
    """Entries with low <= id < high in id order: (id, prev_hash, hash, at as isoformat(),
    actor as JSON, action, object_type, object_id, data as ENCODER writes it).

    The session time zone is UTC (Django sets it), so `at` reads back as the time that was
    hashed."""
    columns = ", ".join(AuditEntry._meta.get_field(f).column for f in _FIELDS)
    query = (
        f"COPY (SELECT {columns} FROM {AuditEntry._meta.db_table} "  # noqa: S608 — model names
        f"WHERE id >= {int(low)} AND id < {int(high)} ORDER BY id) TO STDOUT"  # and integers
    )
    cache = {}
    with cursor.copy(query) as copy:
        for block in copy:  # COPY sends one row per message
            line = bytes(block).decode()
            pk, prev_hash, stored, at, actor, action, object_type, object_id, data = line[
                :-1
            ].split("\t")
            canonical = cache.get(data)
            if canonical is None:
                if len(cache) >= _DATA_CACHE_LIMIT:
                    cache.clear()
                canonical = cache[data] = data_json(_copy_text(data))
            yield (
                int(pk), prev_hash, stored, at_iso(at), "null" if actor == "\\N" else actor,
                _copy_text(action), _copy_text(object_type), _copy_text(object_id), canonical,
            )  # fmt: skip


def _orm_rows(low, high):
    """As _copy_rows, through the ORM (SQLite)."""
    rows = AuditEntry.objects.filter(id__gte=low, id__lt=high).order_by("id")
    for pk, prev_hash, stored, at, actor, *text, data in rows.values_list(*_FIELDS).iterator(
        chunk_size=5000
    ):
        actor = "null" if actor is None else str(actor)
        yield pk, prev_hash, stored, at.isoformat(), actor, *text, ENCODER.encode(data)


def _walk_here(low, high) -> Range:
    if connection.vendor != "postgresql":
        return walk(_orm_rows(low, high))
    with connection.cursor() as cursor:
        return walk(_copy_rows(cursor, low, high))


def _walk_in_child(task) -> Range:
    """A worker's range, read through a connection of its own in the parent's snapshot."""
    snapshot, low, high = task
    own = connection.copy()
    try:
        with own.cursor() as cursor:
            cursor.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            cursor.execute(f"SET TRANSACTION SNAPSHOT '{snapshot}'")
            part = walk(_copy_rows(cursor, low, high))
            cursor.execute("ROLLBACK")
        return part
    finally:
        own.close()


def _ranges(low, high, span):
    if low is None:
        return []
    return [(start, min(start + span, high + 1)) for start in range(low, high + 1, span)]


def _cpus() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def verify(*, workers: int = 0, span: int = SPAN) -> tuple[bool, str]:
    """Walk the chain. Returns (ok, message naming the first bad entry).

    `workers`: processes walking ranges of `span` ids at once (0: one per CPU). The walk stays
    in this process on SQLite, inside a transaction (a worker could not see its writes), or
    when the log fits one range."""
    outermost = not connection.in_atomic_block
    postgres = connection.vendor == "postgresql"
    with transaction.atomic():
        if outermost and postgres:
            # The head and the walk read one snapshot: an entry appended meanwhile is in both
            # or in neither, so a busy system never looks truncated.
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        head = AuditHead.objects.filter(pk=1).first()
        bounds = AuditEntry.objects.aggregate(low=Min("id"), high=Max("id"))
        ranges = _ranges(bounds["low"], bounds["high"], span)
        workers = min(workers or _cpus(), len(ranges))
        # A daemonic process (a Celery prefork child) may not start processes of its own.
        alone = multiprocessing.current_process().daemon
        if outermost and postgres and workers > 1 and not alone:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_export_snapshot()")
                (snapshot,) = cursor.fetchone()
            # fork: a worker starts with this process's settings (the test database's name
            # too) and opens its own connection; it never touches the one inherited.
            with multiprocessing.get_context("fork").Pool(workers) as pool:
                tasks = [(snapshot, low, high) for low, high in ranges]
                ok, message, prev, count = join(pool.imap(_walk_in_child, tasks))
        else:
            ok, message, prev, count = join(_walk_here(low, high) for low, high in ranges)
    if not ok:
        return False, message
    expected_hash, expected_count = (head.last_hash, head.count) if head else (GENESIS, 0)
    if prev != expected_hash or count != expected_count:
        return (
            False,
            f"the chain ends after {count} entries but {expected_count} were written: "
            "the latest entries were removed",
        )
    return True, f"audit chain intact: {count} entries"
