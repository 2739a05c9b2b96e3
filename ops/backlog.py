"""What the notification outbox still has to do (for the deep health check)."""

from django.utils import timezone

from notifications.delivery import handover_grace
from notifications.models import Delivery, Event


def backlog() -> dict:
    """Counts only: events no worker processed within the grace a task has to pick them up
    (the broker refused or lost them: the sweep takes them), deliveries waiting to be sent,
    and deliveries that gave up (shown to administrators)."""
    stale = timezone.now() - handover_grace()
    return {
        "events_waiting": Event.objects.filter(
            processed_at__isnull=True, created_at__lt=stale
        ).count(),
        "deliveries_pending": Delivery.objects.filter(status=Delivery.Status.PENDING).count(),
        "deliveries_failed": Delivery.objects.filter(status=Delivery.Status.FAILED).count(),
    }
