"""The admin shows nobody a second-factor secret (superusers included), and deleting a device
there is the administrator's reset that lets its owner enrol again."""

import base64

import pytest
from django.contrib.auth import get_user_model
from django_otp.plugins.otp_totp.models import TOTPDevice

from casework.models import AuditEntry, BackupCodeDevice

from .test_staff_login import SETUP, enrol, password_login

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def root(db):
    return get_user_model().objects.create_superuser("root", "root@example.invalid", "pw-root")


def secret_forms(device) -> list[str]:
    b32 = base64.b32encode(device.bin_key).decode()
    return [device.key, device.key.upper(), b32, b32.rstrip("="), b32[:16], device.config_url]


def test_no_admin_page_shows_a_totp_secret(client, cast, root, login):
    enrol(client, cast["clerk"])
    device = TOTPDevice.objects.get(user=cast["clerk"], confirmed=True)
    admin = login(root)
    base = "/admin/otp_totp/totpdevice/"
    pages = {
        url: admin.get(url, follow=True)
        for url in (
            base,
            f"{base}{device.pk}/change/",
            f"{base}{device.pk}/config/",
            f"{base}{device.pk}/qrcode/",
            f"{base}add/",
        )
    }
    assert pages[base].status_code == 200
    assert cast["clerk"].username in pages[base].content.decode()
    assert pages[f"{base}{device.pk}/change/"].status_code == 200
    assert pages[f"{base}add/"].status_code == 403
    for url, response in pages.items():
        html = response.content.decode()
        for secret in secret_forms(device):
            assert secret not in html, url
        assert "otpauth://" not in html, url


def test_deleting_a_device_resets_the_second_factor(client, cast, root, login):
    enrol(client, cast["clerk"])
    device = TOTPDevice.objects.get(user=cast["clerk"], confirmed=True)
    admin = login(root)
    response = admin.post(f"/admin/otp_totp/totpdevice/{device.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=cast["clerk"]).exists()
    assert not BackupCodeDevice.objects.filter(user=cast["clerk"]).exists()
    entry = AuditEntry.objects.get(action="staff.otp_reset")
    assert entry.actor == root and entry.object_id == str(cast["clerk"].pk)
    # The owner enrols a new authenticator at the next sign-in.
    client.post("/staff/logout/")
    response = password_login(client, "clerk")
    assert response["Location"].startswith(SETUP)
    assert client.get(SETUP).status_code == 200
