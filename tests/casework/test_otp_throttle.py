"""The second-factor step has its own per-account throttle, and backup-code guesses do not
lock the real user's authenticator."""

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from casework.models import AuditEntry

from .test_staff_login import OTP, clock, other_token, password_login, totp_token  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def test_wrong_codes_are_throttled_per_account(client, cast, clock):  # noqa: F811
    device = TOTPDevice.objects.create(user=cast["clerk"], name="phone", confirmed=True)
    password_login(client, "clerk")
    for _ in range(10):
        assert client.post(OTP, {"token": "zzzzz-zzzzz"}).status_code == 200
    response = client.post(OTP, {"token": totp_token(device)})
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert AuditEntry.objects.filter(action="staff.otp_failed", actor=cast["clerk"]).count() == 10
    clock.now += 900  # next window
    assert client.post(OTP, {"token": totp_token(device)}).status_code == 302


def test_backup_code_guesses_leave_the_authenticator_alone(client, cast):
    device = TOTPDevice.objects.create(user=cast["clerk"], name="phone", confirmed=True)
    password_login(client, "clerk")
    for _ in range(3):
        client.post(OTP, {"token": "abcde-fghjk"})
    device.refresh_from_db()
    assert device.throttling_failure_count == 0
    client.post(OTP, {"token": other_token(device)})
    device.refresh_from_db()
    assert device.throttling_failure_count == 1
