"""What the notification outbox still has to do (for the deep health check)."""

from django.db.models import Q
from django.utils import timezone

from notifications.delivery import handover_grace
from notifications.models import Delivery, Event


def backlog() -> dict:
    """Counts only: events the broker never took (past the grace a task has to pick them up),
    deliveries waiting to be sent, and deliveries that gave up (shown to administrators)."""
    stale = timezone.now() - handover_grace()
    return {
        "events_waiting": Event.objects.filter(processed_at__isnull=True)
        .filter(Q(handed_over_at__isnull=True) | Q(handed_over_at__lt=stale))
        .count(),
        "deliveries_pending": Delivery.objects.filter(status=Delivery.Status.PENDING).count(),
        "deliveries_failed": Delivery.objects.filter(status=Delivery.Status.FAILED).count(),
    }
