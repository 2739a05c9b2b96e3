"""Two schedulers by mistake (PostgreSQL only): a deployment runs one Celery beat
(deploy/MULTI-HOST.md), but if two ran at once every notice would still go out once.

Two separate processes, as two beats on two hosts would, run every task of the beat's schedule
(settings.CELERY_BEAT_SCHEDULE, the same task names beat sends) at the same instant against one
database, with a slow mail server widening the window. The outbox's keys and the deliveries'
claims make each notice go out exactly once: counted in the mail both processes wrote.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

from notifications import outbox
from notifications.models import Delivery, Event
from org import roles

from ..pg import database_url
from .conftest import make_staff, new_report

BASE_DIR = Path(settings.BASE_DIR)

pytestmark = [
    pytest.mark.skipif(
        "postgresql" not in settings.DATABASES["default"]["ENGINE"],
        reason="two processes racing on row locks need PostgreSQL",
    ),
    pytest.mark.django_db(transaction=True),
    pytest.mark.slow,
    pytest.mark.serial,
]

# What one beat's tick makes a worker do: every scheduled task, run here, starting at an agreed
# instant so that the two processes really overlap.
BEAT = """
import sys, time
import django
django.setup()
from django.conf import settings
from django.core.mail.backends.filebased import EmailBackend
from config.celery import app

class Slow(EmailBackend):
    def send_messages(self, messages):
        time.sleep(0.2)
        return super().send_messages(messages)

settings.EMAIL_BACKEND = "__main__.Slow"
start = float(sys.argv[1])
while time.time() < start:
    time.sleep(0.002)
for entry in settings.CELERY_BEAT_SCHEDULE.values():
    app.tasks[entry["task"]].apply(throw=True)
print("done")
"""


def test_two_beats_at_once_send_each_notice_once(units, township, tmp_path, monkeypatch):
    # The events wait in the outbox, as when no worker took them: the beats deliver them.
    monkeypatch.setattr(outbox, "hand_over", lambda event_id: None)
    clerks = [make_staff(f"clerk{i}", roles.CLERK, units["zs_fp"]) for i in range(3)]
    for _ in range(3):
        new_report(township)
    events = Event.objects.count()
    assert events == 3
    mail_dir = tmp_path / "mail"
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DATABASE_URL", "CELERY_", "TIPLINE_", "EMAIL_"))
    }
    env.update(
        DJANGO_DEBUG="1",
        DATABASE_URL=database_url(),
        TIPLINE_KEYS_FILE=str(settings.TIPLINE_KEYS_FILE),
        EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
        EMAIL_FILE_PATH=str(mail_dir),
        TIPLINE_SMS_BACKEND="file",
        TIPLINE_SMS_FILE_PATH=str(tmp_path / "sms"),
        TIPLINE_VAR_DIR=str(tmp_path / "var"),
        PYTHONPATH=str(BASE_DIR),
    )
    start = time.time() + 6  # both processes loaded and waiting by then
    beats = [
        subprocess.Popen(
            [sys.executable, "-c", BEAT, str(start)],
            cwd=BASE_DIR,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    try:
        outputs = [beat.communicate(timeout=120) for beat in beats]
    finally:
        for beat in beats:
            if beat.poll() is None:
                beat.kill()
                beat.wait(timeout=10)
    for beat, (out, err) in zip(beats, outputs, strict=True):
        assert beat.returncode == 0 and "done" in out, err[-3000:]

    expected = len(clerks) * events  # one e-mail per clerk and report
    sent = Delivery.objects.filter(channel="email", status="sent")
    assert sent.count() == expected
    mails = "".join(p.read_text() for p in mail_dir.glob("*.log"))
    assert mails.count("Message-ID:") == expected, "a notice was sent twice (or lost)"
    assert not Event.objects.filter(processed_at__isnull=True).exists()
