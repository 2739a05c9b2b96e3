"""Throttles under parallel requests, through the real views (PostgreSQL; Redis in CI).

Before the fix each throttle checked first and counted afterwards, so requests arriving
together all passed the check: 40 parallel wrong receipts got 16 look-ups against a limit of 5,
25 parallel wrong passwords were all tried. The slow step of each view is stretched a little so
the requests really overlap.
"""

import threading
import time

import pytest
from django.conf import settings
from django.contrib.auth import forms as auth_forms
from django.db import connection
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from casework import audit
from casework.models import AuditEntry
from tipline import services as intake

from .test_staff_login import OTP, password_login

pytestmark = [
    pytest.mark.skipif(
        "postgresql" not in settings.DATABASES["default"]["ENGINE"],
        reason="parallel requests writing audit entries need PostgreSQL (SQLite's in-memory "
        "test database serialises them; tests/test_sqlite_server.py covers SQLite)",
    ),
    pytest.mark.django_db(transaction=True),
]

TIMEOUT = 60


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def in_parallel(n, call):
    barrier = threading.Barrier(n)
    results = [None] * n

    def run(i):
        try:
            barrier.wait(timeout=TIMEOUT)
            results[i] = call(i)
        except Exception as exc:  # the test reads it
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=TIMEOUT)
    assert not any(t.is_alive() for t in threads)
    return results


def slowed(monkeypatch, owner, name, delay=0.05):
    """Wrap owner.name so each call takes a while and is counted."""
    real = getattr(owner, name)
    calls = []
    lock = threading.Lock()

    def wrapper(*args, **kwargs):
        with lock:
            calls.append(1)
        time.sleep(delay)
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, wrapper)
    return calls


def test_parallel_wrong_passwords_are_tried_only_up_to_the_limit(cast, monkeypatch):
    tried = slowed(monkeypatch, auth_forms, "authenticate")
    statuses = in_parallel(25, lambda i: password_login(Client(), "clerk", "wrong").status_code)
    assert sorted(set(statuses)) == [200, 429], statuses
    assert statuses.count(200) == 5
    assert len(tried) == 5
    assert AuditEntry.objects.filter(action="staff.login_failed").count() == 5
    assert AuditEntry.objects.filter(action="staff.login_throttled").count() == 1
    assert audit.verify()[0]


def test_parallel_wrong_codes_are_tried_only_up_to_the_limit(cast, monkeypatch):
    TOTPDevice.objects.create(user=cast["clerk"], name="phone", confirmed=True)
    clients = [Client() for _ in range(18)]
    for c in clients:
        assert password_login(c, "clerk").status_code == 302
    tried = slowed(monkeypatch, TOTPDevice, "verify_token")
    statuses = in_parallel(18, lambda i: clients[i].post(OTP, {"token": "000000"}).status_code)
    assert statuses.count(200) == 10 and statuses.count(429) == 8, statuses
    assert len(tried) == 10
    assert AuditEntry.objects.filter(action="staff.otp_failed").count() == 10


def test_parallel_wrong_receipts_are_looked_up_only_up_to_the_limit(township, monkeypatch):
    _report, receipt = intake.create_report(
        intake.ReportInput(
            category="sex_determination",
            township_id=township.id,
            description="十个字以上的描述内容",
        )
    )
    wrong = receipt[:-1] + str((int(receipt[-1]) + 1) % 10)
    looked_up = slowed(monkeypatch, intake, "find_by_receipt")
    limit = settings.TIPLINE_RATE_LIMITS["receipt_fail_per_client"][0]
    statuses = in_parallel(40, lambda i: Client().post("/receipt/", {"receipt": wrong}).status_code)
    assert 500 not in statuses
    # The limit, and at most one paced try.
    assert limit <= statuses.count(404) <= limit + 1, statuses
    assert statuses.count(404) + statuses.count(429) == 40
    assert len(looked_up) == statuses.count(404)
