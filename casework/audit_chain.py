"""What each audit entry's hash covers: the chain's definition, shared by writing and verifying.

An entry's hash is SHA-256 of a JSON object (sorted keys, UTF-8 as is) holding the previous
entry's hash and the entry's content. `digest_of` is the definition; `digest_of_text` builds the
same bytes from the text a walk reads (COPY fields), without building Python values it would
only serialise again. tests/casework/test_audit_walk.py proves the two agree on awkward values.
"""

import hashlib
import json
from datetime import datetime
from json.encoder import encode_basestring

from django.core.serializers.json import DjangoJSONEncoder

GENESIS = "0" * 64

# One encoder for every digest (json.dumps would build one per call): sorted keys, UTF-8 as is.
ENCODER = DjangoJSONEncoder(sort_keys=True, ensure_ascii=False)


def digest_of(prev_hash, at, actor_id, action, object_type, object_id, data) -> str:
    payload = ENCODER.encode(
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


def digest_of_text(prev_hash: str, at_iso: str, actor: str, action: str, object_type: str,
                   object_id: str, data_json: str) -> str:  # fmt: skip
    """digest_of, given `at` as its isoformat(), the actor as JSON (`null` or the id) and the
    data already serialised by ENCODER: the same payload, key by key in sorted order."""
    payload = (
        f'{{"action": {encode_basestring(action)}, "actor": {actor}, "at": "{at_iso}", '
        f'"data": {data_json}, "object_id": {encode_basestring(object_id)}, '
        f'"object_type": {encode_basestring(object_type)}, "prev": {encode_basestring(prev_hash)}}}'
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def data_json(stored_json: str) -> str:
    """The data column's JSON text (any key order or spacing) as ENCODER writes it."""
    return ENCODER.encode(json.loads(stored_json))


def at_iso(stored: str) -> str:
    """A timestamptz as PostgreSQL prints it in UTC, as datetime.isoformat() writes it."""
    return datetime.fromisoformat(stored).isoformat()
