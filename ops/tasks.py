"""Scheduled operations (CELERY_BEAT_SCHEDULE)."""

from celery import shared_task


@shared_task
def purge() -> dict:
    from dataclasses import asdict

    from .retention import run

    return asdict(run())
