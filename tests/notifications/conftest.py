"""Fixtures for notification tests: the casework cast, in-process Celery, a frozen clock, texts
kept in memory, and the outbox run on demand."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from notifications import delivery, sms
from notifications.models import Delivery

# The named cast of the casework tests (clerk, investigator, supervisor, custodian, …).
from ..casework.conftest import (  # noqa: F401
    case,
    cast,
    investigating_case,
    login,
    make_staff,
    new_report,
    report,
    units,
)

BEIJING = ZoneInfo("Asia/Shanghai")


@pytest.fixture(autouse=True)
def _fast_hashing_and_texts(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.TIPLINE_RECEIPT_ARGON2 = {"memory_cost": 8, "iterations": 1, "lanes": 1}
    settings.TIPLINE_SMS_BACKEND = "notifications.sms.LocmemBackend"
    settings.TIPLINE_SITE_URL = "https://jubao.example.gov.cn"
    sms.outbox.clear()
    yield
    sms.outbox.clear()


@pytest.fixture
def texts():
    """Text messages sent, as (phone, text)."""
    return sms.outbox


@pytest.fixture
def eager(eager_tasks):
    """Celery runs tasks in this process (tests/conftest.py eager_tasks); the app."""
    return eager_tasks


@pytest.fixture
def clock(monkeypatch):
    """Freeze django.utils.timezone.now: clock(2026, 10, 8, 9) is 09:00 in Beijing."""

    def freeze(*parts):
        moment = datetime(*parts, tzinfo=BEIJING)
        monkeypatch.setattr(timezone, "now", lambda: moment)
        return moment

    return freeze


def run_outbox():
    """What the sweep (send_outbox) does: process every recorded event, send what is due."""
    return delivery.sweep()


def notices(**filters):
    return Delivery.objects.filter(**filters).select_related("event", "recipient")


def inbox_of(user):
    return list(
        Delivery.objects.filter(recipient=user, channel="inbox").values_list(
            "event__kind", flat=True
        )
    )
