"""A small county in a big database: the demo county's own users on the pages that list their
cases, timed on the database DATABASE_URL names (run it on one holding only seed_demo and on one
with generate_load_data on top, and compare).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/tipline_x .venv/bin/python bench/county.py

Each page is requested in-process (django.test.Client, signed in with a verified second factor)
as the demo's supervisor, clerk and auditor; prints one line per page and user: the median and
p95 of RUNS requests in ms and the queries of one request, and with --json the same as JSON.
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DJANGO_DEBUG", "1")
os.environ["DJANGO_ALLOWED_HOSTS"] = "testserver"
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django_otp import DEVICE_ID_SESSION_KEY  # noqa: E402
from django_otp.plugins.otp_totp.models import TOTPDevice  # noqa: E402

from bench.stats import stats  # noqa: E402

USERS = ("supervisor", "clerk", "auditor")
PAGES = {
    "home": "/staff/",
    "cases (all states)": "/staff/cases/?state=all",
    "cases (open)": "/staff/cases/",
    "file scores": "/staff/cases/files/",
    "queue (received)": "/staff/reports/",
    "identity requests": "/staff/identity/",
}


def client_for(username):
    user = get_user_model().objects.get(username=username)
    device, _ = TOTPDevice.objects.get_or_create(user=user, name="bench", confirmed=True)
    client = Client()
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def measure(runs):
    rows = []
    for username in USERS:
        client = client_for(username)
        for name, url in PAGES.items():
            status = client.get(url).status_code  # warms templates and caches
            if status != 200:
                rows.append({"user": username, "page": name, "status": status})
                continue
            times = []
            for _ in range(runs):
                start = time.perf_counter()
                client.get(url)
                times.append((time.perf_counter() - start) * 1000)
            with CaptureQueriesContext(connection) as ctx:
                client.get(url)
            median, p95 = stats(times)
            rows.append({
                "user": username, "page": name, "status": status, "median": round(median, 1),
                "p95": round(p95, 1), "queries": len(ctx.captured_queries),
            })  # fmt: skip
    return rows


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--json", type=Path, help="also write the rows here")
    args = parser.parse_args()
    rows = measure(args.runs)
    for r in rows:
        if r["status"] != 200:
            print(f"{r['user']:<11} {r['page']:<20} {r['status']}")
        else:
            print(f"{r['user']:<11} {r['page']:<20} median {r['median']:7.1f} ms  "
                  f"p95 {r['p95']:7.1f}  queries {r['queries']}")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
