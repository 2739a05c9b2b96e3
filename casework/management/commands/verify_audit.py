from django.core.management.base import BaseCommand, CommandError

from casework import audit


class Command(BaseCommand):
    help = "Check the audit log's hash chain; exit non-zero naming the first bad entry."

    def handle(self, *args, **options):
        ok, message = audit.verify()
        if not ok:
            raise CommandError(f"Audit chain broken: {message}")
        self.stdout.write(self.style.SUCCESS(message))
