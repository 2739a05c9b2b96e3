"""Scheduled operations (CELERY_BEAT_SCHEDULE)."""

from dataclasses import asdict

from celery import shared_task

from .retention import run


@shared_task
def purge() -> dict:
    return asdict(run())
