"""The rewards ledger for a year, without identity: the same figures as /staff/rewards/ledger/."""

import json
import sys

from django.core.management.base import BaseCommand, CommandError

from org.models import Township

from ... import ledger


class Command(BaseCommand):
    help = "Rewards by month, township and state, with totals per state (no identity, no payee)."

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, required=True)
        parser.add_argument("--county", help="county code (default: every county)")
        parser.add_argument("--format", choices=("csv", "xlsx", "json"), default="csv")
        parser.add_argument("--out", help="write to this file instead of standard output")

    def handle(self, *args, year, county, format, out, **options):
        townships = Township.objects.all()
        if county:
            townships = townships.filter(county__code=county)
            if not townships.exists():
                raise CommandError(f"no county with code {county!r} (or it has no townships)")
        figures = ledger.build(year, townships)
        if format == "xlsx":
            data = ledger.to_xlsx(figures)
            if not out:
                sys.stdout.buffer.write(data)
                return
            with open(out, "wb") as fh:
                fh.write(data)
            return
        text = (
            ledger.to_csv(figures)
            if format == "csv"
            else json.dumps(figures.as_json(), ensure_ascii=False, indent=2) + "\n"
        )
        if out:
            with open(out, "w", encoding="utf-8", newline="") as fh:
                fh.write(text)
        else:
            self.stdout.write(text, ending="")
