"""Assessment at scale: a county-year's scores and a report's repeat suggestions, with many
reports and cases in the database.

    DJANGO_DEBUG=1 .venv/bin/python bench/bench_assessment.py [--reports 200000] [--cases 20000]

Runs on a throw-away SQLite database unless DATABASE_URL is set (use a scratch database). Rows are
bulk-inserted (no services: this measures the reads). Each measurement is the median of several
runs, beside a baseline primary-key look-up measured in the same run.
"""

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_DEBUG", "1")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("TIPLINE_VAR_DIR", tempfile.mkdtemp(prefix="tipline-bench-"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from casework.assessment import inputs, repeats  # noqa: E402
from casework.models import Case  # noqa: E402
from org.models import County, Township  # noqa: E402
from tipline.models import Category, Report  # noqa: E402
from vault import crypto  # noqa: E402

NAMES = ["李记诊所", "王氏B超室", "某药店", "流动B超车", "张家卫生室", "人民路私人诊所"]
STATES = ["penalized", "unfounded", "transferred", "investigating", "archived"]


def median_ms(func, runs):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        func()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def populate(n_reports, n_cases):
    rng = random.Random(8)
    county = County.objects.get(code="demo")
    townships = list(Township.objects.filter(county=county))
    user = get_user_model().objects.get(username="admin")
    now = timezone.now()
    start = now - timedelta(days=300)
    phones = [f"139{i:08d}" for i in range(5000)]
    indexes = {p: crypto.blind_index("phone", p) for p in phones}
    cases = []
    for i in range(n_cases):
        ts = townships[i % len(townships)]
        accepted = start + timedelta(minutes=rng.randrange(300 * 24 * 60))
        state = rng.choice(STATES)
        closed = (
            accepted + timedelta(days=rng.randrange(1, 120)) if state != "investigating" else None
        )
        cases.append(
            Case(
                number=f"BENCH-{i:07d}",
                township=ts,
                category=Category.SEX_DETERMINATION,
                title="bench",
                state=state,
                opened_by=user,
                accepted_at=accepted,
                decision_due=(accepted + timedelta(days=90)).date(),
                closed_at=closed,
                penalized_at=closed if state in ("penalized", "archived") else None,
                transferred_on=closed.date() if closed and state == "transferred" else None,
            )
        )
    Case.objects.bulk_create(cases, batch_size=2000)
    case_rows = list(
        Case.objects.filter(number__startswith="BENCH-").values_list("pk", "township_id")
    )
    batch = []
    share = min(0.5, 1.5 * n_cases / max(n_reports, 1))  # about 1.5 linked reports per case
    for i in range(n_reports):
        linked = rng.random() < share
        case_id, township_id = rng.choice(case_rows) if linked else (None, rng.choice(townships).pk)
        phone = rng.choice(phones)
        batch.append(
            Report(
                receipt_hash=f"bench{i}",
                channel="web",
                category=Category.SEX_DETERMINATION,
                township_id=township_id,
                description="bench",
                subject_name=rng.choice(NAMES),
                subject_address=f"人民路{rng.randrange(200)}号",
                subject_phone=phone,
                subject_phone_index=indexes[phone],
                received_at=start + timedelta(minutes=rng.randrange(330 * 24 * 60)),
                status="accepted" if linked else "received",
                case_id=case_id,
            )
        )
        if len(batch) == 5000:
            Report.objects.bulk_create(batch)
            batch = []
    Report.objects.bulk_create(batch)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return county


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--reports", type=int, default=200_000)
    parser.add_argument("--cases", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    call_command("seed_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
    began = time.perf_counter()
    county = populate(args.reports, args.cases)
    print(f"{connection.vendor}: {Report.objects.count()} reports, {Case.objects.count()} cases")
    print(f"  inserted in {time.perf_counter() - began:.0f} s")
    year = timezone.localdate().year
    some = Report.objects.filter(status="received").order_by("?").first()
    baseline = median_ms(lambda: Report.objects.get(pk=some.pk), args.runs)
    with CaptureQueriesContext(connection) as ctx:
        inputs.county_inputs(county, year)
    county_ms = median_ms(lambda: inputs.county_inputs(county, year), args.runs)
    received = list(Report.objects.filter(status="received").order_by("?")[: args.runs * 4])
    suggest_ms = statistics.median(median_ms(lambda r=r: repeats.suggest(r), 1) for r in received)
    with CaptureQueriesContext(connection) as sug:
        n = len(repeats.suggest(received[0]))
    decided = Case.objects.filter(township__county=county, closed_at__year=year).count()
    print(f"  baseline pk look-up:           {baseline:8.2f} ms")
    print(f"  county-year scores:            {county_ms:8.2f} ms", end=" ")
    print(f"({len(ctx.captured_queries)} queries, {decided} cases decided in {year})")
    print(f"  repeat suggestions per report: {suggest_ms:8.2f} ms", end=" ")
    print(f"({len(sug.captured_queries)} queries, {n} shown)")


if __name__ == "__main__":
    main()
