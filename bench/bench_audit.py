"""Audit chain cost: appending through casework.audit.record (head row locked, SHA-256 chained)
against a baseline insert of the same row without the chain, and verify_audit's walk.

    DJANGO_DEBUG=1 .venv/bin/python bench/bench_audit.py [--n 2000]

Runs on a throw-away SQLite database unless DATABASE_URL is set (use a scratch database).
"""

import argparse
import os
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
from django.db import transaction  # noqa: E402

from casework import audit  # noqa: E402
from casework.models import AuditEntry  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=2000)
    n = parser.parse_args().n
    call_command("migrate", verbosity=0)
    data = {"transition": "start_investigation", "source": "accepted", "target": "investigating"}

    start = time.perf_counter()
    for i in range(n):
        with transaction.atomic():
            AuditEntry(
                action="bench.baseline",
                object_type="casework.case",
                object_id=str(i),
                data=data,
                prev_hash="0" * 64,
                hash=f"{i:064d}",
            ).save()
    baseline = time.perf_counter() - start
    AuditEntry.objects.all()._raw_delete(AuditEntry.objects.db)  # clear the unchained rows

    start = time.perf_counter()
    for i in range(n):
        audit.record(None, "case.transition", object_type="casework.case", object_id=str(i), **data)
    chained = time.perf_counter() - start

    start = time.perf_counter()
    ok, message = audit.verify()
    verify = time.perf_counter() - start
    assert ok, message

    print(f"n={n}, database={django.db.connection.vendor}")
    print(
        f"append: baseline {baseline / n * 1e3:.3f} ms, chained {chained / n * 1e3:.3f} ms, "
        f"ratio {chained / baseline:.2f}x"
    )
    print(f"verify_audit: {verify:.3f} s for {n} entries ({n / verify:,.0f} entries/s)")


if __name__ == "__main__":
    main()
