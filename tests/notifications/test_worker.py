"""notify_new_report through a real broker and a real Celery worker process.

Needs CELERY_BROKER_URL (Redis) and a PostgreSQL DATABASE_URL: the worker is a separate process
and must reach the test database, which an in-memory SQLite database cannot offer.
"""

import email
import email.policy
import os
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from kombu import Exchange, Queue

from notifications import outbox
from notifications.models import Notification
from notifications.tasks import EVENT_NEW_REPORT, notify_new_report
from org import roles
from org.models import StaffProfile, Unit
from tipline import services

pytestmark = [
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        settings.CELERY_TASK_ALWAYS_EAGER,
        reason="worker test skipped: CELERY_BROKER_URL is not set, so Celery runs tasks eagerly "
        "in-process (set CELERY_BROKER_URL=redis://127.0.0.1:6379/5 to run it)",
    ),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason=f"worker test skipped: the test database is {connection.vendor}, which a worker "
        "process cannot share (set DATABASE_URL to PostgreSQL to run it)",
    ),
]

BASE_DIR = Path(settings.BASE_DIR)
WAIT_SECONDS = 60
DESCRIPTION = "WORKER-DESCRIPTION-MARKER 东头诊所用B超查胎儿性别"
REPORTER_NAME = "WORKER-REPORTER-MARKER"


def _test_database_url() -> str:
    """The URL of the database this test runs against (the test database, not the main one)."""
    db = connection.settings_dict
    auth = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        auth += ":" + quote(db["PASSWORD"], safe="")
    host = db["HOST"] or ""
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"  # IPv6 literal
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgres://{auth}@{host}{port}/{quote(db['NAME'], safe='')}"


@dataclass
class Worker:
    queue: str
    mail_dir: Path
    log_path: Path
    process: subprocess.Popen

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")


@pytest.fixture
def worker(transactional_db, tmp_path):
    """A Celery worker on a queue of its own, pointed at the test database; always stopped."""
    queue = f"tipline-test-{uuid.uuid4().hex[:12]}"
    mail_dir = tmp_path / "mail"
    log_path = tmp_path / "worker.log"
    env = {
        **os.environ,
        "DATABASE_URL": _test_database_url(),
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(mail_dir),
        "TIPLINE_KEYS_FILE": str(settings.TIPLINE_KEYS_FILE),
        "DJANGO_DEBUG": "1",
    }
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "config",
        "worker",
        "--pool=solo",
        "--concurrency=1",
        "-Q",
        queue,
        "--without-heartbeat",
        "--without-gossip",
        "--without-mingle",
        "-l",
        "info",
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        yield Worker(queue, mail_dir, log_path, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)
        # Leave nothing behind on the broker for this throw-away queue (Redis keeps bindings in
        # keys of their own; deleting needs the binding known to this channel, hence declare).
        with notify_new_report.app.connection_for_write() as conn:
            bound = Queue(queue, Exchange(queue), routing_key=queue)(conn.default_channel)
            bound.declare()
            bound.delete()


def _make_clerk(township):
    user = get_user_model().objects.create_user("clerk-zhongshui", email="clerk@gov.example.cn")
    user.groups.add(Group.objects.get_or_create(name=roles.CLERK)[0])
    unit = Unit.objects.create(
        county=township.county,
        township=township,
        kind=Unit.Kind.FAMILY_PLANNING,
        name="中水镇计生办",
    )
    StaffProfile.objects.create(user=user, unit=unit)
    return user


def _wait_for(predicate, worker: Worker, what: str):
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if predicate():
            return
        if worker.process.poll() is not None:
            pytest.fail(
                f"the worker exited (code {worker.process.returncode}) before {what}; "
                f"its output:\n{worker.output()}"
            )
        time.sleep(0.25)
    pytest.fail(f"no {what} within {WAIT_SECONDS} s; worker output:\n{worker.output()}")


def test_worker_emails_the_clerk_once(worker, township, monkeypatch):
    clerk = _make_clerk(township)
    # Creating the report schedules the notification on commit, on the default queue. Record it
    # instead of sending it there: this test's worker listens on its own queue only, and other
    # tests' leftovers on the default queue must not be able to satisfy it.
    scheduled = []
    monkeypatch.setattr(outbox, "_hand_over", lambda name, args: scheduled.append(args[0]))
    report, _receipt = services.create_report(
        services.ReportInput(
            category="sex_determination",
            township_id=township.id,
            description=DESCRIPTION,
            reporter_name=REPORTER_NAME,
        )
    )
    assert scheduled == [str(report.id)]

    # Tasks keep no result by default; this test asks for one to read what the task returned.
    result = notify_new_report.apply_async(
        args=[str(report.id)], queue=worker.queue, ignore_result=False
    )

    note = Notification.objects.filter(
        recipient=clerk, event=EVENT_NEW_REPORT, object_id=str(report.id)
    )
    _wait_for(lambda: note.filter(sent_at__isnull=False).exists(), worker, "notification sent")
    _wait_for(lambda: any(worker.mail_dir.glob("*.log")), worker, "e-mail file written")
    try:
        assert result.get(timeout=WAIT_SECONDS) == 1
    except Exception as exc:
        pytest.fail(f"no task result from the backend ({exc!r}); worker output:\n{worker.output()}")

    files = list(worker.mail_dir.glob("*.log"))
    assert len(files) == 1, files
    raw = files[0].read_bytes()
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert message["To"] == clerk.email
    assert message["From"] == settings.DEFAULT_FROM_EMAIL
    assert township.name in message["Subject"]
    body = message.get_content()
    assert township.name in body
    stored = note.get()
    assert message["Subject"] == stored.subject
    assert stored.body in body
    for secret in (DESCRIPTION, "WORKER-DESCRIPTION-MARKER", REPORTER_NAME, str(report.id)):
        assert secret not in body
        assert secret not in message["Subject"]
        assert secret.encode() not in raw

    # A second delivery of the same task (as after a lost ack) sends nothing more.
    again = notify_new_report.apply_async(
        args=[str(report.id)], queue=worker.queue, ignore_result=False
    )
    try:
        assert again.get(timeout=WAIT_SECONDS) == 0
    except Exception as exc:
        pytest.fail(f"no task result from the backend ({exc!r}); worker output:\n{worker.output()}")
    assert len(list(worker.mail_dir.glob("*.log"))) == 1
    assert note.count() == 1
