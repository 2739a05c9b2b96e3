"""Writing and verifying the audit log. Call `record` inside the transaction of the change."""

import hashlib
import json

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction

from .audit_catalogue import Action
from .models import AuditEntry, AuditHead

GENESIS = "0" * 64


def _digest(prev_hash: str, entry: AuditEntry) -> str:
    payload = json.dumps(
        {
            "prev": prev_hash,
            "at": entry.at.isoformat(),
            "actor": entry.actor_id,
            "action": entry.action,
            "object_type": entry.object_type,
            "object_id": entry.object_id,
            "data": entry.data,
        },
        sort_keys=True,
        cls=DjangoJSONEncoder,
        ensure_ascii=False,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


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


def verify() -> tuple[bool, str]:
    """Walk the chain. Returns (ok, message naming the first bad entry)."""
    prev = GENESIS
    count = 0
    for entry in AuditEntry.objects.order_by("id").iterator(chunk_size=2000):
        count += 1
        if entry.prev_hash != prev:
            return (
                False,
                f"entry #{entry.pk} ({entry.action}): an entry before it was removed or altered",
            )
        if _digest(prev, entry) != entry.hash:
            return False, f"entry #{entry.pk} ({entry.action}): its content was altered"
        prev = entry.hash
    head = AuditHead.objects.filter(pk=1).first()
    expected_hash, expected_count = (head.last_hash, head.count) if head else (GENESIS, 0)
    if prev != expected_hash or count != expected_count:
        return (
            False,
            f"the chain ends after {count} entries but {expected_count} were written: "
            "the latest entries were removed",
        )
    return True, f"audit chain intact: {count} entries"
