"""The measurements of bench/run.py, each with the baseline measured in the same run.

Order of a run: demo size (pages), then generate_load_data up to BASE reports and repeat
suggestions there (their baseline), then the rest of the scale and everything else.
"""

import json
import os
import secrets
import statistics
import subprocess
import sys
import time
import tracemalloc

from django.core.management import call_command
from django.utils import timezone

from casework.assessment import inputs, repeats
from org.models import County
from tipline.models import Report, ReporterIdentity

from . import micro, pages
from .stats import MIB, result, stats

BASE = 10_000  # stored reports at which repeat suggestions get their baseline (the issue's)
QUIET = open(os.devnull, "w")  # noqa: SIM115 — the commands' own output is not the result's


def generate(reports):
    start = time.perf_counter()
    call_command("generate_load_data", "--reports", str(reports), stdout=QUIET)
    return time.perf_counter() - start


def suggest_samples(county_code, runs):
    received = Report.objects.filter(status="received", township__county__code=county_code)
    times = []
    for report in received.order_by("-received_at")[: runs * 3]:
        start = time.perf_counter()
        repeats.suggest(report)
        times.append((time.perf_counter() - start) * 1000)
    return times


def assessment(county_code, scale):
    county = County.objects.get(code=county_code)
    year = timezone.localdate().year - 1  # a whole year
    times = []
    for _ in range(3):
        start = time.perf_counter()
        inputs.county_inputs(county, year)
        times.append(time.perf_counter() - start)
    tracemalloc.start()
    inputs.county_inputs(county, year)
    peak = tracemalloc.get_traced_memory()[1] / MIB
    tracemalloc.stop()
    return result(f"assessment inputs, county-year {year} ({county_code})", scale, times, "s",
                  "≤ 2 s, ≤ 300 MB", max(times) <= 2 and peak <= 300,
                  peak_mib=round(peak, 1))  # fmt: skip


# The walk in a child under production settings (DEBUG off: no query log, no debug helpers), its
# time and peak memory measured by the child itself, so neither start-up nor the parent counts.
# Peak memory is VmHWM of /proc/self/status, never ru_maxrss: Linux carries the maximum RSS of the
# process that forked over exec, so a child of this large process reported the parent's size
# (498 MB at 1M reports, 75 MB run alone). Its walkers (forked) report their largest VmHWM.
VERIFY = """
import django, json, resource, time
django.setup()
from django.conf import settings
from casework import audit
t = time.perf_counter()
ok, msg = audit.verify()
hwm = next(line for line in open("/proc/self/status") if line.startswith("VmHWM:"))
workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(json.dumps({"seconds": time.perf_counter() - t, "ok": ok, "msg": msg, "debug": settings.DEBUG,
                  "rss_mib": int(hwm.split()[1]) / 1024, "workers_rss_mib": workers}))
"""


def verify_audit(scale):
    from casework.models import AuditEntry

    entries = AuditEntry.objects.count()
    env = {**os.environ, "DJANGO_DEBUG": "0", "DJANGO_SECRET_KEY": secrets.token_urlsafe(40),
           "DJANGO_ALLOWED_HOSTS": "localhost", "LOG_LEVEL": "WARNING"}  # fmt: skip
    done = subprocess.run([sys.executable, "-c", VERIFY], check=True, env=env,
                          capture_output=True, text=True)  # fmt: skip
    child = json.loads(done.stdout.strip().splitlines()[-1])
    per_million = child["seconds"] * 1_000_000 / entries
    rss = max(child["rss_mib"], child["workers_rss_mib"])
    return result("verify_audit (seconds per 1,000,000 entries)", scale, [per_million], "s",
                  "≤ 20 s per 1M entries, peak RSS ≤ 200 MB",
                  child["ok"] and per_million <= 20 and rss <= 200, entries=entries,
                  seconds=round(child["seconds"], 1), peak_rss_mib=round(child["rss_mib"], 1),
                  workers_peak_rss_mib=round(child["workers_rss_mib"], 1),
                  debug=child["debug"], chain_ok=child["ok"])  # fmt: skip


def identity_crypto(runs=2000):
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    values = {"name": "张三丰", "phone": "13912345678", "id_number": "11010519491231002X"}
    seal, raw = [], []
    for _ in range(runs):
        start = time.perf_counter()
        identity = ReporterIdentity()
        identity.set_values(**values)
        identity._dek = None
        identity.reveal()
        seal.append((time.perf_counter() - start) * 1e6)
        start = time.perf_counter()
        key = AESGCM.generate_key(bit_length=256)
        for value in values.values():
            nonce = os.urandom(12)
            AESGCM(key).decrypt(nonce, AESGCM(key).encrypt(nonce, value.encode(), b""), b"")
        raw.append((time.perf_counter() - start) * 1e6)
    base = statistics.median(raw)
    return result("identity seal + reveal per record", None, seal, "µs", "≤ 5× raw AES-GCM",
                  statistics.median(seal) <= 5 * base,
                  ("raw AES-GCM of the same bytes", base))  # fmt: skip


def run_all(scale, runs):
    """Every measurement; `scale` reports are generated in all (BASE of them first)."""
    call_command("migrate", verbosity=0)
    call_command("seed_demo", stdout=QUIET)
    print("demo size: pages")
    demo, _ = pages.measure("demo", "clerk", runs)
    results = [micro.receipt_lookup("demo", runs * 3), micro.audit_append("demo", runs * 30)]
    print(f"generating {BASE:,} reports (suggestions baseline)")
    first = generate(BASE)
    base_times = suggest_samples("load1-c00", runs)
    print(f"generating {scale - BASE:,} more reports")
    generated = first + generate(scale - BASE)
    results.append(result(f"generate_load_data: {BASE:,} then {scale - BASE:,} reports", scale,
                          [generated], "s", "1M < 600 s, 100k < 120 s (scaled linearly)",
                          generated <= 600 * scale / 1_000_000))  # fmt: skip
    # The second batch's townships are as dense as a full-scale province (~3,300 reports each).
    print("full scale: pages")
    scaled, refused = pages.measure("load2-c00", "load2-t000-clerk", runs)
    results += pages.results(demo, scaled, scale)
    times = suggest_samples("load2-c00", runs)
    base = statistics.median(base_times)
    results.append(result("repeat suggestions per new report", scale, times, "ms",
                          f"p95 ≤ 20 ms, median ≤ 2× at {BASE:,} reports",
                          stats(times)[1] <= 20 and statistics.median(times) <= 2 * base,
                          (f"suggestions at {BASE:,} stored reports", base)))  # fmt: skip
    results.append(assessment("load2-c00", scale))
    results.append(verify_audit(scale))
    results.append(identity_crypto())
    return results, pages.allowed(scaled, refused)
