"""Intake cost: a full report (Argon2id receipt hash, sealed identity, blind indexes) against a
baseline insert of the same row without any cryptography, and a receipt look-up against a plain
indexed look-up. Ratios, because this machine is shared and noisy.

    DJANGO_DEBUG=1 .venv/bin/python bench/bench_intake.py [--n 200]

Runs on a throw-away SQLite database unless DATABASE_URL is set.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_DEBUG", "1")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("TIPLINE_VAR_DIR", tempfile.mkdtemp(prefix="tipline-bench-"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.core.management import call_command  # noqa: E402

from org.models import County, Township  # noqa: E402
from tipline import receipts, services  # noqa: E402
from tipline.models import Report  # noqa: E402


def timed(fn, n):
    samples = []
    for i in range(n):
        start = time.perf_counter()
        fn(i)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=200)
    n = parser.parse_args().n
    call_command("migrate", verbosity=0)
    county, _ = County.objects.get_or_create(code="bench", defaults={"name": "bench"})
    township, _ = Township.objects.get_or_create(
        code="bench", defaults={"county": county, "name": "bench"}
    )
    data = services.ReportInput(
        category="sex_determination",
        township_id=township.id,
        description="某诊所用B超鉴定胎儿性别" * 5,
        subject_phone="13800000000",
        reporter_name="测试人",
        reporter_phone="13900000000",
        reporter_id_number="11010519491231002X",
    )
    found = []

    def full(_i):
        found.append(services.create_report(data)[1])

    def baseline(i):
        Report.objects.create(
            receipt_hash=f"baseline-{i}-{time.perf_counter_ns()}",
            channel="web",
            category=data.category,
            township_id=township.id,
            description=data.description,
            subject_phone=data.subject_phone,
        )

    base_insert = timed(baseline, n)
    full_insert = timed(full, n)
    hashes = list(Report.objects.values_list("receipt_hash", flat=True)[:n])
    base_lookup = timed(
        lambda i: Report.objects.filter(receipt_hash=hashes[i % len(hashes)]).first(), n
    )
    full_lookup = timed(lambda i: services.find_by_receipt(found[i % len(found)]), n)
    hash_only = timed(lambda i: receipts.receipt_hash(found[i % len(found)]), n)

    print(f"n={n}, database={django.db.connection.vendor}")
    print(
        f"report insert: baseline {base_insert * 1e3:.2f} ms, full {full_insert * 1e3:.2f} ms, "
        f"ratio {full_insert / base_insert:.1f}x"
    )
    print(
        f"receipt lookup: baseline {base_lookup * 1e3:.2f} ms, full {full_lookup * 1e3:.2f} ms, "
        f"ratio {full_lookup / base_lookup:.1f}x (Argon2id alone {hash_only * 1e3:.2f} ms)"
    )


if __name__ == "__main__":
    main()
