from django.core.management.base import BaseCommand

from notifications import delivery


class Command(BaseCommand):
    help = (
        "One outbox sweep, in this process: events the broker never took, then every "
        "notification due (new, or a retry whose time has come). Beat runs it every minute."
    )

    def handle(self, *args, **options):
        result = delivery.sweep()
        self.stdout.write(
            f"Outbox: {result.events} events processed, {result.sent} sent, "
            f"{result.retry} to retry later, {result.failed} failed, {result.skipped} skipped, "
            f"{result.settled} inbox notices settled (their task done)."
        )
