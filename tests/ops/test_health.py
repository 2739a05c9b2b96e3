"""/healthz: what a load balancer and an administrator learn, and what nobody else does."""

import json
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.utils import timezone

from casework.models import AuditEntry
from org import roles

from ..casework.conftest import make_staff, verified_client

pytestmark = pytest.mark.django_db


def test_shallow_check_answers_ok_without_auth_and_without_data(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "cache": "ok", "key_ring": "ok"},
    }
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


def test_a_missing_key_ring_fails_the_check(client, settings, tmp_path):
    from vault import keyring

    settings.TIPLINE_KEYS_FILE = str(tmp_path / "gone.json")
    keyring.reset_cache()
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["key_ring"] == "fail"
    # The public answer names the failing check, never the reason (a path, a host name).
    assert "gone.json" not in response.content.decode()


def test_a_broken_database_fails_the_check(client, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("database is down")

    monkeypatch.setattr(connection, "cursor", broken)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == "fail"


def test_deep_check_is_for_administrators_only(client, cast, units):
    before = AuditEntry.objects.count()
    assert client.get("/healthz?deep=1").status_code == 403
    clerk = verified_client(client, cast["clerk"])
    assert clerk.get("/healthz?deep=1").status_code == 403
    assert AuditEntry.objects.count() == before

    admin = make_staff("it_admin", roles.ADMINISTRATOR, units["county_fp"])
    assert Group.objects.get(name=roles.ADMINISTRATOR) in admin.groups.all()
    client.logout()
    response = verified_client(client, admin).get("/healthz?deep=1")
    assert response.status_code == 200
    body = response.json()
    assert set(body["checks"]) == {
        "database",
        "cache",
        "key_ring",
        "broker",
        "attachment_storage",
        "outbox_backlog",
    }
    assert body["checks"]["outbox_backlog"] == {
        "events_waiting": 0,
        "deliveries_pending": 0,
        "deliveries_failed": 0,
    }


def test_deep_check_with_the_monitoring_token(client, settings):
    settings.TIPLINE_HEALTH_TOKEN = "monitor-token-0123456789"
    wrong = client.get("/healthz?deep=1", HTTP_AUTHORIZATION="Bearer nope")
    assert wrong.status_code == 403
    response = client.get("/healthz?deep=1", HTTP_AUTHORIZATION="Bearer monitor-token-0123456789")
    assert response.status_code == 200
    assert json.loads(response.content)["status"] == "ok"


def test_deep_check_counts_the_notification_backlog(client, settings, township):
    """A report's event counts as waiting once no worker processed it within the hand-over
    grace (here: never processed, as with the broker down); not while it is fresh."""
    from notifications.models import Event
    from tipline import services

    settings.TIPLINE_HEALTH_TOKEN = "monitor-token-0123456789"
    services.create_report(
        services.ReportInput(
            category="sex_determination", township_id=township.id, description="积压测试：诊所"
        )
    )
    auth = {"HTTP_AUTHORIZATION": "Bearer monitor-token-0123456789"}
    backlog = client.get("/healthz?deep=1", **auth).json()["checks"]["outbox_backlog"]
    assert backlog == {"events_waiting": 0, "deliveries_pending": 0, "deliveries_failed": 0}
    grace = settings.TIPLINE_NOTIFY_HANDOVER_SECONDS
    Event.objects.update(created_at=timezone.now() - timedelta(seconds=grace + 1))
    backlog = client.get("/healthz?deep=1", **auth).json()["checks"]["outbox_backlog"]
    assert backlog == {"events_waiting": 1, "deliveries_pending": 0, "deliveries_failed": 0}
