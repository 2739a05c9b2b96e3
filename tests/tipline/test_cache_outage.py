"""The cache (Redis) dies: the tip line keeps taking reports, and the rate limits still limit.

Before the fix every public submission, receipt look-up and staff sign-in answered 500
(redis.exceptions.ConnectionError) while the cache was down, and the citizen's text was lost.
Here a private Redis is the site's cache, is killed as a crash, and is started again.
"""

import json
import logging
import re
import time

import pytest
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from tipline import throttle
from tipline.models import Report
from tipline.services import find_by_receipt

from ..casework.conftest import cast, make_staff, units  # noqa: F401
from ..casework.test_staff_login import LOGIN, OTP, is_verified, totp_token
from ..private_redis import needs_redis_server, private_redis, time_limit  # noqa: F401
from .helpers import form_data

pytestmark = [pytest.mark.faults, needs_redis_server, pytest.mark.django_db]

ADDRESS = "203.0.113.77"  # the one citizen of these tests


@pytest.fixture
def fresh_fallback(monkeypatch):
    """No outage carried in from another test, none carried out; retried after 0.2 s here."""
    monkeypatch.setattr(throttle, "RETRY_SECONDS", 0.2)
    throttle._outage.update(since=None, retry_at=0.0)
    throttle._local.clear()
    yield
    throttle._outage.update(since=None, retry_at=0.0)
    throttle._local.clear()


@pytest.fixture
def redis_cache(private_redis, settings, fresh_fallback, time_limit):  # noqa: F811
    """The site's cache is the private Redis, with the production options (the usual cache
    again before the shared fixtures clear it at the end)."""
    usual = settings.CACHES
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": private_redis.url(0),
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 1},
        }
    }
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.TIPLINE_RECEIPT_ARGON2 = {"memory_cost": 8, "iterations": 1, "lanes": 1}
    # Two web processes: while the cache is down each allows ceil(limit / 2).
    settings.TIPLINE_WEB_WORKERS = 2
    settings.TIPLINE_RATE_LIMITS = {
        **settings.TIPLINE_RATE_LIMITS,
        "report_per_client": (5, 3600),
        "login_per_account": (5, 900),
    }
    yield private_redis
    settings.CACHES = usual


def api_report(client, township, **fields):
    body = json.dumps(form_data(township, **fields), ensure_ascii=False)
    return client.post("/api/v1/reports", body, content_type="application/json")


def test_with_the_cache_dead_reports_receipts_and_sign_in_go_on_and_limits_still_hold(
    redis_cache,
    township,
    cast,  # noqa: F811
    caplog,
):
    citizen = Client(REMOTE_ADDR=ADDRESS)
    assert citizen.get("/healthz").json()["status"] == "ok"
    assert api_report(citizen, township).status_code == 201  # counted in Redis

    redis_cache.kill()
    caplog.set_level(logging.INFO)

    # The API files the report and answers with its receipt.
    response = api_report(citizen, township, description="缓存停了以后通过接口举报的内容。")
    assert response.status_code == 201, response.content
    api_receipt = response.json()["receipt"]
    assert find_by_receipt(api_receipt).description == "缓存停了以后通过接口举报的内容。"

    # The form files it and shows the receipt.
    response = citizen.post("/report/", form_data(township, description="缓存停了以后填表举报。"))
    assert response.status_code == 200
    form_receipt = response.context["receipt"]
    assert find_by_receipt(form_receipt).description == "缓存停了以后填表举报。"
    assert form_receipt[:4] in re.sub(r"\s", "", response.content.decode())

    # The receipt looks the report up, on the page and through the API.
    assert citizen.post("/receipt/", {"receipt": form_receipt}).status_code == 200
    status = citizen.post(
        "/api/v1/receipt/status",
        json.dumps({"receipt": api_receipt}),
        content_type="application/json",
    )
    assert status.status_code == 200, status.content

    # Still limited: 5 attempts an hour, this process's share ceil(5 / 2) = 3 while the cache is
    # down (not 5: each process on its own would let 2 × 5 through; not floor(5 / 2) = 2). Two
    # were made above; the third passes, the fourth is refused and files nothing.
    assert api_report(citizen, township).status_code == 201
    reports = Report.objects.count()
    refused = api_report(citizen, township)
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert Report.objects.count() == reports
    assert citizen.post("/report/", form_data(township)).status_code == 429
    assert Report.objects.count() == reports

    # Staff sign in (sessions are in the database), and password guessing is still limited:
    # 5 per 15 minutes, this process's share 3.
    device = TOTPDevice.objects.create(user=cast["clerk"], name="phone", confirmed=True)
    clerk = Client()
    assert clerk.post(LOGIN, {"username": "clerk", "password": "pw-clerk"}).status_code == 302
    assert clerk.post(OTP, {"token": totp_token(device)}).status_code == 302
    assert is_verified(clerk)  # signed in with both factors
    guesser = Client()
    tries = [
        guesser.post(LOGIN, {"username": "investigator", "password": "wrong"}).status_code
        for _ in range(4)
    ]
    assert tries == [200, 200, 200, 429]

    # The health check says the cache is degraded, and the site still serves (200, not 503).
    health = Client().get("/healthz")
    assert health.status_code == 200
    assert health.json() == {
        "status": "degraded",
        "checks": {"database": "ok", "cache": "degraded", "key_ring": "ok"},
    }

    # Logged once per outage, with no address and no bucket.
    outage = [r for r in caplog.records if "rate-limit cache unreachable" in r.getMessage()]
    assert len(outage) == 1
    bucket = throttle.client_bucket(ADDRESS)
    for record in caplog.records:
        text = record.getMessage() + repr(record.__dict__)
        assert ADDRESS not in text and bucket not in text


def test_when_the_cache_returns_the_shared_counters_are_used_again(redis_cache, township, caplog):
    citizen = Client(REMOTE_ADDR=ADDRESS)
    redis_cache.kill()
    caplog.set_level(logging.INFO)
    assert api_report(citizen, township).status_code == 201
    assert throttle.in_fallback()

    redis_cache.start()  # the same port: the cache is back
    time.sleep(0.3)  # past the retry time (0.2 s here, RETRY_SECONDS in production)
    assert api_report(citizen, township).status_code == 201
    assert not throttle.in_fallback()
    assert any("rate-limit cache answers again" in r.getMessage() for r in caplog.records)
    # The attempt was counted in Redis (the restarted, empty one): 1 of the full limit of 5.
    assert throttle.current("report_per_client", throttle.client_bucket(ADDRESS)) == 1
    health = Client().get("/healthz")
    assert (health.status_code, health.json()["status"]) == (200, "ok")
