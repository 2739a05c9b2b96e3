"""Writing and verifying the audit log. Call `record` inside the transaction of the change."""

import hashlib
import json
import re
from datetime import datetime

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction

from .audit_catalogue import Action
from .models import AuditEntry, AuditHead

GENESIS = "0" * 64


def _digest(prev_hash: str, entry: AuditEntry) -> str:
    return _digest_of(
        prev_hash, entry.at, entry.actor_id, entry.action, entry.object_type, entry.object_id,
        entry.data,
    )  # fmt: skip


# One encoder for every digest (json.dumps would build one per call): sorted keys, UTF-8 as is.
_ENCODER = DjangoJSONEncoder(sort_keys=True, ensure_ascii=False)


def _digest_of(prev_hash, at, actor_id, action, object_type, object_id, data) -> str:
    payload = _ENCODER.encode(
        {
            "prev": prev_hash,
            "at": at.isoformat(),
            "actor": actor_id,
            "action": action,
            "object_type": object_type,
            "object_id": object_id,
            "data": data,
        }
    )
    return hashlib.sha256(payload.encode()).hexdigest()


# What verify reads of each entry: plain tuples, since building a model instance per entry
# was a quarter of the walk's time over a million entries.
_CHAIN_FIELDS = ("id", "prev_hash", "hash", "at", "actor_id", "action", "object_type",
                 "object_id", "data")  # fmt: skip


class UnknownAction(ValueError):
    """An action name missing from the catalogue (a programming error, never user input)."""


def record(actor, action: str, obj=None, *, object_type: str = "", object_id="", **data):
    """Append one entry, chained to the previous one. Serialised by locking the head row.

    ``action`` must be in the catalogue (audit_catalogue.Action)."""
    if action not in Action.values:
        raise UnknownAction(f"{action!r} is not in the audit catalogue")
    action = str(action)  # the plain value, never the enum member, goes into the hash
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
    with transaction.atomic():
        head, _ = AuditHead.objects.select_for_update().get_or_create(pk=1)
        entry = AuditEntry(
            actor=actor if getattr(actor, "pk", None) else None,
            action=action,
            object_type=object_type,
            object_id=str(object_id),
            # Round-trip through JSON so the hash is computed over what the database will hold.
            data=json.loads(json.dumps(data, cls=DjangoJSONEncoder)),
            prev_hash=head.last_hash,
        )
        entry.hash = _digest(head.last_hash, entry)
        entry.save()
        head.last_hash, head.count = entry.hash, head.count + 1
        head.save(update_fields=["last_hash", "count"])
    return entry


def _chain_rows():
    """Every entry in id order as (id, prev_hash, hash, at, actor_id, action, object_type,
    object_id, data), streamed."""
    if connection.vendor != "postgresql":
        rows = AuditEntry.objects.order_by("id").values_list(*_CHAIN_FIELDS)
        yield from rows.iterator(chunk_size=5000)
        return
    # COPY streams while we hash, and its text is parsed here in a few C calls per row: a
    # cursor's per-value conversion was most of the time over a million entries. The session
    # time zone is UTC (Django sets it), so `at` reads back as the datetime that was hashed.
    columns = ", ".join(AuditEntry._meta.get_field(f).column for f in _CHAIN_FIELDS)
    table = AuditEntry._meta.db_table
    query = f"COPY (SELECT {columns} FROM {table} ORDER BY id) TO STDOUT"  # noqa: S608 — names from the model
    with connection.cursor() as cursor, cursor.copy(query) as copy:
        pending = b""
        for block in copy:
            lines = (pending + bytes(block)).split(b"\n")
            pending = lines.pop()
            for line in lines:
                yield _copy_row(line)


_COPY_ESCAPES = {
    "\\\\": "\\",
    "\\t": "\t",
    "\\n": "\n",
    "\\r": "\r",
    "\\b": "\b",
    "\\f": "\f",
    "\\v": "\v",
}
_COPY_ESCAPE = re.compile(r"\\.")


def _copy_text(field: str) -> str:
    return _COPY_ESCAPE.sub(lambda m: _COPY_ESCAPES[m.group()], field) if "\\" in field else field


def _copy_row(line: bytes) -> tuple:
    pk, prev_hash, stored, at, actor, action, object_type, object_id, data = line.decode().split(
        "\t"
    )
    return (
        int(pk), prev_hash, stored, datetime.fromisoformat(at),
        None if actor == "\\N" else int(actor), _copy_text(action), _copy_text(object_type),
        _copy_text(object_id), json.loads(_copy_text(data)),
    )  # fmt: skip


def _walk(rows) -> tuple[bool, str, str, int]:
    """Check each entry against the one before; (ok, message, last hash, entries read)."""
    prev = GENESIS
    count = 0
    for pk, prev_hash, stored, *content in rows:
        count += 1
        if prev_hash != prev:
            return (
                False,
                f"entry #{pk} ({content[2]}): an entry before it was removed or altered",
                prev,
                count,
            )
        if _digest_of(prev, *content) != stored:
            return False, f"entry #{pk} ({content[2]}): its content was altered", prev, count
        prev = stored
    return True, "", prev, count


def verify() -> tuple[bool, str]:
    """Walk the chain. Returns (ok, message naming the first bad entry)."""
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost and connection.vendor == "postgresql":
            # The head and the walk read one snapshot: an entry appended meanwhile is in both
            # or in neither, so a busy system never looks truncated.
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        head = AuditHead.objects.filter(pk=1).first()
        ok, message, prev, count = _walk(_chain_rows())
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
