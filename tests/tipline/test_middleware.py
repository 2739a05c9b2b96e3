"""PublicPrivacyMiddleware: the client address becomes a daily-rotating bucket, then is gone."""

from datetime import date

import pytest
from django.http import HttpResponse
from django.test import RequestFactory

from tipline import throttle
from tipline.middleware import PublicPrivacyMiddleware

PLACEHOLDER = "0.0.0.0"  # noqa: S104 — what the middleware puts in place of the address

IDENTIFYING = {
    "REMOTE_ADDR": "203.0.113.77",
    "REMOTE_HOST": "reporter-laptop.example",
    "HTTP_USER_AGENT": "PlantedAgent/9.9",
    "HTTP_X_FORWARDED_FOR": "198.51.100.1, 203.0.113.77",
    "HTTP_X_REAL_IP": "203.0.113.77",
    "HTTP_FORWARDED": "for=203.0.113.77",
    "HTTP_SEC_CH_UA": '"Chromium";v="120"',
    "HTTP_SEC_CH_UA_PLATFORM": '"Android"',
    "HTTP_SEC_CH_UA_MOBILE": "?1",
}


def run(path, **meta):
    seen = {}

    def view(request):
        seen["meta"] = dict(request.META)
        seen["bucket"] = request.client_bucket
        return HttpResponse()

    PublicPrivacyMiddleware(view)(RequestFactory().get(path, **meta))
    return seen


@pytest.mark.parametrize("path", ["/", "/report/", "/receipt/", "/api/v1/reports", "/i18n/"])
def test_public_requests_lose_address_and_device(path):
    seen = run(path, **IDENTIFYING)
    meta = seen["meta"]
    assert meta["REMOTE_ADDR"] == PLACEHOLDER
    for name in IDENTIFYING:
        if name != "REMOTE_ADDR":
            assert name not in meta
    assert "203.0.113.77" not in repr(meta)
    assert "PlantedAgent" not in repr(meta)
    assert len(seen["bucket"]) == 32 and "203" not in seen["bucket"]


@pytest.mark.parametrize("path", ["/staff/", "/admin/login/"])
def test_staff_requests_keep_address_for_audit(path):
    meta = run(path, **IDENTIFYING)["meta"]
    assert meta["REMOTE_ADDR"] == "203.0.113.77"
    assert meta["HTTP_USER_AGENT"] == "PlantedAgent/9.9"


def test_bucket_is_per_address():
    a = run("/", REMOTE_ADDR="203.0.113.77")["bucket"]
    assert run("/", REMOTE_ADDR="203.0.113.77")["bucket"] == a
    assert run("/", REMOTE_ADDR="203.0.113.78")["bucket"] != a


def test_bucket_rotates_daily(monkeypatch):
    monkeypatch.setattr(throttle.timezone, "localdate", lambda: date(2025, 3, 1))
    day1 = throttle.client_bucket("203.0.113.77")
    assert throttle.client_bucket("203.0.113.77") == day1
    monkeypatch.setattr(throttle.timezone, "localdate", lambda: date(2025, 3, 2))
    assert throttle.client_bucket("203.0.113.77") != day1


def test_proxy_header_uses_last_hop(settings):
    settings.TIPLINE_CLIENT_ADDRESS_HEADER = "HTTP_X_FORWARDED_FOR"
    seen = run("/", HTTP_X_FORWARDED_FOR="10.0.0.1, 203.0.113.77", REMOTE_ADDR="10.0.0.2")
    assert seen["bucket"] == throttle.client_bucket("203.0.113.77")
    assert "HTTP_X_FORWARDED_FOR" not in seen["meta"]
    # A forged first hop does not change the bucket.
    forged = run("/", HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.77")
    assert forged["bucket"] == seen["bucket"]


def test_missing_address_gets_a_shared_bucket(settings):
    settings.TIPLINE_CLIENT_ADDRESS_HEADER = "HTTP_X_FORWARDED_FOR"
    assert run("/")["bucket"] == throttle.client_bucket("unknown")
