from django.core.management.base import BaseCommand

from notifications import digest


class Command(BaseCommand):
    help = "Each staff member's digest of what is due this week (once a day; beat runs it)."

    def handle(self, *args, **options):
        recorded = digest.record_digests()
        self.stdout.write(f"Digest: {recorded} digests recorded.")
