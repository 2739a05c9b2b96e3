"""The daily reward job (scheduled in CELERY_BEAT_SCHEDULE)."""

from celery import shared_task


@shared_task
def lapse_overdue_rewards() -> int:
    from .services import lapse_overdue

    return lapse_overdue()
