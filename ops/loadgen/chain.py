"""Generated audit entries that continue the real hash chain.

Each digest equals casework.audit._digest of the stored entry (verify_audit recomputes it), but
the JSON payload is assembled here from the entry's parts: the data object is serialised once and
used both inside the hashed payload and as the stored column. The payload's other values are
ASCII without quotes or backslashes (action names, model labels, ids, ISO times, hex), so quoting
them is exact. Entries of a chunk are chained in time order; the sink holds the head locked for
the whole load and stores the final head when it commits.
"""

import hashlib
import json
from datetime import UTC

from casework.models import AuditEntry

from . import copytext

FIELDS = ["at", "actor", "action", "object_type", "object_id", "data", "prev_hash", "hash"]


class Chain:
    def __init__(self, sink):
        self.sink = sink
        self.events: list[tuple] = []

    def add(self, at, actor_id, action: str, object_type: str, object_id, **data) -> None:
        """`data` holds JSON values only (dates as ISO strings), as audit.record stores them."""
        self.events.append(
            (at, len(self.events), actor_id, action, object_type, str(object_id), data)
        )

    def flush(self) -> None:
        prev, count = self.sink.head
        lines, rows = [], []
        postgres = self.sink.postgres
        for at, _, actor_id, action, object_type, object_id, data in sorted(self.events):
            at = at.astimezone(UTC)
            stamp = at.isoformat()
            data_json = json.dumps(data, sort_keys=True, ensure_ascii=False)
            actor = "null" if actor_id is None else str(actor_id)
            payload = (
                f'{{"action": "{action}", "actor": {actor}, "at": "{stamp}", "data": {data_json}, '
                f'"object_id": "{object_id}", "object_type": "{object_type}", "prev": "{prev}"}}'
            )
            digest = hashlib.sha256(payload.encode()).hexdigest()
            if postgres:
                lines.append(
                    f"{stamp}\t{actor if actor_id is not None else copytext.NULL}\t{action}\t"
                    f"{object_type}\t{object_id}\t{copytext.text(data_json)}\t{prev}\t{digest}\n"
                )
            else:
                rows.append((at, actor_id, action, object_type, object_id, data, prev, digest))
            prev = digest
        if postgres:
            self.sink.write_lines(AuditEntry, FIELDS, lines)
        else:
            self.sink.write(AuditEntry, FIELDS, rows)
        self.sink.head = (prev, count + len(self.events))
        self.events = []
