from dataclasses import asdict

from django.conf import settings
from django.core.management.base import BaseCommand

from ops import retention


class Command(BaseCommand):
    help = (
        "Apply the retention rules: delete rejected reports with no case past their period, and "
        "shred reporters' identities and payee details of archived cases whose reward is "
        "settled. Case files and the audit log are never deleted. Prints counts, never content."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="list what would be done, change nothing"
        )

    def handle(self, *args, dry_run, **options):
        if dry_run:
            work = retention.plan()
            self.stdout.write(
                f"Would delete {len(work.reports)} rejected reports with no case, rejected more "
                f"than {settings.TIPLINE_PURGE_REJECTED_DAYS} days ago."
            )
            for report_id, why in work.kept:
                self.stdout.write(f"  keeping report {report_id}: {why}")
            identities = sum(len(i) for _case, i, _c in work.cases)
            claims = sum(len(c) for _case, _i, c in work.cases)
            self.stdout.write(
                f"Would shred {identities} reporter identities and {claims} payee details of "
                f"{len(work.cases)} cases archived more than "
                f"{settings.TIPLINE_SHRED_IDENTITY_DAYS} days ago:"
            )
            for case, identity_ids, claim_ids in work.cases:
                self.stdout.write(
                    f"  {case.number} (archived {case.archived_at:%Y-%m-%d}): "
                    f"{len(identity_ids)} identities, {len(claim_ids)} payee details"
                )
            return
        done = retention.run()
        summary = ", ".join(
            f"{key.replace('_', ' ')} {value}" for key, value in asdict(done).items()
        )
        self.stdout.write(self.style.SUCCESS(f"Retention applied: {summary}."))
