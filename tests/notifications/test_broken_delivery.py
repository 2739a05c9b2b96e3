"""A submission never depends on the mail server or the broker, and nothing waits forever.

Before the fix, an e-mail failure after the commit answered 500 (the receipt was lost) and the
clean-up meant for a failed transaction deleted the evidence files of the committed report; a
dead broker cost each submission about 19 seconds and a 500.
"""

import contextlib
import io
import socket
import time
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from config.celery import app as celery_app
from notifications.models import Delivery, Event
from org import roles
from tipline.models import Attachment, Report
from tipline.services import find_by_receipt
from vault import storage

from ..tipline.helpers import form_data, upload
from .conftest import make_staff

# Transactional: the commit, and what runs after it, must really happen.
pytestmark = pytest.mark.django_db(transaction=True)

DEAD_SMTP = {
    "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
    "EMAIL_HOST": "127.0.0.1",
    "EMAIL_PORT": 9,  # discard port: nothing listens, the connection is refused
    "EMAIL_TIMEOUT": 2,
}
DEAD_BROKER = "redis://127.0.0.1:9/0"


@pytest.fixture
def clerk(units):
    """Someone the new-report e-mail goes to, so sending is really attempted."""
    return make_staff("clerk", roles.CLERK, units["zs_fp"])


def logged(caplog, logger, message) -> int:
    """Proof that delivery was really attempted and failed (not silently skipped)."""
    return sum(1 for r in caplog.records if r.name == logger and r.getMessage() == message)


def advance(monkeypatch, seconds):
    later = timezone.now() + timedelta(seconds=seconds)
    monkeypatch.setattr(timezone, "now", lambda: later)


# --- the mail server is down, no broker (everything in-process) ----------------------------------


@override_settings(**DEAD_SMTP)
def test_web_form_with_mail_server_down_gives_receipt_and_keeps_evidence(
    client, township, clerk, eager, caplog, monkeypatch, settings, mailoutbox
):
    response = client.post("/report/", {**form_data(township), "evidence": [upload()]})

    assert response.status_code == 200
    receipt = response.context["receipt"]
    report = find_by_receipt(receipt)
    assert report is not None
    attachment = Attachment.objects.get(report=report)
    assert storage.path_for(attachment).exists()
    assert storage.read(attachment)[:2] == b"\xff\xd8"  # still decrypts to the JPEG
    # The clerk's inbox has it; the e-mail waits in the outbox after a real, failed attempt.
    assert Delivery.objects.get(channel="inbox").recipient == clerk
    mail = Delivery.objects.get(channel="email")
    assert (mail.status, mail.attempts, mail.sent_at) == ("pending", 1, None)
    assert mail.last_error.startswith("ConnectionRefusedError")
    assert mail.next_attempt_at > timezone.now()
    assert logged(caplog, "notifications.delivery", "notification not delivered") == 1

    # The mail server is back; the next sweep after the back-off sends it, once.
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    call_command("send_outbox", stdout=io.StringIO())
    assert mailoutbox == []  # not yet due (back-off of one minute)
    advance(monkeypatch, 61)
    call_command("send_outbox", stdout=io.StringIO())
    call_command("send_outbox", stdout=io.StringIO())
    assert [m.to for m in mailoutbox] == [[clerk.email]]
    mail.refresh_from_db()
    assert (mail.status, mail.attempts) == ("sent", 2)


@override_settings(**DEAD_SMTP)
def test_api_with_mail_server_down_answers_201(client, township, clerk, eager, caplog):
    response = client.post("/api/v1/reports", form_data(township), content_type="application/json")

    assert response.status_code == 201
    assert find_by_receipt(response.json()["receipt"]) is not None
    assert Delivery.objects.get(channel="email").status == "pending"
    assert logged(caplog, "notifications.delivery", "notification not delivered") == 1


# --- the broker is down ------------------------------------------------------------------------


@contextlib.contextmanager
def broker_at(url):
    """Celery publishing to ``url``. Celery reads CELERY_BROKER_URL from the environment before
    its settings, so the write URL is set too."""
    conf = celery_app.conf
    saved = conf.task_always_eager, conf.broker_url, conf.get("broker_write_url")
    conf.task_always_eager, conf.broker_url, conf.broker_write_url = False, url, url
    _fresh_pool()
    try:
        yield
    finally:
        conf.task_always_eager, conf.broker_url, conf.broker_write_url = saved
        _fresh_pool()


@pytest.fixture
def dead_broker():
    """A broker nobody listens on (as with Redis stopped): the connection is refused."""
    with broker_at(DEAD_BROKER):
        yield


@pytest.fixture
def hung_broker():
    """A broker that accepts the connection and never answers (a frozen Redis)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    try:
        with broker_at(f"redis://127.0.0.1:{server.getsockname()[1]}/0"):
            yield
    finally:
        server.close()


def _fresh_pool():
    """Forget pooled broker connections (as after a fork) so the next publish uses the URL set
    now; closing them would close kombu's shared pool for the real broker too."""
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


def test_api_with_broker_down_answers_201_quickly_and_the_sweep_delivers_once(
    client, township, clerk, dead_broker, caplog, mailoutbox, settings
):
    started = time.monotonic()
    response = client.post("/api/v1/reports", form_data(township), content_type="application/json")
    elapsed = time.monotonic() - started

    assert response.status_code == 201
    assert find_by_receipt(response.json()["receipt"]) is not None
    assert elapsed < 2, f"a dead broker cost the request {elapsed:.2f} s"
    assert logged(caplog, "notifications.outbox", "notification not handed over") == 1
    # The outbox holds the event, not processed; nothing was sent.
    event = Event.objects.get()
    assert (event.kind, event.processed_at) == ("report.received", None)
    assert not Delivery.objects.exists()
    assert mailoutbox == []

    # The broker is reachable again (the sweep runs in this process: it needs none).
    celery_app.conf.broker_url = celery_app.conf.broker_write_url = settings.CELERY_BROKER_URL
    _fresh_pool()
    out = io.StringIO()
    call_command("send_outbox", stdout=out)
    assert "1 events processed, 1 sent" in out.getvalue()
    assert [m.to for m in mailoutbox] == [[clerk.email]]
    assert Delivery.objects.filter(recipient=clerk, channel="inbox").count() == 1

    again = io.StringIO()
    call_command("send_outbox", stdout=again)
    assert "0 events processed, 0 sent" in again.getvalue()
    assert len(mailoutbox) == 1
    assert Delivery.objects.count() == 2


def test_web_form_with_broker_down_gives_receipt_and_keeps_evidence(
    client, township, clerk, dead_broker
):
    started = time.monotonic()
    response = client.post("/report/", {**form_data(township), "evidence": [upload()]})
    elapsed = time.monotonic() - started

    assert response.status_code == 200
    report = find_by_receipt(response.context["receipt"])
    assert storage.read(Attachment.objects.get(report=report))[:2] == b"\xff\xd8"
    assert elapsed < 2, f"a dead broker cost the request {elapsed:.2f} s"
    assert Report.objects.count() == 1
    assert Event.objects.filter(processed_at__isnull=True).count() == 1


def test_api_with_a_hung_broker_answers_within_the_socket_timeout(
    client, township, clerk, hung_broker, caplog
):
    """Connecting works but nothing answers: the publish gives up after the socket timeout
    (2 s, CELERY_BROKER_TRANSPORT_OPTIONS), not after retries."""
    started = time.monotonic()
    response = client.post("/api/v1/reports", form_data(township), content_type="application/json")
    elapsed = time.monotonic() - started

    assert response.status_code == 201
    assert elapsed < 3.5, f"a hung broker cost the request {elapsed:.2f} s"
    assert logged(caplog, "notifications.outbox", "notification not handed over") == 1
    assert Event.objects.filter(processed_at__isnull=True).count() == 1
