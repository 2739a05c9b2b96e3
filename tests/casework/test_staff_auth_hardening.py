"""Staff sign-in against someone who knows a password: control characters in the user name,
every attempt audited, the session key cycled at the second factor, enrolment bound to one
session, and other sessions ended when a device is confirmed."""

import re

import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from casework import audit
from casework.models import AuditEntry, BackupCodeDevice

from .test_staff_login import (  # noqa: F401
    LOGIN,
    OTP,
    SETUP,
    clock,
    is_verified,
    password_login,
    totp_token,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def entries(action):
    return AuditEntry.objects.filter(action=action)


# --- the user name ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "username",
    ["clerk\x00", "cl\x00erk", "clerk\u202e", "clerk\u200b", "\x1bclerk", "cle\nrk"],
    ids=["nul-end", "nul-inside", "bidi-override", "zero-width", "escape", "newline"],
)
def test_control_characters_in_the_user_name_are_a_form_error_and_audited(client, cast, username):
    response = password_login(client, username, "pw-clerk")
    assert response.status_code == 200
    form = response.context["form"]
    assert "username" in form.errors
    assert form.errors["username"][0] in response.content.decode()
    assert "_auth_user_id" not in client.session
    entry = entries("staff.login_failed").get()
    # Stored in a normalised form that names the account, with nothing invisible in it.
    assert entry.data == {"reason": "invalid_username", "username": "clerk"}
    assert not entries("staff.login").exists()
    ok, message = audit.verify()
    assert ok, message


def test_an_unknown_name_is_audited_only_as_a_hash(client, cast):
    typed = "My-Secret-Passw0rd!"  # a password typed into the name field by mistake
    password_login(client, typed, "x")
    entry = entries("staff.login_failed").get()
    assert set(entry.data) == {"reason", "username_hash"}
    assert entry.data["reason"] == "wrong_credentials"
    assert len(entry.data["username_hash"]) == 16
    assert "secret" not in repr(entry.data).lower()


def test_a_very_long_name_is_audited_as_a_short_hash(client, cast):
    response = password_login(client, "a" * 5000, "x")
    assert response.status_code == 200
    entry = entries("staff.login_failed").get()
    assert len(entry.data["username_hash"]) == 16
    assert "aaaa" not in repr(entry.data)


def test_throttled_attempts_are_audited_once_per_window(client, cast, clock):  # noqa: F811
    for _ in range(5):
        password_login(client, "clerk", "wrong")
    for _ in range(3):
        assert password_login(client, "clerk", "wrong").status_code == 429
    assert entries("staff.login_failed").count() == 5
    throttled = entries("staff.login_throttled").get()
    assert throttled.data == {"username": "clerk"}
    clock.now += 900
    assert password_login(client, "clerk").status_code == 302


def test_wrong_codes_past_the_limit_are_audited_once(client, cast, clock):  # noqa: F811
    device = TOTPDevice.objects.create(user=cast["clerk"], name="phone", confirmed=True)
    password_login(client, "clerk")
    for _ in range(12):
        client.post(OTP, {"token": "zzzzz-zzzzz"})
    assert entries("staff.otp_failed").count() == 10
    assert entries("staff.otp_throttled").count() == 1
    assert client.post(OTP, {"token": totp_token(device)}).status_code == 429


# --- the session key --------------------------------------------------------------------------


def test_the_session_key_changes_when_the_second_factor_is_verified(client, cast):
    device = TOTPDevice.objects.create(user=cast["clerk"], name="phone", confirmed=True)
    password_login(client, "clerk")
    captured = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert client.post(OTP, {"token": totp_token(device)}).status_code == 302
    assert is_verified(client)
    assert client.cookies[settings.SESSION_COOKIE_NAME].value != captured
    # Whoever captured the key between the two steps holds a dead session.
    thief = Client()
    thief.cookies[settings.SESSION_COOKIE_NAME] = captured
    assert thief.get("/staff/")["Location"].startswith(LOGIN)
    assert not Session.objects.filter(session_key=captured).exists()


def test_the_session_key_changes_at_enrolment(client, cast):
    password_login(client, "clerk")
    client.get(SETUP)
    captured = client.cookies[settings.SESSION_COOKIE_NAME].value
    device = TOTPDevice.objects.get(user=cast["clerk"])
    assert client.post(SETUP, {"token": totp_token(device)}).status_code == 200
    assert client.cookies[settings.SESSION_COOKIE_NAME].value != captured
    thief = Client()
    thief.cookies[settings.SESSION_COOKIE_NAME] = captured
    assert thief.get("/staff/")["Location"].startswith(LOGIN)


# --- enrolment --------------------------------------------------------------------------------


def shown_secret(response) -> str:
    return re.search(r'<code id="totp-secret">([A-Z2-7]+)</code>', response.content.decode())[1]


def test_each_session_sees_its_own_pending_secret(cast):
    real, intruder = Client(), Client()
    password_login(real, "clerk")
    password_login(intruder, "clerk")
    secret_real = shown_secret(real.get(SETUP))
    secret_intruder = shown_secret(intruder.get(SETUP))
    assert secret_real != secret_intruder
    assert shown_secret(real.get(SETUP)) == secret_real  # a reload keeps the scanned key
    # The intruder cannot confirm with codes of the secret the real user scanned.
    real_device = TOTPDevice.objects.get(pk=real.session["staff_otp_pending_device"])
    response = intruder.post(SETUP, {"token": totp_token(real_device)})
    assert response.status_code == 200
    assert 'id="backup-codes"' not in response.content.decode()
    assert not TOTPDevice.objects.filter(user=cast["clerk"], confirmed=True).exists()


def test_confirming_ends_the_other_sessions_and_their_pending_secrets(cast):
    real, intruder, other_user = Client(), Client(), Client()
    password_login(real, "clerk")
    password_login(intruder, "clerk")
    password_login(other_user, "investigator")
    real.get(SETUP)
    intruder.get(SETUP)
    intruder_key = intruder.cookies[settings.SESSION_COOKIE_NAME].value
    device = TOTPDevice.objects.get(pk=real.session["staff_otp_pending_device"])
    assert real.post(SETUP, {"token": totp_token(device)}).status_code == 200
    assert is_verified(real)
    # The intruder is signed out, and the secret it was shown is gone.
    assert intruder.get("/staff/")["Location"].startswith(LOGIN)
    assert not Session.objects.filter(session_key=intruder_key).exists()
    assert list(TOTPDevice.objects.filter(user=cast["clerk"])) == [device]
    # Other accounts keep their sessions.
    assert other_user.session.get(SESSION_KEY) == str(cast["investigator"].pk)
    entry = entries("staff.otp_enrolled").get()
    assert entry.data == {"other_sessions_ended": 1}


def test_a_second_enrolment_needs_the_device_or_an_administrator(cast):
    first, second = Client(), Client()
    password_login(first, "clerk")
    password_login(second, "clerk")
    first.get(SETUP)
    second.get(SETUP)
    device = TOTPDevice.objects.get(pk=first.session["staff_otp_pending_device"])
    other = TOTPDevice.objects.get(pk=second.session["staff_otp_pending_device"])
    first.post(SETUP, {"token": totp_token(device)})
    # With the password alone there is no way to a new device.
    again = Client()
    password_login(again, "clerk")
    assert again.get(SETUP)["Location"] == OTP
    assert again.post(SETUP, {"token": totp_token(other)})["Location"] == OTP
    assert TOTPDevice.objects.filter(user=cast["clerk"]).count() == 1
    assert not is_verified(again)
    # An administrator's reset (deleting the device) opens enrolment again.
    TOTPDevice.objects.filter(user=cast["clerk"]).delete()
    BackupCodeDevice.objects.filter(user=cast["clerk"]).delete()
    assert again.get(SETUP).status_code == 200


def test_pending_secrets_per_account_are_bounded(cast):
    for _ in range(8):
        c = Client()
        password_login(c, "clerk")
        c.get(SETUP)
    assert TOTPDevice.objects.filter(user=cast["clerk"], confirmed=False).count() == 5
