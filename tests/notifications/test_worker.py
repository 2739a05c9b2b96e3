"""Notifications through a real broker (Redis) and a real Celery worker process.

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
from django.test import override_settings
from kombu import Exchange, Queue

from notifications import outbox
from notifications.models import Delivery, Event
from notifications.tasks import process_event, sweep_outbox
from org import roles
from org.models import StaffProfile, Unit
from tipline import services
from tipline.services import find_by_receipt

from ..tipline.helpers import VALID_ID, form_data

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
SUBJECT_NAME = "WORKER-SUBJECT-MARKER"
REPORTER_NAME = "WORKER-REPORTER-MARKER"
REPORTER_PHONE = "13812345678"


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
    sms_dir: Path
    log_path: Path
    process: subprocess.Popen

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")


@pytest.fixture
def worker(transactional_db, tmp_path):
    """A Celery worker on a queue of its own, pointed at the test database; always stopped."""
    queue = f"tipline-test-{uuid.uuid4().hex[:12]}"
    mail_dir = tmp_path / "mail"
    sms_dir = tmp_path / "sms"
    log_path = tmp_path / "worker.log"
    env = {
        **os.environ,
        "DATABASE_URL": _test_database_url(),
        # What the worker publishes (none of these tasks publishes today) stays on its queue.
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(mail_dir),
        "TIPLINE_SMS_BACKEND": "file",
        "TIPLINE_SMS_FILE_PATH": str(sms_dir),
        "TIPLINE_SITE_URL": "https://jubao.example.gov.cn",
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
        # The web side hands events over to this worker's queue.
        with override_settings(CELERY_TASK_DEFAULT_QUEUE=queue):
            yield Worker(queue, mail_dir, sms_dir, log_path, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)
        # Leave nothing behind on the broker for this throw-away queue (Redis keeps bindings in
        # keys of their own; deleting needs the binding known to this channel, hence declare).
        with process_event.app.connection_for_write() as conn:
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


def _result(async_result, worker: Worker):
    try:
        return async_result.get(timeout=WAIT_SECONDS)
    except Exception as exc:
        pytest.fail(f"no task result from the backend ({exc!r}); worker output:\n{worker.output()}")


def test_a_report_through_the_api_reaches_the_clerk_by_inbox_and_email(
    worker, township, client, settings
):
    clerk = _make_clerk(township)
    data = form_data(
        township,
        description=DESCRIPTION,
        subject_name=SUBJECT_NAME,
        reporter_name=REPORTER_NAME,
        reporter_phone=REPORTER_PHONE,
        reporter_id_number=VALID_ID,
    )

    response = client.post("/api/v1/reports", data, content_type="application/json")

    assert response.status_code == 201
    receipt = response.json()["receipt"]
    report = find_by_receipt(receipt)
    event = Event.objects.get(kind="report.received", object_id=str(report.id))
    inbox = Delivery.objects.filter(recipient=clerk, channel="inbox", event=event)
    mail = Delivery.objects.filter(recipient=clerk, channel="email", event=event)
    _wait_for(inbox.exists, worker, "inbox entry")
    _wait_for(lambda: mail.filter(status="sent").exists(), worker, "e-mail sent")
    assert inbox.get().read_at is None  # it counts as unread in the clerk's header
    assert inbox.get().link == f"/staff/reports/{report.id}/"

    files = list(worker.mail_dir.glob("*.log"))
    assert len(files) == 1, files
    raw = files[0].read_bytes()
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert message["To"] == clerk.email
    assert message["From"] == settings.DEFAULT_FROM_EMAIL
    assert township.name in message["Subject"]  # it is the notice we think it is
    body = message.get_content()
    assert f"https://jubao.example.gov.cn/staff/inbox/event/{event.pk}/" in body
    assert mail.get().subject == message["Subject"] and mail.get().body.strip() in body
    secrets = (
        DESCRIPTION,
        "WORKER-DESCRIPTION-MARKER",
        SUBJECT_NAME,
        REPORTER_NAME,
        REPORTER_PHONE,
        VALID_ID,
        receipt,
        str(report.id),
    )
    decoded = raw.decode("utf-8", errors="replace") + body + message["Subject"]
    for secret in secrets:
        assert secret not in decoded, f"{secret!r} left the system in an e-mail"
        assert secret.encode() not in raw

    # A second delivery of the same task (as after a lost ack) sends nothing more.
    again = process_event.apply_async(args=[event.pk], queue=worker.queue, ignore_result=False)
    assert _result(again, worker) == 0
    assert len(list(worker.mail_dir.glob("*.log"))) == 1
    assert Delivery.objects.filter(event=event).count() == 2


def test_the_sweep_task_delivers_what_the_broker_never_took(worker, township, monkeypatch):
    clerk = _make_clerk(township)
    # The hand-over after the commit is lost (as with the broker down at that moment).
    monkeypatch.setattr(outbox, "hand_over", lambda event_id: None)
    report, _receipt = services.create_report(
        services.ReportInput(
            category="sex_determination", township_id=township.id, description=DESCRIPTION
        )
    )
    event = Event.objects.get(object_id=str(report.id))
    assert event.processed_at is None

    result = sweep_outbox.apply_async(queue=worker.queue, ignore_result=False)

    assert _result(result, worker) == {
        "events": 1,
        "sent": 1,
        "retry": 0,
        "failed": 0,
        "skipped": 0,
        "settled": 0,
    }
    assert Delivery.objects.filter(recipient=clerk, event=event).count() == 2
    assert len(list(worker.mail_dir.glob("*.log"))) == 1
    again = sweep_outbox.apply_async(queue=worker.queue, ignore_result=False)
    assert _result(again, worker)["events"] == 0
    assert len(list(worker.mail_dir.glob("*.log"))) == 1
