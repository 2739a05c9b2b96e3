"""manage.py generate_load_data --reports N: synthetic data at scale, added to the database.

See ops/loadgen for what is generated and what is not real (receipt hashes are placeholders,
documents have no files).
"""

import time

from django.core.management.base import BaseCommand, CommandError

from ops import loadgen


class Command(BaseCommand):
    help = "Add N synthetic reports with their cases, documents, rewards and audit entries."

    def add_arguments(self, parser):
        parser.add_argument("--reports", type=int, required=True, help="how many reports to add")
        parser.add_argument(
            "--seed", type=int, default=12, help="random seed (same seed, same data)"
        )

    def handle(self, *args, reports, seed, **options):
        if reports < 1:
            raise CommandError("--reports must be at least 1")
        began = time.perf_counter()
        log = self.stdout.write if options["verbosity"] > 1 else (lambda _msg: None)
        written = loadgen.generate(reports, seed=seed, log=log)
        for label, count in sorted(written.items()):
            self.stdout.write(f"{label}: {count:,}")
        self.stdout.write(f"generated in {time.perf_counter() - began:.1f} s")
