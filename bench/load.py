"""Public submission under load through gunicorn, and a worker's memory over many submissions.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/tipline_load \
        .venv/bin/python bench/load.py [--quick] --out load.json

Alone, it uses DATABASE_URL's database as it is (created if missing, migrated, `seed_demo` run
when it has no township). From bench/run.py, `load.measure(args, results)` uses the run's
database and settings as they are and appends its results.

It starts gunicorn (deploy/gunicorn.conf.py, WORKERS sync workers on a free port of 127.0.0.1,
bench/settings.py: DJANGO_DEBUG=0, the report limits lifted, notices handed to a Redis broker
that no worker consumes during the run (see bench_broker), no mail server,
DATABASE_CONN_MAX_AGE=60 as deploy/env.example) and sends it, with CLIENTS threads holding
keep-alive connections (http.client; sync workers close after each response and the client
reconnects), valid reports to POST /api/v1/reports and the same bodies to /bench/insert/, a bare
view that inserts one row (bench/views.py) into a table created here and dropped at the end.

Measured in the same run:
1. the receipt hash (tipline.receipts.receipt_hash, in this process, HASH_SAMPLES samples);
2. latency, one client, submissions and bare inserts alternating: the latency beyond the hash
   (submission median - hash median) against the bare view's median (target ≤ 3×). With one
   client there is no queue: under 32 clients both latencies are mostly waiting for a worker,
   which says nothing about the cost of a request;
3. throughput, 32 clients, N submissions: zero errors and ≥ 80% of the ceiling the hash sets
   (workers ÷ hash median); the latencies under load and the bare view's throughput as well;
4. memory: VmRSS of each worker (/proc/<pid>/status) after the first MEMORY_FIRST submissions
   and after MEMORY_LAST (all submissions of the run count), growth ≤ 20%.
"""

import argparse
import http.client
import itertools
import json
import os
import platform
import random
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

WORKERS = 2  # sync workers: one per core of the 2-core machine (see the README on the choice)
CLIENTS = 32
HASH_SAMPLES = 50
TABLE = "bench_load_insert"
MIB = 1024 * 1024
SCALES = {
    # name: (latency samples per view, throughput submissions, memory first, memory last)
    "quick": (100, 400, 500, 2_500),
    "full": (200, 2_000, 1_000, 10_000),
}


# --- results, in the shape of bench/measures.py ---------------------------------------------


def stats(samples):
    samples = sorted(samples)
    p95 = samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))]
    return statistics.median(samples), p95


def result(name, scale, n, unit, median, p95, target, met, baseline=None, **extra):
    ratio = round(median / baseline[1], 2) if baseline and baseline[1] else None
    return {
        "name": name, "scale": scale, "n": n, "unit": unit,
        "median": round(median, 3), "p95": None if p95 is None else round(p95, 3),
        "baseline": {"name": baseline[0], "median": round(baseline[1], 3)} if baseline else None,
        "ratio": ratio, "target": target, "met": bool(met), **extra,
    }  # fmt: skip


# --- request bodies -----------------------------------------------------------------------------

_WHAT = [
    "有人在{place}私下给孕妇做B超鉴定胎儿性别，每次收费{fee}元，",
    "{place}有个体诊所偷偷卖堕胎药，不要处方，一盒{fee}元，",
    "听说{place}附近有人用车拉孕妇去外地做胎儿性别鉴定，价格{fee}元左右，",
    "{place}的一家药店柜台下面卖米非司酮，我亲眼看见有人买走，花了{fee}元，",
    "{place}一个没有执照的人在家里给人做引产手术，收费{fee}元，",
]
_HOW = [
    "一般是晚上八点以后，来的人很多，开着外地牌照的车。",
    "我邻居上个月去过，回来后说是男孩才留下。",
    "他们用微信联系，先交定金，再告诉地址。",
    "门口没有招牌，从后门进去，里面有一台旧的B超机。",
    "已经好几年了，村里人都知道，但没人敢说。",
]
_PLACES = ["镇东头的老街", "菜市场后面", "汽车站对面", "村委会旁边", "新建的小区二号楼"]
_SUBJECTS = ["仁和诊所", "老王（王某某）", "康民大药房", "张医生", "便民卫生室"]
_CATEGORIES = [
    "sex_determination", "sex_selective_abortion", "abortion_drug_sale", "illegal_practice",
    "other",
]  # fmt: skip


def _resident_id(rng: random.Random) -> str:
    from tipline.validators import id_check_digit

    born = date(1970, 1, 1) + timedelta(days=rng.randrange(365 * 35))
    first17 = f"110105{born:%Y%m%d}{rng.randrange(1000):03d}"
    return first17 + id_check_digit(first17)


def bodies(townships: list[str], count: int, seed: int = 12) -> list[bytes]:
    """Valid API reports with realistic Chinese text; about a third name their reporter."""
    rng = random.Random(seed)
    today = datetime.now(UTC).date()
    out = []
    for _ in range(count):
        place = rng.choice(_PLACES)
        data = {
            "category": rng.choice(_CATEGORIES),
            "township": rng.choice(townships),
            "description": rng.choice(_WHAT).format(place=place, fee=rng.choice([300, 500, 800]))
            + rng.choice(_HOW),
            "occurred_on": (today - timedelta(days=rng.randrange(2, 60))).isoformat(),
            "subject_name": rng.choice(_SUBJECTS),
            "subject_address": f"{place}{rng.randrange(1, 200)}号",
        }
        if rng.random() < 0.4:
            data["subject_phone"] = f"13{rng.randrange(10**9):09d}"
        if rng.random() < 0.35:
            data["reporter_name"] = rng.choice(["李梅", "陈建国", "刘芳", "赵强"])
            data["reporter_phone"] = f"15{rng.randrange(10**9):09d}"
            data["reporter_id_number"] = _resident_id(rng)
            data["news_by_sms"] = rng.random() < 0.5
        out.append(json.dumps(data, ensure_ascii=False).encode())
    return out


# --- the load generator -----------------------------------------------------------------------


class Load:
    """Requests to one gunicorn from threads; counts every response and every failure."""

    def __init__(self, port: int, bodies: list[bytes]):
        self.port, self.bodies = port, bodies
        self.next_body = itertools.count()
        self.lock = threading.Lock()
        self.submitted = 0  # reports filed (201) since the server started
        self.errors: list[str] = []

    def connection(self):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)

    def post(self, conn, path: str, body: bytes, client: int) -> tuple[float, int]:
        headers = {
            "Content-Type": "application/json",
            "X-Forwarded-Proto": "https",  # as nginx sends it (TLS ends there)
            "X-Real-IP": f"198.51.100.{client % 250 + 1}",  # one (documentation) address each
        }
        start = time.perf_counter()
        try:
            conn.request("POST", path, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            status = response.status
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            status = 0
            with self.lock:
                self.errors.append(f"{path}: {type(exc).__name__}: {exc}")
        elapsed = (time.perf_counter() - start) * 1000
        if status != 201 and status:
            with self.lock:
                self.errors.append(f"{path}: HTTP {status}")
        if status == 201 and path == "/api/v1/reports":
            with self.lock:
                self.submitted += 1
        return elapsed, status

    def body(self) -> bytes:
        return self.bodies[next(self.next_body) % len(self.bodies)]

    def run(self, path: str, total: int, clients: int = CLIENTS):
        """`total` requests from `clients` threads; (latencies in ms, seconds, errors)."""
        remaining = itertools.count()
        latencies: list[float] = []
        errors_before = len(self.errors)

        def client(number):
            conn = self.connection()
            try:
                while next(remaining) < total:
                    elapsed, status = self.post(conn, path, self.body(), number)
                    if status == 201:
                        latencies.append(elapsed)
            finally:
                conn.close()

        threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
        start = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return latencies, time.perf_counter() - start, len(self.errors) - errors_before

    def alternate(self, count: int):
        """One client: a submission, then a bare insert, `count` times each."""
        submit, bare = [], []
        conn = self.connection()
        try:
            for _ in range(count):
                body = self.body()
                for path, out in (("/api/v1/reports", submit), ("/bench/insert/", bare)):
                    elapsed, status = self.post(conn, path, body, 0)
                    if status == 201:
                        out.append(elapsed)
        finally:
            conn.close()
        return submit, bare


# --- broker ---------------------------------------------------------------------------------------


def _redis(url: str):
    import redis

    return redis.Redis.from_url(url, socket_connect_timeout=1)


def bench_broker() -> str | None:
    """The production path hands each report's notices to the broker after commit and a Celery
    worker delivers them; the request's cost is the hand-over. The bench gives the server a
    Redis database of its own (TIPLINE_BENCH_BROKER, default db 9) and runs no worker, so the
    notices wait there and are dropped at the end: delivery would otherwise compete with the
    server for this machine's two cores. Without Redis, Celery runs eagerly in the request
    (about 17 ms of CPU more per report) and the results say so."""
    url = os.environ.get("TIPLINE_BENCH_BROKER", "redis://127.0.0.1:6379/9")
    if url == "eager":
        return None
    try:
        _redis(url).flushdb()
    except Exception as exc:  # any failure means no broker: measure eager
        print(f"load: no broker at {url} ({exc}); notifications run eagerly in the request")
        return None
    return url


# --- gunicorn ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(
    port: int, keys_file: str, log_path: Path, broker: str | None
) -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_CONN_MAX_AGE": "60",
        "TIPLINE_KEYS_FILE": keys_file,
        "TIPLINE_VAR_DIR": tempfile.mkdtemp(prefix="tipline-load-"),
        "TIPLINE_CLIENT_ADDRESS_HEADER": "HTTP_X_REAL_IP",
        "TIPLINE_SMS_BACKEND": "file",
        "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
        "LOG_LEVEL": "INFO",
        "PYTHONPATH": str(ROOT),
    }
    for name in ("CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "DJANGO_CSRF_TRUSTED_ORIGINS"):
        env.pop(name, None)
    if broker:
        env["CELERY_BROKER_URL"] = broker
    command = [
        sys.executable, "-m", "gunicorn", "-c", str(ROOT / "deploy" / "gunicorn.conf.py"),
        "--bind", f"127.0.0.1:{port}", "--workers", str(WORKERS), "--worker-class", "sync",
        "--max-requests", "0", "config.wsgi:application",
    ]  # fmt: skip
    log = open(log_path, "wb")  # noqa: SIM115 — the server writes it until it stops
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


def wait_healthy(server: subprocess.Popen, port: int, log_path: Path, seconds: float = 60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"gunicorn stopped ({server.returncode}):\n{log_path.read_text()[-3000:]}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                conn.close()
                return
        except OSError:
            pass
        time.sleep(0.2)
    stop_gunicorn(server)
    sys.exit(f"gunicorn did not answer /healthz:\n{log_path.read_text()[-3000:]}")


def stop_gunicorn(server: subprocess.Popen) -> None:
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)  # graceful: workers finish their request
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def workers_of(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return sorted(int(pid) for pid in children)


def rss(pid: int) -> dict:
    """VmRSS and RssAnon of one process, in MiB."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _sep, value = line.partition(":")
        if key in ("VmRSS", "RssAnon"):
            out[key] = int(value.split()[0]) / 1024
    return out


# --- the measure --------------------------------------------------------------------------------


def hash_samples(count: int) -> list[float]:
    from tipline import receipts
    from vault.keyring import get_keyring

    ring = get_keyring()
    receipts.receipt_hash(receipts.generate(), ring)  # warm
    times = []
    for _ in range(count):
        receipt = receipts.generate()
        start = time.perf_counter()
        receipts.receipt_hash(receipt, ring)
        times.append((time.perf_counter() - start) * 1000)
    return times


def measure(args, results) -> None:
    """Run the load against a gunicorn of this checkout and append the results."""
    import django
    from django.conf import settings
    from django.db import connection

    if not settings.configured:
        django.setup()
    from org.models import Township
    from tipline.models import Report
    from vault.keyring import get_keyring

    scale_name = "quick" if args.quick else "full"
    latency_n, throughput_n, memory_first, memory_last = SCALES[scale_name]
    townships = list(Township.objects.filter(active=True).values_list("code", flat=True))
    stored = Report.objects.count()
    get_keyring()  # a development ring is created on first use: the server must share it
    keys_file = str(settings.TIPLINE_KEYS_FILE)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {TABLE}")
        cursor.execute(
            f"CREATE TABLE {TABLE} (id bigserial PRIMARY KEY, body text NOT NULL, "
            "created_at timestamptz NOT NULL)"
        )
    connection.close()  # no idle connection of ours beside the server's

    broker = bench_broker()
    port = free_port()
    log_path = Path(tempfile.mkdtemp(prefix="tipline-load-log-")) / "gunicorn.log"
    print(f"load: gunicorn, {WORKERS} sync workers, 127.0.0.1:{port}, log {log_path}")
    server = start_gunicorn(port, keys_file, log_path, broker)
    try:
        wait_healthy(server, port, log_path)
        workers = workers_of(server.pid)
        load = Load(port, bodies(townships, 512))
        # Warm every worker: imports, templates, connections, the first of everything.
        load.run("/api/v1/reports", 64)
        load.run("/bench/insert/", 64)
        warm_errors = len(load.errors)

        print(f"load: receipt hash, {HASH_SAMPLES} samples in-process")
        hashes = hash_samples(HASH_SAMPLES)
        hash_median = statistics.median(hashes)

        print(f"load: latency, 1 client, {latency_n} submissions and bare inserts alternating")
        submit_one, bare_one = load.alternate(latency_n)

        print(f"load: up to {memory_first:,} submissions, then worker memory")
        if load.submitted < memory_first:
            load.run("/api/v1/reports", memory_first - load.submitted)
        first = {pid: rss(pid) for pid in workers}
        first_at = load.submitted

        print(f"load: throughput, {CLIENTS} clients, {throughput_n:,} submissions")
        latencies, seconds, errors = load.run("/api/v1/reports", throughput_n)
        print(f"load: throughput, {CLIENTS} clients, {throughput_n:,} bare inserts")
        bare_latencies, bare_seconds, bare_errors = load.run("/bench/insert/", throughput_n)

        print(f"load: up to {memory_last:,} submissions, then worker memory")
        if load.submitted < memory_last:
            load.run("/api/v1/reports", memory_last - load.submitted)
        last = {pid: rss(pid) for pid in workers}
        last_at = load.submitted
        restarted = workers_of(server.pid) != workers
    finally:
        stop_gunicorn(server)
        if broker:
            _redis(broker).flushdb()  # the notices nobody consumed
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM bench_load_insert")
            inserted = cursor.fetchone()[0]
            cursor.execute(f"DROP TABLE IF EXISTS {TABLE}")

    ceiling = WORKERS / (hash_median / 1000)
    throughput = len(latencies) / seconds
    under_load = stats(latencies) if latencies else (0, 0)
    bare_under_load = stats(bare_latencies) if bare_latencies else (0, 0)
    notices = "handed to the broker" if broker else "eager, in the request"
    setup = {
        "workers": WORKERS,
        "worker_class": "sync",
        "clients": CLIENTS,
        "notifications": notices,
    }
    results.append(result(
        f"public submission throughput, gunicorn {WORKERS} workers, {CLIENTS} clients",
        stored, len(latencies) + errors, "req/s", throughput, None,
        "zero errors, ≥ 0.8× the hash ceiling (workers ÷ hash median)",
        errors == 0 and throughput >= 0.8 * ceiling,
        ("receipt-hash ceiling", ceiling), **setup, errors=errors,
        seconds=round(seconds, 2), latency_median_ms=round(under_load[0], 2),
        latency_p95_ms=round(under_load[1], 2), hash_median_ms=round(hash_median, 3),
        hash_p95_ms=round(stats(hashes)[1], 3), hash_n=len(hashes),
        bare_insert_throughput=round(len(bare_latencies) / bare_seconds, 1),
        bare_insert_errors=bare_errors, bare_latency_median_ms=round(bare_under_load[0], 2),
        bare_latency_p95_ms=round(bare_under_load[1], 2),
    ))  # fmt: skip
    beyond = [t - hash_median for t in submit_one]
    bare_median = statistics.median(bare_one) if bare_one else 0
    beyond_median, beyond_p95 = stats(beyond) if beyond else (0, 0)
    results.append(result(
        "public submission latency beyond the receipt hash (1 client)",
        stored, len(beyond), "ms", beyond_median, beyond_p95,
        "≤ 3× a bare view inserting one row, same gunicorn",
        len(submit_one) == latency_n and len(bare_one) == latency_n
        and beyond_median <= 3 * bare_median,
        ("bare insert view", bare_median), **setup, clients_latency=1,
        submission_median_ms=round(statistics.median(submit_one), 2) if submit_one else None,
        submission_p95_ms=round(stats(submit_one)[1], 2) if submit_one else None,
        bare_p95_ms=round(stats(bare_one)[1], 2) if bare_one else None,
        hash_median_ms=round(hash_median, 3),
    ))  # fmt: skip
    growth = {pid: last[pid]["VmRSS"] / first[pid]["VmRSS"] - 1 for pid in workers}
    first_median = statistics.median(first[pid]["VmRSS"] for pid in workers)
    last_rss = [last[pid]["VmRSS"] for pid in workers]
    results.append(result(
        f"gunicorn worker RSS after {last_at:,} submissions vs after {first_at:,}",
        stored, len(workers), "MiB", statistics.median(last_rss), max(last_rss),
        "≤ 20% growth in every worker", not restarted and max(growth.values()) <= 0.20,
        (f"RSS after {first_at:,}", first_median), **setup,
        submissions_first=first_at, submissions_last=last_at,
        growth_percent={str(pid): round(100 * g, 1) for pid, g in growth.items()},
        rss_first_mib={str(p): round(first[p]["VmRSS"], 1) for p in workers},
        rss_last_mib={str(p): round(last[p]["VmRSS"], 1) for p in workers},
        rss_anon_first_mib={str(p): round(first[p]["RssAnon"], 1) for p in workers},
        rss_anon_last_mib={str(p): round(last[p]["RssAnon"], 1) for p in workers},
        workers_restarted=restarted,
    ))  # fmt: skip
    extra_errors = len(load.errors) - errors - bare_errors
    if load.errors:
        print(f"load: {len(load.errors)} errors ({warm_errors} warming up, "
              f"{extra_errors} outside the throughput runs), first: {load.errors[:5]}")  # fmt: skip
    print(f"load: {inserted:,} bare rows inserted and dropped; server log {log_path}")


# --- alone ----------------------------------------------------------------------------------------


def prepare_database(url: str) -> None:
    """Create DATABASE_URL's database if missing; migrate; seed_demo when it has no township."""
    from urllib.parse import urlsplit, urlunsplit

    import psycopg

    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql"):
        sys.exit("bench/load.py needs PostgreSQL: set DATABASE_URL=postgres://…")
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer submissions (see SCALES)")
    parser.add_argument("--out", required=True, type=Path)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL")
    if not url:
        sys.exit("Set DATABASE_URL=postgres://… (its database is used as it is).")
    prepare_database(url)
    # This process: development settings, as bench/run.py has them (the in-process hash, the
    # bench table); the server gets production ones (start_gunicorn).
    os.environ.setdefault("DJANGO_DEBUG", "1")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ["EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"  # seed_demo's
    os.environ.setdefault("TIPLINE_VAR_DIR", tempfile.mkdtemp(prefix="tipline-load-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command

    from org.models import Township

    call_command("migrate", verbosity=0)
    if not Township.objects.filter(active=True).exists():
        call_command("seed_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
    began = time.perf_counter()
    results = []
    measure(args, results)
    commit = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    out = {
        "command": " ".join(["python bench/load.py", *sys.argv[1:]]),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": commit,
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
        },
        "scale": SCALES["quick" if args.quick else "full"],
        "scale_note": "latency samples per view, throughput submissions, memory after first, "
        "memory after last",
        "seconds": round(time.perf_counter() - began, 1),
        "results": results,
    }
    args.out.write_text(json.dumps(out, indent=2, ensure_ascii=False))
    met = sum(r["met"] for r in results)
    print(f"{met} of {len(results)} targets met; {args.out}")


if __name__ == "__main__":
    main()
