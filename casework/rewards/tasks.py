"""The daily reward job (scheduled in CELERY_BEAT_SCHEDULE)."""

from celery import shared_task

from .services import lapse_overdue


@shared_task
def lapse_overdue_rewards() -> int:
    return lapse_overdue()
