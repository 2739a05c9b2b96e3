"""The embedded SQLite set-up (`make run`) under parallel requests, on a real database file.

Before the fix, 19 of 25 parallel staff sign-ins answered 500 "database is locked" and those
failed sign-ins were never audited. A real server process (runserver's threaded server, one
thread per request, one SQLite connection per thread) is started on a fresh var directory with
the settings as they ship, and is hit from many threads at once.
"""

import http.cookiejar
import os
import re
import socket
import sqlite3
import stat
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parent.parent
LOGINS, SUBMISSIONS, WRONG_PASSWORDS = 25, 20, 10
TIMEOUT = 120

SETUP_DATA = f"""
from django.contrib.auth import get_user_model
from org.models import County, Township
county = County.objects.create(code="demo", name="示范县")
Township.objects.create(county=county, code="zhongshui", name="中水镇")
User = get_user_model()
for i in range({LOGINS}):
    User.objects.create_user(f"staff{{i}}", password=f"pw-staff-{{i}}", is_staff=True)
"""


def _environ(var_dir: Path) -> dict:
    environ = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DATABASE_URL", "CACHE_URL", "CELERY_", "TIPLINE_", "DJANGO_"))
    }
    environ.update(
        {
            "DJANGO_DEBUG": "1",
            "DJANGO_SETTINGS_MODULE": "tests.sqlite_server_settings",
            "TIPLINE_VAR_DIR": str(var_dir),
            "TIPLINE_REPORTS_PER_HOUR": "1000",
            "PYTHONPATH": str(BASE_DIR),
        }
    )
    return environ


# runserver's server, with a listen queue long enough for every parallel client to connect at
# once (runserver's own holds 10: more clients would be turned away before Django sees them).
SERVE = """
import sys, django
django.setup()
from django.core.servers.basehttp import WSGIServer, run
from django.core.wsgi import get_wsgi_application
class Server(WSGIServer):
    request_queue_size = 128
run("127.0.0.1", int(sys.argv[1]), get_wsgi_application(), threading=True, server_cls=Server)
"""


def manage(environ, *args, **kwargs):
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=environ,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=True,
        **kwargs,
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    var_dir = tmp_path_factory.mktemp("sqlite") / "var"  # does not exist yet
    environ = _environ(var_dir)
    manage(environ, "migrate", "--noinput")
    manage(environ, "shell", "-c", SETUP_DATA)
    port = _free_port()
    log = (var_dir.parent / "server.log").open("w")  # a file: a full pipe would block the server
    process = subprocess.Popen(
        [sys.executable, "-c", SERVE, str(port)],
        cwd=BASE_DIR,
        env=environ,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + TIMEOUT
        while True:
            try:
                urllib.request.urlopen(f"{base}/", timeout=5)  # noqa: S310 — loopback only
                break
            except (urllib.error.URLError, ConnectionError):
                if process.poll() is not None or time.monotonic() > deadline:
                    output = (var_dir.parent / "server.log").read_text()[-2000:]
                    pytest.fail(f"the server did not start: {output}")
                time.sleep(0.3)
        yield {"base": base, "var": var_dir, "db": var_dir / "tipline.sqlite3", "env": environ}
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


class Browser:
    """A cookie-keeping HTTP client that does not follow redirects."""

    class _NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    def __init__(self, base):
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), self._NoRedirect
        )

    def request(self, path, data=None) -> tuple[int, str]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        headers = {"Referer": self.base + path}
        req = urllib.request.Request(self.base + path, data=body, headers=headers)  # noqa: S310
        try:
            with self.opener.open(req, timeout=TIMEOUT) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode(errors="replace")

    def form_token(self, path) -> str:
        status, html = self.request(path)
        assert status == 200, (path, status)
        return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)[1]


def in_parallel(n, call):
    barrier = threading.Barrier(n)
    results = [None] * n

    def run(i):
        try:
            prepared = call(i)
            barrier.wait(timeout=TIMEOUT)
            results[i] = prepared()
        except Exception as exc:  # the test reads it
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=TIMEOUT)
    assert not any(t.is_alive() for t in threads)
    return results


def rows(db: Path, sql: str):
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


def test_var_dir_and_database_are_owner_only(server):
    assert stat.S_IMODE(server["var"].stat().st_mode) == 0o700
    assert stat.S_IMODE(server["db"].stat().st_mode) == 0o600
    for side in ("-wal", "-shm"):
        path = Path(f"{server['db']}{side}")
        if path.exists():
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, side
    assert rows(server["db"], "PRAGMA journal_mode") == [("wal",)]


def test_parallel_sign_ins_give_no_server_error_and_are_all_audited(server):
    def sign_in(i):
        browser = Browser(server["base"])
        token = browser.form_token("/staff/login/")
        password = "wrong-password" if i < WRONG_PASSWORDS else f"pw-staff-{i}"
        data = {"csrfmiddlewaretoken": token, "username": f"staff{i}", "password": password}
        return lambda: browser.request("/staff/login/", data)[0]

    statuses = in_parallel(LOGINS, sign_in)
    assert all(isinstance(s, int) and s < 500 for s in statuses), statuses
    assert statuses.count(302) == LOGINS - WRONG_PASSWORDS
    assert statuses.count(200) == WRONG_PASSWORDS
    actions = dict(
        rows(server["db"], "SELECT action, count(*) FROM casework_auditentry GROUP BY action")
    )
    assert actions.get("staff.login_failed") == WRONG_PASSWORDS
    assert actions.get("staff.login") == LOGINS - WRONG_PASSWORDS
    result = manage(server["env"], "verify_audit")
    assert "intact" in result.stdout


def test_parallel_report_submissions_give_no_server_error(server):
    def submit(i):
        browser = Browser(server["base"])
        token = browser.form_token("/report/")
        data = {
            "csrfmiddlewaretoken": token,
            "category": "sex_determination",
            "township": "zhongshui",
            "description": f"第{i}份举报：县城东街一家诊所用B超给孕妇查胎儿性别。",
        }
        return lambda: browser.request("/report/", data)

    results = in_parallel(SUBMISSIONS, submit)
    statuses = [r[0] if isinstance(r, tuple) else r for r in results]
    assert all(isinstance(s, int) and s == 200 for s in statuses), statuses
    assert all("receipt" in html for _s, html in results)
    assert rows(server["db"], "SELECT count(*) FROM tipline_report") == [(SUBMISSIONS,)]
