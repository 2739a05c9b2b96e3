"""assessment_report --year YYYY [--county CODE] --format json|csv|xlsx [--out PATH] [--live]"""

import json
import sys

from django.core.management.base import BaseCommand, CommandError

from org.models import County

from ... import exports, report


class Command(BaseCommand):
    help = (
        "Township scores (考核) of a year: one object per township, ranked by net score. A frozen "
        "year prints its frozen figures unless --live is given."
    )

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, required=True)
        parser.add_argument("--county", help="county code (default: every county)")
        parser.add_argument("--format", choices=["json", "csv", "xlsx"], default="json")
        parser.add_argument("--out", help="write to this file instead of standard output")
        parser.add_argument(
            "--live", action="store_true", help="today's figures even when the year is frozen"
        )

    def handle(self, *args, year, county, format, out, live, **options):
        if not 2000 <= year <= 2100:
            raise CommandError("--year must be between 2000 and 2100")
        counties = County.objects.order_by("code")
        if county:
            counties = counties.filter(code=county)
            if not counties.exists():
                raise CommandError(f"no county with code {county!r}")
        rows = []
        for c in counties:
            rows.extend(report.assessment(c, year, live_only=live).rows)
        if format == "json":
            data = (json.dumps(rows, ensure_ascii=False, indent=2) + "\n").encode()
        elif format == "csv":
            data = exports.to_csv(rows).encode("utf-8")
        else:
            data = exports.to_xlsx(rows, f"{county or 'all'}-{year}")
        if out:
            with open(out, "wb") as fh:
                fh.write(data)
            self.stderr.write(f"{len(rows)} townships written to {out}")
        elif format == "xlsx" and getattr(self.stdout, "_out", None) is not sys.stdout:
            raise CommandError("give --out PATH for xlsx")
        elif format == "xlsx":
            sys.stdout.buffer.write(data)
            sys.stdout.flush()
        else:
            self.stdout.write(data.decode(), ending="")
