"""The broker dies under a real Celery worker that holds tasks, and comes back.

Before the fix the worker (prefork, as deployed) exited in every such loss: "Unrecoverable
error: AttributeError('NoneType' object has no attribute 'hostname')", exit code 1 (kombu's Redis
channel closed a second time after its connection had been collected; config/broker.py). Here a
private Redis is the broker: the worker takes two tasks that wait on a row lock (so they are
running and unacknowledged), the broker is killed, started again on the same port, and the
worker must still be alive, finish what it held, and deliver a notice handed over afterwards.

Needs PostgreSQL (the worker is another process and must see the test database) and a
redis-server binary; it does not need CELERY_BROKER_URL, the broker is its own.
"""

import email
import email.policy
import os
import subprocess
import sys
import time
import warnings

import psycopg
import pytest
from celery.exceptions import AlwaysEagerIgnored
from django.conf import settings
from django.db import connection

from config.celery import app
from notifications import outbox
from notifications.models import Delivery, Event
from tipline import services

from ..private_redis import PrivateRedis, needs_redis_server, time_limit  # noqa: F401
from .test_worker import BASE_DIR, _make_clerk, _test_database_url

pytestmark = [
    pytest.mark.faults,
    pytest.mark.worker,
    needs_redis_server,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason=f"broker-loss test skipped: the test database is {connection.vendor}, which a "
        "worker process cannot share (set DATABASE_URL to PostgreSQL to run it)",
    ),
]

STEP_SECONDS = 20
PROCESS_EVENT = "notifications.tasks.process_event"


class Worker:
    """`celery -A config worker --concurrency 2` (the deployed prefork pool) on its broker."""

    def __init__(self, broker: PrivateRedis, tmp_path):
        self.mail_dir = tmp_path / "mail"
        self.log_path = tmp_path / "worker.log"
        env = {
            **os.environ,
            "DATABASE_URL": _test_database_url(),
            "CELERY_BROKER_URL": broker.url(0),
            "CELERY_RESULT_BACKEND": broker.url(1),
            "CELERY_TASK_DEFAULT_QUEUE": "celery",
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "EMAIL_FILE_PATH": str(self.mail_dir),
            "TIPLINE_SMS_BACKEND": "file",
            "TIPLINE_SMS_FILE_PATH": str(tmp_path / "sms"),
            "TIPLINE_KEYS_FILE": str(settings.TIPLINE_KEYS_FILE),
            "DJANGO_DEBUG": "1",
        }
        command = [sys.executable, "-m", "celery", "-A", "config", "worker"]
        command += ["--concurrency=2", "-n", f"broker-loss-{os.getpid()}@%h", "-l", "info"]
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                command, cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT
            )

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def alive(self) -> bool:
        return self.process.poll() is None

    def wait_for(self, predicate, what: str):
        deadline = time.monotonic() + STEP_SECONDS
        while time.monotonic() < deadline:
            if predicate():
                return
            if "Unrecoverable error" in self.output():
                # It is shutting down (warm: it would wait for the held tasks first).
                pytest.fail(f"the worker gave up before {what}:\n{self.output()[-6000:]}")
            if not self.alive():
                pytest.fail(
                    f"the worker exited (code {self.process.returncode}) before {what}; "
                    f"its output:\n{self.output()[-6000:]}"
                )
            time.sleep(0.2)
        pytest.fail(f"no {what} within {STEP_SECONDS} s; worker output:\n{self.output()[-6000:]}")

    def stop(self):
        if self.alive():
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)

    def mails(self) -> list:
        """Every message the worker wrote. The file backend appends each message and a line of
        79 dashes to a file named by the second and the connection object's id, so two sends in
        one second can share a file."""
        files = sorted(self.mail_dir.glob("*.log")) if self.mail_dir.exists() else []
        policy = email.policy.default
        separator = b"\n" + b"-" * 79 + b"\n"
        return [
            email.message_from_bytes(part, policy=policy)
            for f in files
            for part in f.read_bytes().split(separator)
            if part.strip()
        ]


def hand_over(broker: PrivateRedis, event_id: int):
    """What outbox.hand_over does, to this test's broker (this process may run tasks eagerly)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AlwaysEagerIgnored)
        with app.connection_for_write(broker.url(0)) as conn:
            app.send_task(PROCESS_EVENT, args=[event_id], connection=conn, queue="celery")


def new_event(township) -> Event:
    report, _receipt = services.create_report(
        services.ReportInput(
            category="sex_determination", township_id=township.id, description="某诊所鉴定胎儿性别"
        )
    )
    return Event.objects.get(kind="report.received", object_id=str(report.pk))


def mail_sent(event) -> bool:
    return Delivery.objects.filter(event=event, channel="email", status="sent").exists()


def test_the_worker_survives_a_broker_loss_with_tasks_in_hand_and_delivers_after(
    township,
    tmp_path,
    monkeypatch,
    time_limit,  # noqa: F811
):
    clerk = _make_clerk(township)
    monkeypatch.setattr(outbox, "hand_over", lambda event_id: None)  # handed over below
    held = [new_event(township), new_event(township)]
    broker = PrivateRedis(tmp_path / "broker").start()
    worker = Worker(broker, tmp_path)
    lock = psycopg.connect(_test_database_url().replace("postgres://", "postgresql://", 1))
    try:
        worker.wait_for(lambda: " ready." in worker.output(), "worker ready")
        # Both tasks will wait on their event's row lock: running, not acknowledged.
        lock.execute(
            "SELECT id FROM notifications_event WHERE id = ANY(%s) FOR UPDATE",
            [[event.pk for event in held]],
        )
        for event in held:
            hand_over(broker, event.pk)
        worker.wait_for(
            lambda: worker.output().count(f"Task {PROCESS_EVENT}[") >= 2, "both tasks received"
        )
        time.sleep(0.5)  # into the lock wait

        broker.kill()
        worker.wait_for(lambda: "Connection to broker lost" in worker.output(), "loss noticed")
        # The crash came right after the loss; reconnecting means it is past it.
        worker.wait_for(lambda: "Cannot connect to" in worker.output(), "reconnect attempt")
        assert worker.alive()

        broker.start()  # the same port
        lock.rollback()  # the held tasks finish now
        worker.wait_for(lambda: all(mail_sent(event) for event in held), "held notices sent")
        worker.wait_for(lambda: worker.output().count("Connected to redis") >= 2, "reconnected")

        # A notice handed over after the broker returned is delivered by the same worker.
        after = new_event(township)
        hand_over(broker, after.pk)
        worker.wait_for(lambda: mail_sent(after), "notice after the broker returned sent")

        assert worker.alive(), worker.output()[-6000:]
        assert "Unrecoverable error" not in worker.output()
        # One e-mail per notice: nothing lost, nothing twice.
        mails = worker.mails()
        assert len(mails) == 3
        assert {m["To"] for m in mails} == {clerk.email}
        for event in [*held, after]:
            assert Delivery.objects.filter(event=event, channel="email", status="sent").count() == 1
            assert Delivery.objects.filter(event=event, channel="inbox").count() == 1
    finally:
        lock.close()
        worker.stop()
        broker.stop()
