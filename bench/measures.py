"""The measurements of bench/run.py, each with the baseline measured in the same run."""

import os
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import connection, reset_queries
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from casework.assessment import inputs, repeats
from org import roles
from org.models import County, StaffProfile, Unit
from tipline.models import Report, ReporterIdentity

MIB = 1024 * 1024
COUNTY_ROLES = (roles.SUPERVISOR, roles.CUSTODIAN, roles.FINANCE, roles.AUDITOR)


def pages():
    """Every staff list page; the audit log's last page is reached through the page's own links."""
    pages = {
        "home": "/staff/",
        **{f"queue ({s})": f"/staff/reports/?status={s}" for s in Report.Status.values},
        "cases": "/staff/cases/",
        "cases (archived)": "/staff/cases/?state=archived",
        "file scores": "/staff/cases/files/",
        "identity requests": "/staff/identity/",
        "audit log (first page)": "/staff/audit/",
        "rewards": "/staff/rewards/",
        "rewards ledger": "/staff/rewards/ledger/",
        "assessment": "/staff/assessment/",
    }
    return pages


def stats(samples):
    samples = sorted(samples)
    p95 = samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))]
    return statistics.median(samples), p95


def result(name, scale, samples, unit, target, met, baseline=None, **extra):
    median, p95 = stats(samples)
    ratio = round(median / baseline[1], 2) if baseline and baseline[1] else None
    return {
        "name": name, "scale": scale, "n": len(samples), "unit": unit,
        "median": round(median, 3), "p95": round(p95, 3),
        "baseline": {"name": baseline[0], "median": round(baseline[1], 3)} if baseline else None,
        "ratio": ratio, "target": target, "met": bool(met), **extra,
    }  # fmt: skip


def viewer(kind, county_code, clerk_name):
    """A signed-in client with a verified second factor: county staff holding every county role,
    a superuser who sees every township, or a township clerk."""
    User = get_user_model()
    if kind == "clerk":
        user = User.objects.get(username=clerk_name)
    else:
        user, _ = User.objects.get_or_create(username=f"bench-{kind}-{county_code}")
        if kind == "province":
            user.is_superuser = user.is_staff = True
            user.save()
        else:
            county = County.objects.get(code=county_code)
            unit, _ = Unit.objects.get_or_create(
                county=county, township=None, kind=Unit.Kind.FAMILY_PLANNING
            )
            StaffProfile.objects.get_or_create(user=user, defaults={"unit": unit})
            user.groups.set(Group.objects.filter(name__in=COUNTY_ROLES))
        user = User.objects.get(pk=user.pk)
    device, _ = TOTPDevice.objects.get_or_create(user=user, name="bench", confirmed=True)
    client = Client()
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def last_audit_page(client):
    """Follow the audit log to its end, however it paginates (?page=N or ?before=<id>)."""
    import re

    html = client.get("/staff/audit/").content.decode()
    last = re.search(r'href="(\?page=\d+)"[^>]*>[^<]*(?:last|最后|末页)', html, re.I)
    if last:
        return "/staff/audit/" + last.group(1).replace("&amp;", "&")
    pages = [int(p) for p in re.findall(r"\?page=(\d+)", html)]
    if pages:
        return f"/staff/audit/?page={max(pages)}"
    from casework.models import AuditEntry

    first = AuditEntry.objects.order_by("id").values_list("id", flat=True)[:2]
    return f"/staff/audit/?before={list(first)[-1] + 1}" if first else "/staff/audit/"


def page_samples(client, url, runs):
    client.get(url)  # warm: templates, caches
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - start) * 1000)
    reset_queries()  # with DEBUG the log is capped (9,000) and a full one counts nothing new
    with CaptureQueriesContext(connection) as ctx:
        client.get(url)
    tracemalloc.start()
    client.get(url)
    peak = tracemalloc.get_traced_memory()[1] / MIB
    tracemalloc.stop()
    return times, len(ctx.captured_queries), peak, response.status_code


def measure_pages(phase, county_code, clerk_name, runs):
    out = {}
    for kind in ("province", "county", "clerk"):
        client = viewer(kind, county_code, clerk_name)
        urls = {**pages(), "audit log (last page)": last_audit_page(client)}
        for name, url in urls.items():
            out[kind, name] = (url, *page_samples(client, url, runs))
    return out


def page_results(demo, scaled, scale):
    results = []
    for key, (url, times, queries, peak, status) in scaled.items():
        demo_median = stats(demo[key][1])[0]
        median, p95 = stats(times)
        met = (status == 200 and p95 <= 100 and peak < 20 and queries <= 10
               and median <= 3 * demo_median)  # fmt: skip
        results.append(result(
            f"page {key[1]} as {key[0]}", scale, times, "ms",
            "p95 ≤ 100 ms, < 20 MiB, ≤ 10 queries, median ≤ 3× demo size", met,
            ("same page at demo size", demo_median), url=url, queries=queries,
            peak_mib=round(peak, 2), status=status,
        ))  # fmt: skip
    return results


def suggest_samples(county_code, runs):
    received = list(
        Report.objects.filter(status="received", township__county__code=county_code).order_by(
            "-received_at"
        )[: runs * 3]
    )
    times = []
    for report in received:
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
    return result(f"assessment inputs, county-year {year}", scale, times, "s",
                  "≤ 2 s, ≤ 300 MB", max(times) <= 2 and peak <= 300,
                  peak_mib=round(peak, 1))  # fmt: skip


def verify_audit(scale):
    from casework.models import AuditEntry

    entries = AuditEntry.objects.count()
    # In a child process, so its peak RSS is the walk's own; timed inside it, without start-up.
    code = ("import django, time; django.setup(); from casework import audit; "
            "t = time.perf_counter(); ok, msg = audit.verify(); "
            "print(time.perf_counter() - t); assert ok, msg")  # fmt: skip
    done = subprocess.run([sys.executable, "-c", code], check=True, cwd=os.getcwd(),
                          capture_output=True, text=True)  # fmt: skip
    seconds = float(done.stdout.strip().splitlines()[-1])
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # KiB on Linux
    per_million = seconds * 1_000_000 / entries
    return result("verify_audit (seconds per 1,000,000 entries)", scale, [per_million], "s",
                  "≤ 20 s per 1M entries, peak RSS ≤ 200 MB", per_million <= 20 and rss <= 200,
                  entries=entries, seconds=round(seconds, 1),
                  peak_rss_mib=round(rss, 1))  # fmt: skip


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
    call_command("migrate", verbosity=0)
    call_command("seed_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
    print("demo size: pages")
    demo = measure_pages("demo", "demo", "clerk", runs)
    demo_suggest = suggest_samples("demo", runs) or [0.0]
    print(f"generating {scale:,} reports")
    start = time.perf_counter()
    call_command("generate_load_data", "--reports", str(scale), stdout=open(os.devnull, "w"))  # noqa: SIM115
    generated = time.perf_counter() - start
    results = [result(f"generate_load_data --reports {scale}", scale, [generated], "s",
                      "1M < 600 s, 100k < 120 s (scaled linearly)",
                      generated <= 600 * scale / 1_000_000)]  # fmt: skip
    print("full scale: pages")
    scaled = measure_pages("scale", "load1-c00", "load1-t000-clerk", runs)
    results += page_results(demo, scaled, scale)
    times = suggest_samples("load1-c00", runs)
    base = statistics.median(demo_suggest)
    results.append(result("repeat suggestions per new report", scale, times, "ms",
                          "p95 ≤ 20 ms, median ≤ 2× at small size",
                          stats(times)[1] <= 20 and statistics.median(times) <= 2 * max(base, 1),
                          ("suggestions at demo size", base)))  # fmt: skip
    results.append(assessment("load1-c00", scale))
    results.append(verify_audit(scale))
    results.append(identity_crypto())
    return results
