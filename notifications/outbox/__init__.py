"""The transactional outbox: record an event with the change that caused it.

A foundation: every layer may call ``record`` inside the transaction of its change, and this
package imports no layer above org. The event row commits or rolls back with the change; after
the commit it is handed to Celery by task name (the tasks read every layer and are not imported
here). A broker that fails then is logged, never raised into the request: the event stays in
the table, and the sweep (``manage.py send_outbox``, every minute from beat) takes it.
"""

import json
import logging
from functools import partial

from celery import current_app
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.utils import timezone

from ..models import Event
from .kinds import (
    EMAIL,
    INBOX,
    KINDS,
    SMS,
    Kind,
    Recipient,
    UnknownKind,
    each_event,
    get,
    object_left,
    register,
    reporters,
    roles,
    staff_kinds,
)

__all__ = [
    "EMAIL",
    "INBOX",
    "KINDS",
    "SMS",
    "Kind",
    "Recipient",
    "UnknownKind",
    "each_event",
    "get",
    "hand_over",
    "object_left",
    "record",
    "register",
    "reporters",
    "roles",
    "staff_kinds",
]

log = logging.getLogger(__name__)

PROCESS_TASK = "notifications.tasks.process_event"


def record(kind: str, obj=None, *, township_id=None, key: str | None = None, **data):
    """Write an event of ``kind`` about ``obj`` in the current transaction; hand it over after
    the commit. ``data`` holds ids and dates only, never a name, a receipt or a report's text.

    With ``key``, an event already recorded under that key makes this a no-op (returns None):
    a reminder per deadline and stage, a digest per person and day.
    """
    get(kind)  # refuse a kind nobody registered
    if township_id is None and obj is not None:
        township_id = getattr(obj, "township_id", None)
    fields = {
        "kind": kind,
        "object_type": obj._meta.label_lower if obj is not None else "",
        "object_id": str(obj.pk) if obj is not None else "",
        "township_id": township_id,
        # Round-trip through JSON: dates and UUIDs are stored as the strings tasks will read.
        "data": json.loads(json.dumps(data, cls=DjangoJSONEncoder)),
        "key": key,
    }
    if key is None:
        event = Event.objects.create(**fields)
    else:
        if Event.objects.filter(key=key).exists():
            return None
        try:
            with transaction.atomic():  # a savepoint: a lost race leaves the caller's work intact
                event = Event.objects.create(**fields)
        except IntegrityError:
            return None
    transaction.on_commit(partial(hand_over, event.pk), robust=True)
    return event


def hand_over(event_id: int) -> None:
    """Give the event to the broker (or, without one, process it here and now). Never raises."""
    try:
        current_app.tasks[PROCESS_TASK].apply_async(
            args=[event_id], queue=getattr(settings, "CELERY_TASK_DEFAULT_QUEUE", None)
        )
        if not current_app.conf.task_always_eager:
            Event.objects.filter(pk=event_id, handed_over_at__isnull=True).update(
                handed_over_at=timezone.now()
            )
    except Exception:
        log.exception("notification not handed over", extra={"event": event_id})
