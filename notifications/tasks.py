"""Celery tasks. They take ids, re-read state, and are safe to run twice.

Handed over by name (``notifications.tasks.process_event``) from the outbox after a commit;
the others run from beat (settings.CELERY_BEAT_SCHEDULE) and do what their commands do.
"""

from dataclasses import asdict

from celery import shared_task

from . import deadline_scan, delivery, digest


@shared_task(name="notifications.tasks.process_event")
def process_event(event_id: int) -> int:
    """Work out who hears of the event (once) and send what is due. Returns notices sent."""
    return delivery.process(event_id)


@shared_task(name="notifications.tasks.sweep_outbox")
def sweep_outbox() -> dict:
    """One outbox sweep (every minute): what the broker never took, and retries now due."""
    return asdict(delivery.sweep())


@shared_task(name="notifications.tasks.scan_deadlines")
def scan_deadlines() -> int:
    """Reminders and escalations due now (hourly). Returns how many were recorded."""
    return deadline_scan.scan()


@shared_task(name="notifications.tasks.send_digests")
def send_digests() -> int:
    """Each staff member's digest of what is due this week (daily)."""
    return digest.record_digests()
