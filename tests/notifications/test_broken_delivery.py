"""A submission never depends on the mail server or the broker, and never loses its evidence.

Before the fix, an e-mail failure after the commit answered 500 (the receipt was lost) and the
clean-up meant for a failed transaction deleted the evidence files of the committed report.
"""

import time

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import override_settings

from config.celery import app as celery_app
from org import roles
from org.models import StaffProfile, Unit
from tipline.models import Attachment, Report
from tipline.services import find_by_receipt
from vault import storage

from ..tipline.helpers import form_data, upload

# Transactional: the commit, and what runs after it, must really happen.
pytestmark = pytest.mark.django_db(transaction=True)

DEAD_SMTP = {
    "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
    "EMAIL_HOST": "127.0.0.1",
    "EMAIL_PORT": 9,  # discard port: nothing listens, the connection is refused
    "EMAIL_TIMEOUT": 2,
}


@pytest.fixture
def clerk_with_email(township):
    """Someone the new-report e-mail goes to, so sending is really attempted."""
    user = get_user_model().objects.create_user("clerk", "clerk@gov.example.cn")
    user.groups.add(Group.objects.get(name=roles.CLERK))
    unit = Unit.objects.create(
        county=township.county, township=township, kind=Unit.Kind.FAMILY_PLANNING, name="计生办"
    )
    StaffProfile.objects.create(user=user, unit=unit)
    return user


def handover_failures(caplog) -> int:
    """Proof that delivery was really attempted and failed (not silently skipped)."""
    return sum(
        1
        for r in caplog.records
        if r.name == "notifications.outbox" and r.getMessage() == "notification not handed over"
    )


@override_settings(**DEAD_SMTP)
def test_web_form_with_mail_server_down_gives_receipt_and_keeps_evidence(
    client, township, clerk_with_email, eager_tasks, caplog
):
    response = client.post("/report/", {**form_data(township), "evidence": [upload()]})

    assert response.status_code == 200
    receipt = response.context["receipt"]
    report = find_by_receipt(receipt)
    assert report is not None
    attachment = Attachment.objects.get(report=report)
    assert storage.path_for(attachment).exists()
    assert storage.read(attachment)[:2] == b"\xff\xd8"  # still decrypts to the JPEG
    assert handover_failures(caplog) == 1


@override_settings(**DEAD_SMTP)
def test_api_with_mail_server_down_answers_201(
    client, township, clerk_with_email, eager_tasks, caplog
):
    response = client.post("/api/v1/reports", form_data(township), content_type="application/json")

    assert response.status_code == 201
    assert find_by_receipt(response.json()["receipt"]) is not None
    assert handover_failures(caplog) == 1


@pytest.fixture
def dead_broker(monkeypatch):
    """Celery publishing to a broker nobody listens on (as with Redis stopped)."""
    dead = "redis://127.0.0.1:9/0"
    # Celery reads CELERY_BROKER_URL from the environment before its configuration (CI sets it).
    monkeypatch.setenv("CELERY_BROKER_URL", dead)
    conf = celery_app.conf
    saved = conf.task_always_eager, conf.broker_url
    conf.task_always_eager, conf.broker_url = False, dead
    _fresh_pool()
    try:
        yield
    finally:
        conf.task_always_eager, conf.broker_url = saved
        _fresh_pool()


def _fresh_pool():
    """Forget pooled broker connections (as after a fork) so the next publish uses the URL set
    now; closing them would close kombu's shared pool for the real broker too."""
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


def test_api_with_broker_down_answers_201_quickly(client, township, dead_broker, caplog):
    started = time.monotonic()
    response = client.post("/api/v1/reports", form_data(township), content_type="application/json")
    elapsed = time.monotonic() - started

    assert response.status_code == 201
    assert Report.objects.count() == 1
    assert elapsed < 5, f"a dead broker cost the request {elapsed:.1f} s"
    assert handover_failures(caplog) == 1
