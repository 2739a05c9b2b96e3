"""Every benchmark against PostgreSQL, one JSON result.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/tipline_bench \
        .venv/bin/python bench/run.py --quick --out results.json

DATABASE_URL names a server and a database name; the run creates its own database
`<name>_run` on that server (dropping one left by an earlier run), so it starts empty and never
touches the named database itself. It migrates, runs seed_demo, measures at demo size, adds
`generate_load_data` up to 10,000 reports (the repeat suggestions' baseline) and then up to the
scale (--quick: 50,000; full: 1,000,000), and measures again. Each result has the scale, n,
median and p95, the baseline measured in the same run, the ratio, the target and whether it was
met (null where the issue sets no target). `python bench/report.py results.json` prints the table.
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def database(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql"):
        sys.exit("bench/run.py needs PostgreSQL: set DATABASE_URL=postgres://… (SQLite is not "
                 "what production runs, and its figures would mislead).")  # fmt: skip
    import psycopg

    name = parts.path.lstrip("/") + "_run"
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return urlunsplit(parts._replace(path=f"/{name}"))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="50,000 reports, fewer repetitions")
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument(
        "--scale",
        type=int,
        help="reports in all (more than 10,000), instead of --quick's or the full run's: a "
        "small run that checks the benchmarks work",
    )
    parser.add_argument(
        "--skip-load", action="store_true", help="leave out bench/load.py (gunicorn clients)"
    )
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL")
    if not url:
        sys.exit("Set DATABASE_URL=postgres://… (the run creates <name>_run on that server).")
    os.environ["DATABASE_URL"] = database(url)
    os.environ.setdefault("DJANGO_DEBUG", "1")
    # Pages are requested in-process (django.test.Client): its host, and no mail printed.
    os.environ["DJANGO_ALLOWED_HOSTS"] = "testserver,localhost,127.0.0.1"
    os.environ["EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("TIPLINE_VAR_DIR", tempfile.mkdtemp(prefix="tipline-bench-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from bench import measures

    scale = args.scale or (50_000 if args.quick else 1_000_000)
    if scale <= measures.BASE:
        sys.exit(f"--scale must be more than {measures.BASE:,} (the suggestions' baseline).")
    runs = 7 if args.quick else 15
    began = time.perf_counter()
    results, allowed = measures.run_all(scale, runs)
    # Hook for the submission-load measures (gunicorn + concurrent clients, worker memory): the
    # module bench/load.py, when present, provides measure(args, results), which appends its
    # result rows (built with bench.stats.result) to `results`. It runs last, on the loaded
    # database, after every in-process measure.
    try:
        from bench import load
    except ImportError:
        load = None
    if load is not None and not args.skip_load:
        load.measure(args, results)
    commit = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    out = {
        "command": " ".join(["python bench/run.py", *sys.argv[1:]]),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": commit,
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
        },
        "scale": scale,
        "seconds": round(time.perf_counter() - began, 1),
        "pages_by_role": allowed,
        "results": results,
    }
    args.out.write_text(json.dumps(out, indent=2, ensure_ascii=False))
    targets = [r for r in results if r["met"] is not None]
    met = sum(r["met"] for r in targets)
    print(f"{met} of {len(targets)} targets met; {args.out}")


if __name__ == "__main__":
    main()
