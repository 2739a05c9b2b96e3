"""Staff sign-in: throttled password step, TOTP enrolment and verification, backup codes, the
admin behind the second factor, no open redirects, sign-out."""

import base64
import hashlib
import hmac
import re
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from casework.models import AuditEntry, BackupCode, BackupCodeDevice
from tipline import throttle
from vault import keyring

pytestmark = pytest.mark.django_db

LOGIN, OTP, SETUP = "/staff/login/", "/staff/otp/", "/staff/otp/setup/"
# A fixed clock for the throttle: 300 s into a 900 s window, so 600 s (+1) remain.
NOW = 900 * 2_000_000 + 300


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.TIPLINE_RECEIPT_ARGON2 = {"memory_cost": 8, "iterations": 1, "lanes": 1}


@pytest.fixture
def clock(monkeypatch):
    """Freeze the throttle's clock so a test cannot straddle a window boundary."""
    state = SimpleNamespace(now=float(NOW))
    monkeypatch.setattr(throttle, "time", SimpleNamespace(time=lambda: state.now))
    return state


def password_login(client, username, password=None, **extra):
    data = {"username": username, "password": password or f"pw-{username}", **extra}
    return client.post(LOGIN, data)


def totp_token(device) -> str:
    token = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).token()
    return f"{token:0{device.digits}d}"


def other_token(device) -> str:
    return f"{(int(totp_token(device)) + 500_000) % 10**6:06d}"


def is_verified(client) -> bool:
    return client.get("/staff/").status_code == 200


def enrol(client, user):
    """Password, then set up TOTP; returns the backup codes shown."""
    assert password_login(client, user.username).status_code == 302
    client.get(SETUP)
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    response = client.post(SETUP, {"token": totp_token(device)})
    assert response.status_code == 200
    return re.findall(r"<li><code>([^<]+)</code></li>", response.content.decode())


# --- password throttling --------------------------------------------------------------------


def test_password_failures_are_throttled_per_account(client, cast, clock):
    clerk = cast["clerk"]
    # Case and blanks do not make a new account bucket.
    for name in ("clerk", "CLERK", " clerk", "Clerk", "clerk "):
        response = password_login(client, name, "wrong-password")
        assert response.status_code == 200
        assert "_auth_user_id" not in client.session

    failures = AuditEntry.objects.filter(action="staff.login_failed")
    assert failures.count() == 5
    assert all(
        e.actor_id is None and e.data["username"].strip().lower() == "clerk" for e in failures
    )

    # Throttled: even the right password is refused, and it is not tried.
    response = password_login(client, "clerk")
    assert response.status_code == 429
    assert response["Retry-After"] == "601"
    assert "_auth_user_id" not in client.session
    assert not AuditEntry.objects.filter(action="staff.login", actor=clerk).exists()
    assert failures.count() == 5

    # Another account is unaffected.
    other = Client()
    response = password_login(other, "investigator")
    assert response.status_code == 302
    assert response["Location"].startswith(SETUP)
    assert int(other.session["_auth_user_id"]) == cast["investigator"].pk

    # The pause ends with the window.
    clock.now += 601
    response = password_login(client, "clerk")
    assert response.status_code == 302
    assert int(client.session["_auth_user_id"]) == clerk.pk


def test_four_failures_do_not_throttle(client, cast, clock):
    for _ in range(4):
        password_login(client, "clerk", "wrong-password")
    assert password_login(client, "clerk").status_code == 302


# --- enrolment --------------------------------------------------------------------------------


def test_first_login_enrols_a_totp_device(client, cast):
    clerk = cast["clerk"]
    response = password_login(client, "clerk")
    assert response.status_code == 302
    assert response["Location"] == f"{SETUP}?next=%2Fstaff%2F"
    assert client.get("/staff/")["Location"].startswith(OTP)  # not verified yet

    response = client.get(SETUP)
    assert response.status_code == 200
    assert response["Cache-Control"].count("no-store") == 1
    html = response.content.decode()
    device = TOTPDevice.objects.get(user=clerk, confirmed=False)
    qr = re.search(r'src="data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)"', html)
    assert qr, "inline SVG QR code missing"
    assert b"<svg" in base64.b64decode(qr.group(1))
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    assert f'<code id="totp-secret">{secret}</code>' in html
    # Reloading keeps the same key (the phone may already have scanned it).
    client.get(SETUP)
    assert TOTPDevice.objects.filter(user=clerk).count() == 1

    response = client.post(SETUP, {"token": totp_token(device)})
    assert response.status_code == 200
    codes = re.findall(r"<li><code>([^<]+)</code></li>", response.content.decode())
    assert len(codes) == 10 and len(set(codes)) == 10
    device.refresh_from_db()
    assert device.confirmed
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    assert is_verified(client)
    assert AuditEntry.objects.filter(action="staff.otp_enrolled", actor=clerk).count() == 1

    # The codes are shown once: setup is closed now, for this session and any other.
    response = client.get(SETUP)
    assert response.status_code == 302 and response["Location"] == OTP
    intruder = Client()
    response = password_login(intruder, "clerk")
    assert response["Location"].startswith(f"{OTP}?")
    assert intruder.get(SETUP)["Location"] == OTP
    assert intruder.post(SETUP, {"token": totp_token(device)})["Location"] == OTP
    assert TOTPDevice.objects.filter(user=clerk).count() == 1
    assert not is_verified(intruder)


def test_wrong_totp_at_setup_leaves_the_user_unverified(client, cast):
    clerk = cast["clerk"]
    password_login(client, "clerk")
    client.get(SETUP)
    device = TOTPDevice.objects.get(user=clerk)
    response = client.post(SETUP, {"token": other_token(device)})
    assert response.status_code == 200
    assert 'role="alert"' in response.content.decode()
    assert 'id="backup-codes"' not in response.content.decode()
    device.refresh_from_db()
    assert not device.confirmed
    assert not BackupCodeDevice.objects.filter(user=clerk).exists()
    assert DEVICE_ID_SESSION_KEY not in client.session
    assert client.get("/staff/")["Location"].startswith(OTP)


def test_wrong_totp_at_verification_is_refused(client, cast):
    device = TOTPDevice.objects.create(user=cast["clerk"], name="phone", confirmed=True)
    password_login(client, "clerk")
    response = client.post(OTP, {"token": other_token(device)})
    assert response.status_code == 200
    assert 'role="alert"' in response.content.decode()
    assert not is_verified(client)


def test_correct_totp_at_verification(client, cast):
    device = TOTPDevice.objects.create(user=cast["clerk"], name="phone", confirmed=True)
    response = password_login(client, "clerk", next="/staff/cases/")
    assert response["Location"] == f"{OTP}?next=%2Fstaff%2Fcases%2F"
    response = client.post(OTP, {"token": totp_token(device), "next": "/staff/cases/"})
    assert response.status_code == 302 and response["Location"] == "/staff/cases/"
    assert is_verified(client)


# --- backup codes -----------------------------------------------------------------------------


def test_backup_codes_are_stored_hashed(client, cast):
    codes = enrol(client, cast["clerk"])
    assert len(codes) == 10
    device = BackupCodeDevice.objects.get(user=cast["clerk"])
    rows = list(BackupCode.objects.filter(device=device).values())
    assert len(rows) == 10
    stored = repr(rows) + repr(list(BackupCodeDevice.objects.values()))
    for code in codes:
        for form in (code, code.replace("-", ""), code.upper()):
            assert form not in stored


def test_backup_code_works_exactly_once(client, cast):
    clerk = cast["clerk"]
    codes = enrol(client, clerk)
    client.post("/staff/logout/")

    first = Client()
    password_login(first, "clerk")
    response = first.post(OTP, {"token": codes[0]})
    assert response.status_code == 302 and response["Location"] == "/staff/"
    assert is_verified(first)
    assert BackupCode.objects.filter(device__user=clerk).count() == 9
    entry = AuditEntry.objects.filter(action="staff.otp_verified", actor=clerk).latest("id")
    assert entry.data == {"device": "BackupCodeDevice"}

    again = Client()
    password_login(again, "clerk")
    response = again.post(OTP, {"token": codes[0]})
    assert response.status_code == 200
    assert not is_verified(again)
    # Written without the dash and in capitals, another code still works.
    response = again.post(OTP, {"token": codes[1].replace("-", "").upper()})
    assert response.status_code == 302
    assert is_verified(again)
    assert BackupCode.objects.filter(device__user=clerk).count() == 8


def test_backup_codes_survive_a_new_secret_key(client, cast, settings):
    """Their HMAC key lives in the key ring: rotating DJANGO_SECRET_KEY leaves them working."""
    codes = enrol(client, cast["clerk"])
    client.post("/staff/logout/")
    settings.SECRET_KEY = "a-completely-different-secret-key-after-rotation-0123456789"

    fresh = Client()
    password_login(fresh, "clerk")
    response = fresh.post(OTP, {"token": codes[0]})
    assert response.status_code == 302
    assert is_verified(fresh)


def test_backup_codes_are_keyed_by_the_ring_not_the_secret_key(cast, settings):
    device = BackupCodeDevice.objects.create(user=cast["clerk"], name="b", confirmed=True)
    code = device.generate(count=1)[0]
    digest = BackupCode.objects.get(device=device).digest
    ring_key = keyring.get_keyring().backup_code_key
    normal = code.replace("-", "").encode()
    assert digest == "k1$" + hmac.new(ring_key, normal, hashlib.sha256).hexdigest()
    settings.SECRET_KEY = "another-secret-key-entirely-different-from-before-0123456789"
    assert device.verify_token(code)


def test_codes_made_with_the_old_secret_key_still_work_once(cast, settings):
    device = BackupCodeDevice.objects.create(user=cast["clerk"], name="b", confirmed=True)
    legacy = hmac.new(settings.SECRET_KEY.encode(), b"abcde23456", hashlib.sha256).hexdigest()
    BackupCode.objects.create(device=device, digest=legacy)
    assert device.verify_token("abcde-23456")
    assert not device.verify_token("abcde-23456")


# --- the admin --------------------------------------------------------------------------------


@pytest.fixture
def root(db):
    return get_user_model().objects.create_superuser("root", "root@example.invalid", "pw-root")


def test_admin_needs_a_verified_device(client, root, login):
    client.force_login(root)  # password only
    response = client.get("/admin/", follow=True)
    chain = [url for url, _status in response.redirect_chain]
    assert f"{OTP}?next=%2Fadmin%2F" in chain, chain
    assert response.request["PATH_INFO"] == SETUP  # no device yet: enrol first
    assert client.get("/admin/casework/case/").status_code == 302

    verified = login(root)
    assert verified.get("/admin/").status_code == 200
    assert verified.get("/admin/casework/case/").status_code == 200


def test_admin_login_form_is_not_a_way_around_the_throttle(root):
    anonymous = Client()
    response = anonymous.get("/admin/")
    assert response.status_code == 302
    assert anonymous.get(response["Location"])["Location"].startswith(f"{LOGIN}?next=")
    response = anonymous.post("/admin/login/", {"username": "root", "password": "pw-root"})
    assert response.status_code == 302 and response["Location"].startswith(LOGIN)
    assert "_auth_user_id" not in anonymous.session


# --- redirects --------------------------------------------------------------------------------

EVIL = ["https://evil.example", "//evil.example/staff/", "https:///evil.example", "/\\evil.example"]


@pytest.mark.parametrize("target", EVIL)
def test_login_refuses_open_redirect(client, cast, target):
    response = password_login(client, "clerk", next=target)
    assert response.status_code == 302
    assert response["Location"] == f"{SETUP}?next=%2Fstaff%2F"
    # The form carries the safe default onward (the language switcher's own `next` is checked
    # by Django's set_language view).
    html = client.get(LOGIN, {"next": target}).content.decode()
    assert '<input type="hidden" name="next" value="/staff/">' in html


@pytest.mark.parametrize("target", EVIL)
def test_otp_refuses_open_redirect(client, cast, target):
    device = TOTPDevice.objects.create(user=cast["clerk"], name="phone", confirmed=True)
    password_login(client, "clerk")
    response = client.post(OTP, {"token": totp_token(device), "next": target})
    assert response.status_code == 302 and response["Location"] == "/staff/"
    # Already verified: the otp page sends on, never off-site.
    response = client.get(OTP, {"next": target})
    assert response.status_code == 302 and response["Location"] == "/staff/"


@pytest.mark.parametrize("target", EVIL)
def test_setup_refuses_open_redirect(client, cast, target):
    password_login(client, "clerk")
    client.get(SETUP)
    device = TOTPDevice.objects.get(user=cast["clerk"])
    response = client.post(SETUP, {"token": totp_token(device), "next": target})
    assert response.status_code == 200
    assert "evil" not in response.content.decode()


def test_login_keeps_a_next_with_several_parameters(client, cast):
    target = "/staff/cases/?state=all&page=2"
    response = password_login(client, "clerk", next=target)
    query = parse_qs(urlsplit(response["Location"]).query)
    assert query == {"next": [target]}


# --- sign-out ---------------------------------------------------------------------------------


def test_logout(login, cast):
    client = login(cast["clerk"])
    assert client.get("/staff/logout/").status_code == 405
    assert is_verified(client)
    response = client.post("/staff/logout/")
    assert response.status_code == 302 and response["Location"] == LOGIN
    assert "_auth_user_id" not in client.session
    assert client.get("/staff/")["Location"].startswith(f"{LOGIN}?next=")
    assert AuditEntry.objects.filter(action="staff.logout", actor=cast["clerk"]).count() == 1
