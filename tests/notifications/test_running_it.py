"""Running it: beat's schedule names real tasks, the deployment's environment template loads, the
README documents every notification setting, and `make worker`/`make beat` need a broker."""

import re
import subprocess
from pathlib import Path

import pytest
from celery.schedules import crontab
from django.conf import settings

from config.celery import app

from ..deploy_env import env_example
from ..test_settings_env import start

BASE_DIR = Path(settings.BASE_DIR)
NOTIFICATION_VARIABLES = (
    "CELERY_TASK_DEFAULT_QUEUE",
    "EMAIL_HOST",
    "EMAIL_PORT",
    "EMAIL_HOST_USER",
    "EMAIL_HOST_PASSWORD",
    "EMAIL_USE_TLS",
    "EMAIL_USE_SSL",
    "EMAIL_TIMEOUT",
    "TIPLINE_SITE_URL",
    "TIPLINE_NOTIFY_MAX_ATTEMPTS",
    "TIPLINE_NOTIFY_RETRY_SECONDS",
    "TIPLINE_REMINDER_WORKING_DAYS",
    "TIPLINE_DIGEST_HOUR",
    "TIPLINE_SMS_BACKEND",
    "TIPLINE_SMS_FILE_PATH",
    "TIPLINE_SMS_GATEWAY_URL",
    "TIPLINE_SMS_GATEWAY_USER",
    "TIPLINE_SMS_GATEWAY_PASSWORD",
    "TIPLINE_SMS_GATEWAY_TOKEN",
    "TIPLINE_SMS_GATEWAY_TEMPLATE",
    "TIPLINE_SMS_GATEWAY_TIMEOUT",
)


def test_beat_runs_the_sweep_every_minute_the_scan_hourly_and_the_digest_daily():
    schedule = settings.CELERY_BEAT_SCHEDULE
    for entry in schedule.values():
        assert entry["task"] in app.tasks, entry["task"]
    assert schedule["send-outbox"]["task"] == "notifications.tasks.sweep_outbox"
    assert schedule["send-outbox"]["schedule"] == 60.0
    assert schedule["scan-deadlines"]["task"] == "notifications.tasks.scan_deadlines"
    assert schedule["scan-deadlines"]["schedule"] == crontab(minute=5)
    assert schedule["daily-digest"]["task"] == "notifications.tasks.send_digests"
    assert schedule["daily-digest"]["schedule"] == crontab(hour=7, minute=0)
    assert "notifications.tasks.process_event" in app.tasks  # what the outbox hands over


def test_the_environment_template_loads(tmp_path):
    from vault.keyring import KeyRing

    keys = tmp_path / "keys.json"
    KeyRing.generate().save(keys)
    env = env_example()
    env.update(TIPLINE_KEYS_FILE=str(keys), TIPLINE_SMS_FILE_PATH=str(tmp_path / "sms"))
    env.pop("TIPLINE_VAR_DIR")  # start() points it at tmp_path
    result = start(tmp_path, **env)
    assert result.returncode == 0, result.stderr


def test_the_readme_and_the_template_list_every_notification_setting():
    readme = (BASE_DIR / "README.md").read_text()
    example = env_example()
    for name in NOTIFICATION_VARIABLES:
        assert f"`{name}`" in readme, f"{name} missing from README's configuration table"
        assert name in example, f"{name} missing from deploy/env.example"


def test_the_units_run_the_worker_and_beat():
    worker = (BASE_DIR / "deploy/systemd/tipline-worker.service").read_text()
    beat = (BASE_DIR / "deploy/systemd/tipline-beat.service").read_text()
    assert re.search(r"^ExecStart=\S+/celery -A config worker ", worker, re.M)
    assert re.search(r"^ExecStart=\S+/celery -A config beat .*--schedule ", beat, re.M)
    for task in ("sweep_outbox", "scan_deadlines", "send_digests"):
        assert task in beat  # the schedule is written down where operators look


@pytest.mark.parametrize("target", ["worker", "beat"])
def test_make_worker_and_beat_need_a_broker(target):
    env = {"PATH": "/usr/bin:/bin", "HOME": "/tmp"}
    result = subprocess.run(
        # -o: never (re)build the venv here, only run the target's own check.
        ["make", "-s", "-C", str(BASE_DIR), "-o", ".venv/.installed", target],
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "Set CELERY_BROKER_URL" in result.stdout + result.stderr


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow  # seeds the whole demo county
def test_demo_townships_each_have_a_clerk_with_email_and_users_have_inbox_entries(eager):
    import io

    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from notifications.models import Delivery
    from org import roles
    from org.models import Township
    from org.scope import staff_for_township

    call_command("seed_demo", stdout=io.StringIO())  # commits: notices go out after it

    for township in Township.objects.all():
        clerks = [u for u in staff_for_township(township, roles.CLERK) if u.email]
        assert any(c.staff_profile.unit.township_id == township.pk for c in clerks), township
    users = {u.username: u for u in get_user_model().objects.all()}
    inbox = Delivery.objects.filter(channel="inbox")
    for name in ("clerk", "clerk_xishan", "investigator", "supervisor"):
        assert inbox.filter(recipient=users[name]).exists(), f"{name} has an empty inbox"
    kinds = set(inbox.values_list("event__kind", flat=True))
    assert {"report.received", "case.assigned", "deadline.overdue", "deadline.escalated"} <= kinds

    before = Delivery.objects.count()
    call_command("seed_demo", stdout=io.StringIO())
    assert Delivery.objects.count() == before  # running it again tells nobody anything new
