"""The transactional outbox: record an event with the change that caused it.

A foundation: every layer may call ``record`` inside the transaction of its change, and this
package imports no layer above org. The event row commits or rolls back with the change; after
the commit it is handed to Celery by task name (the tasks read every layer and are not imported
here). A broker that fails then is logged, never raised into the request: the event stays in
the table, and the sweep (``manage.py send_outbox``, every minute from beat) takes it.

Nothing is written after the publish: a mark "handed over" would be a second commit, with its
own WAL flush, on every report. The sweep takes every event nobody processed yet, whether or
not the broker holds its task too; processing is once-only whoever does it (a row lock and
keyed deliveries: notifications.delivery), so the worker and the sweep never send one notice
twice, and an event reaches a worker within milliseconds through the broker, or within a
minute through the sweep when the broker refused or lost it.
"""

import json
import logging
from functools import partial

from celery import current_app
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction

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
    "hand_over_on_commit",
    "new",
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
    event = new(kind, obj, township_id=township_id, key=key, **data)
    if key is None:
        event.save(force_insert=True)
    else:
        if Event.objects.filter(key=key).exists():
            return None
        try:
            with transaction.atomic():  # a savepoint: a lost race leaves the caller's work intact
                event.save(force_insert=True)
        except IntegrityError:
            return None
    hand_over_on_commit(event)
    return event


def new(kind: str, obj=None, *, township_id=None, key: str | None = None, **data) -> Event:
    """The event ``record`` writes, not yet written: for a caller that writes it together with
    the rows of its change (tipline.together), then calls ``hand_over_on_commit``."""
    get(kind)  # refuse a kind nobody registered
    if township_id is None and obj is not None:
        township_id = getattr(obj, "township_id", None)
    return Event(
        kind=kind,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        township_id=township_id,
        # Round-trip through JSON: dates and UUIDs are stored as the strings tasks will read.
        data=json.loads(json.dumps(data, cls=DjangoJSONEncoder)),
        key=key,
    )


def hand_over_on_commit(event: Event) -> None:
    """Hand the written event over once its transaction commits (at once outside one)."""
    transaction.on_commit(partial(hand_over, event.pk), robust=True)


def hand_over(event_id: int) -> None:
    """Give the event to the broker (or, without one, process it here and now). Never raises,
    and writes nothing: an event the broker refused waits in the outbox for the next sweep."""
    try:
        current_app.tasks[PROCESS_TASK].apply_async(
            args=[event_id], queue=getattr(settings, "CELERY_TASK_DEFAULT_QUEUE", None)
        )
    except Exception:
        log.exception("notification not handed over", extra={"event": event_id})
