from django.core.management.base import BaseCommand, CommandError

from casework import audit


class Command(BaseCommand):
    help = "Check the audit log's hash chain; exit non-zero naming the first bad entry."

    def add_arguments(self, parser):
        parser.add_argument(
            "--workers",
            type=int,
            default=0,
            help="processes walking ranges of the log at once on PostgreSQL (default: one per CPU)",
        )

    def handle(self, *args, **options):
        ok, message = audit.verify(workers=options["workers"])
        if not ok:
            raise CommandError(f"Audit chain broken: {message}")
        self.stdout.write(self.style.SUCCESS(message))
