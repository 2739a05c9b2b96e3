"""What the notification outbox still has to deliver (for the deep health check)."""

from notifications.models import Notification


def backlog() -> dict:
    return {"unsent": Notification.objects.filter(sent_at__isnull=True).count()}
