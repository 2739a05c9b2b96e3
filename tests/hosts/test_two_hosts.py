"""Two app hosts, one system: SeaweedFS (S3), two gunicorn processes with separate var
directories on one PostgreSQL database and one Redis, as deploy/MULTI-HOST.md sets them up.

A report with a photo filed on the first host opens on the second (a staff download returns the
same bytes) and verify_vault there opens every sealed row; a key rotation on the first (stage,
copy the ring, activate, copy it again) is picked up by the second while it runs; nothing
encrypted is left on either host's disk; and 40 wrong receipts spread over both hosts meet one
limit, counted in the shared cache. PostgreSQL and a Redis cache only (CI has both).
"""

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from org import roles
from org.models import County, StaffProfile, Township, Unit
from tipline.models import Attachment, Report

from .. import seaweed as seaweedfs
from ..pg import database_url
from ..tipline.helpers import GPS_MARKER, form_data, jpeg_with_gps

BASE_DIR = Path(settings.BASE_DIR)
HEALTH_TOKEN = "two-hosts-health-token-0123456789"
START_TIMEOUT = 60

pytestmark = [
    pytest.mark.hosts,
    pytest.mark.s3,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql"
        or not os.environ.get("CACHE_URL", "").startswith("redis"),
        reason="two hosts need PostgreSQL and a Redis cache (set DATABASE_URL and CACHE_URL)",
    ),
]


@dataclass
class Host:
    name: str
    var_dir: Path
    env: dict
    url: str
    process: subprocess.Popen | None = None

    @property
    def ring(self) -> Path:
        return self.var_dir / "dev-keys.json"  # the development key ring of this host

    def manage(self, *args) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=BASE_DIR,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )


def _environ(var_dir: Path, bucket_env: dict) -> dict:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DATABASE_URL", "CELERY_", "TIPLINE_", "DJANGO_", "AWS_"))
    }
    env.update(
        bucket_env,
        DJANGO_DEBUG="1",  # the development key ring: TIPLINE_VAR_DIR/dev-keys.json
        DJANGO_SECRET_KEY=settings.SECRET_KEY,  # every host signs sessions alike
        DATABASE_URL=database_url(),
        CACHE_URL=os.environ["CACHE_URL"],
        TIPLINE_VAR_DIR=str(var_dir),
        TIPLINE_HEALTH_TOKEN=HEALTH_TOKEN,
        TIPLINE_RECEIPT_ARGON2_MEMORY_KIB="64",
        TIPLINE_RECEIPT_ARGON2_ITERATIONS="1",
        # One paced try per 900 s: the pace slot and the 900 s window turn over together.
        TIPLINE_RECEIPT_PACE_SECONDS="900",
        TMPDIR=str(var_dir / "tmp"),  # any temporary file lands where the test looks
        PYTHONPATH=str(BASE_DIR),
    )
    return env


def _start(host: Host) -> None:
    log = (host.var_dir.parent / f"{host.name}.log").open("wb")
    port = host.url.rsplit(":", 1)[1]
    host.process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi:application",
            f"--bind=127.0.0.1:{port}",
            "--workers=1",
            "--threads=4",
            "--timeout=60",
        ],
        cwd=BASE_DIR,
        env=host.env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=seaweedfs.die_with_parent,  # gunicorn's master; it stops its workers
    )


def _wait(host: Host) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if host.process.poll() is not None:
            log = (host.var_dir.parent / f"{host.name}.log").read_text(errors="replace")
            raise RuntimeError(f"host {host.name} exited:\n{log[-3000:]}")
        with contextlib.suppress(requests.RequestException):
            if requests.get(f"{host.url}/healthz", timeout=2).status_code == 200:
                return
        time.sleep(0.3)
    raise RuntimeError(f"host {host.name} did not answer within {START_TIMEOUT} s")


def _stop(host: Host) -> None:
    if host.process is None or host.process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(host.process.pid, signal.SIGTERM)
    try:
        host.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(host.process.pid, signal.SIGKILL)
        host.process.wait(timeout=10)


def install_ring(source: Path, host: Host) -> None:
    """What an operator does on each host: the ring written beside the old one, then renamed
    over it (a running process never reads half a file), owner-only."""
    tmp = host.ring.with_name(".dev-keys.json.new")
    shutil.copyfile(source, tmp)
    tmp.chmod(0o600)
    os.replace(tmp, host.ring)


@pytest.fixture(scope="module")
def bucket(seaweed):
    return seaweed.new_bucket("hosts")


@pytest.fixture(scope="module")
def hosts(tmp_path_factory, seaweed, bucket, django_db_setup, _session_keys):
    root = tmp_path_factory.mktemp("hosts")
    ports = seaweedfs._free_ports(2)
    made = []
    for name, port in zip(("a", "b"), ports, strict=True):
        var_dir = root / name / "var"
        (var_dir / "tmp").mkdir(parents=True, mode=0o700)
        host = Host(
            name, var_dir, _environ(var_dir, seaweed.env(bucket)), f"http://127.0.0.1:{port}"
        )
        install_ring(_session_keys, host)  # every host gets the same ring before it starts
        made.append(host)
    try:
        for host in made:
            _start(host)
        for host in made:
            _wait(host)
        yield made
    finally:
        for host in made:
            _stop(host)


def staff_session(township) -> str:
    """A signed-in, verified county supervisor's session (in the shared database)."""
    unit = Unit.objects.create(
        county=township.county, township=None, kind=Unit.Kind.FAMILY_PLANNING, name="county"
    )
    user = get_user_model().objects.create_user("supervisor", "s@example.invalid", "pw-sup")
    user.groups.add(Group.objects.get(name=roles.SUPERVISOR))
    StaffProfile.objects.create(user=user, unit=unit)
    device = TOTPDevice.objects.create(user=user, name="t", confirmed=True)
    client = Client()
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return session.session_key


@pytest.fixture
def township(db):
    county = County.objects.create(code="demo", name="示范县")
    return Township.objects.create(county=county, code="zhongshui", name="中水镇")


def file_report(host: Host, township, photo: bytes) -> requests.Response:
    browser = requests.Session()
    page = browser.get(f"{host.url}/report/", timeout=30)
    token = re.search(r'name="submission" value="([^"]+)"', page.text)[1]
    csrf = browser.cookies["csrftoken"]
    return browser.post(
        f"{host.url}/report/",
        data={**form_data(township, submission=token), "csrfmiddlewaretoken": csrf},
        files={"evidence": ("photo.jpg", photo, "image/jpeg")},
        headers={"Referer": f"{host.url}/report/"},
        timeout=60,
    )


def download(host: Host, session_key: str, attachment: Attachment) -> requests.Response:
    url = f"{host.url}/staff/reports/{attachment.report_id}/attachments/{attachment.pk}/"
    return requests.get(url, cookies={"sessionid": session_key}, timeout=30)


def test_a_report_filed_on_one_host_opens_on_the_other(hosts, township, seaweed, bucket):
    a, b = hosts
    session_key = staff_session(township)

    # Filed on host A, with a photo.
    response = file_report(a, township, jpeg_with_gps())
    assert response.status_code == 200 and "receipt-number" in response.text
    attachment = Attachment.objects.get(report=Report.objects.get())

    # Opened on host B: the staff download returns the bytes host A stored.
    on_a, on_b = download(a, session_key, attachment), download(b, session_key, attachment)
    assert on_a.status_code == on_b.status_code == 200
    assert on_b.content == on_a.content and on_b.content[:2] == b"\xff\xd8"
    assert len(on_b.content) == attachment.size
    assert GPS_MARKER.encode() not in on_b.content  # the stripped photo, as filed

    checked = b.manage("verify_vault")
    assert checked.returncode == 0, checked.stderr
    assert "Every sealed row opens with this key ring." in checked.stdout

    # A key rotation run on host A: the new key is staged and copied to every host before it
    # is used, then made current (every data key re-wrapped) and the ring copied again.
    staged = a.manage("rotate_keys", "--stage")
    assert staged.returncode == 0, staged.stderr
    install_ring(a.ring, b)
    assert download(b, session_key, attachment).content == on_a.content
    activated = a.manage("rotate_keys", "--activate")
    assert activated.returncode == 0, activated.stderr
    assert "Key-encryption key version 2 is now current" in activated.stdout
    install_ring(a.ring, b)
    attachment.refresh_from_db()
    assert attachment.kek_version == 2
    # Host B, running all along, opens the re-wrapped key: it reloaded the ring.
    again = download(b, session_key, attachment)
    assert again.status_code == 200 and again.content == on_a.content
    # And what host B files under the new key opens on host A.
    response = file_report(b, township, jpeg_with_gps((0, 0, 200)))
    assert response.status_code == 200
    second = Attachment.objects.exclude(pk=attachment.pk).get()
    assert second.kek_version == 2
    assert download(a, session_key, second).content == download(b, session_key, second).content
    checked = b.manage("verify_vault")
    assert checked.returncode == 0, checked.stderr

    # The bucket answers host B's deep health check; it holds the two files, by id only.
    health = requests.get(
        f"{b.url}/healthz?deep=1",
        headers={"Authorization": f"Bearer {HEALTH_TOKEN}"},
        timeout=10,
    ).json()
    assert health["checks"]["attachment_storage"] == f"ok: s3 bucket {bucket}"
    stored = seaweed.objects(bucket)
    assert set(stored) == {f"{attachment.pk}.bin", f"{second.pk}.bin"}

    # Nothing encrypted on either host's disk: no file, no temporary file holds any of it.
    for host in hosts:
        files = [p for p in host.var_dir.rglob("*") if p.is_file()]
        assert {p.name for p in files} <= {"dev-keys.json"}, files
        for path in files:
            data = path.read_bytes()
            for blob in stored.values():
                assert blob[40:104] not in data


def _guess(host: Host, browser: requests.Session, receipt: str) -> int:
    page = browser.get(f"{host.url}/receipt/", timeout=30)
    assert page.status_code == 200
    return browser.post(
        f"{host.url}/receipt/",
        data={"receipt": receipt, "csrfmiddlewaretoken": browser.cookies["csrftoken"]},
        headers={"Referer": f"{host.url}/receipt/"},
        timeout=30,
    ).status_code


def test_forty_wrong_receipts_over_two_hosts_meet_one_limit(hosts, township):
    """The per-client limit (10 wrong receipts a window, then one paced try) is counted in the
    shared cache: spread over both hosts, 40 wrong receipts get 11 looked up, not 22."""
    window = 900
    if window - time.time() % window < 30:  # never straddle the window's turn
        time.sleep(window - time.time() % window + 1)
    a, b = hosts
    browsers = {host.name: requests.Session() for host in hosts}
    statuses = []
    for i in range(40):
        host = (a, b)[i % 2]
        statuses.append(_guess(host, browsers[host.name], f"{1000_0000_0000_0000 + i:016d}"))
    assert statuses.count(404) == 11, statuses  # 10 in the window, then the one paced try
    assert statuses.count(429) == 29, statuses
    assert statuses[:11] == [404] * 11
