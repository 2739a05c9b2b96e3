"""Generated audit entries that continue the real hash chain.

The digest is casework.audit's own function, computed here in a streaming loop from the current
head, so `verify_audit` checks generated entries exactly as it checks recorded ones. Entries of a
chunk are chained in time order. The caller holds the head row locked (select_for_update) while
a chunk is written, in the chunk's transaction.
"""

from datetime import UTC
from types import SimpleNamespace

from casework.audit import _digest
from casework.models import AuditEntry

FIELDS = ["at", "actor", "action", "object_type", "object_id", "data", "prev_hash", "hash"]


class Chain:
    def __init__(self, head):
        self.head = head
        self.events: list[tuple] = []

    def add(self, at, actor_id, action: str, object_type: str, object_id, **data) -> None:
        """`data` holds JSON values only (dates as ISO strings), as audit.record stores them."""
        self.events.append(
            (at, len(self.events), actor_id, action, object_type, str(object_id), data)
        )

    def flush(self, sink) -> None:
        rows = []
        prev = self.head.last_hash
        for at, _, actor_id, action, object_type, object_id, data in sorted(self.events):
            entry = SimpleNamespace(
                at=at.astimezone(UTC),
                actor_id=actor_id,
                action=action,
                object_type=object_type,
                object_id=object_id,
                data=data,
            )
            digest = _digest(prev, entry)
            rows.append((entry.at, actor_id, action, object_type, object_id, data, prev, digest))
            prev = digest
        sink.write(AuditEntry, FIELDS, rows)
        self.head.last_hash, self.head.count = prev, self.head.count + len(rows)
        self.head.save(update_fields=["last_hash", "count"])
        self.events = []
