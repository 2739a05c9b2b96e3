from django.core.management.base import BaseCommand

from notifications import deadline_scan


class Command(BaseCommand):
    help = (
        "One deadline scan: reminders 3 working days before, on the day and once overdue "
        "(with escalation to supervisors), each only once. Beat runs it every hour."
    )

    def handle(self, *args, **options):
        recorded = deadline_scan.scan()
        self.stdout.write(f"Deadlines: {recorded} reminders recorded.")
