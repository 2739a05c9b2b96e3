"""Writing and verifying the audit log. Call `record` inside the transaction of the change."""

import json

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction

from .audit_catalogue import Action
from .audit_chain import GENESIS, digest_of
from .audit_verify import verify
from .models import AuditEntry, AuditHead

__all__ = ["GENESIS", "UnknownAction", "record", "verify"]


def _digest(prev_hash: str, entry: AuditEntry) -> str:
    return digest_of(
        prev_hash, entry.at, entry.actor_id, entry.action, entry.object_type, entry.object_id,
        entry.data,
    )  # fmt: skip


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
