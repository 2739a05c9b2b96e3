"""The admin speaks Chinese: model and field names, list columns and filters (no "以 status"),
django-otp's authenticator devices included."""

import re

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.utils import translation
from django_otp.models import Device
from django_otp.plugins.otp_totp.models import TOTPDevice

from .conftest import verified_client

pytestmark = pytest.mark.django_db

OUR_APPS = ("org", "tipline", "casework", "notifications", "rewards", "assessment")
CJK = re.compile(r"[\u4e00-\u9fff]")
ENGLISH_WORD = re.compile(r"[A-Za-z]{3,}")
DJANGO_OTP_FIELDS = {f.name for f in Device._meta.get_fields()}


@pytest.fixture
def admin_client(client, cast):
    admin = get_user_model().objects.create_superuser("root", "root@example.invalid", "pw-root")
    return verified_client(client, admin)


def test_every_model_and_field_people_see_has_a_chinese_name():
    missing = []
    with translation.override("zh-hans"):
        for label in OUR_APPS:
            for model in apps.get_app_config(label).get_models():
                for name in (model._meta.verbose_name, model._meta.verbose_name_plural):
                    if not CJK.search(str(name)):
                        missing.append(f"{model._meta.label}: {name}")
                for field in model._meta.get_fields():
                    if not getattr(field, "concrete", False) or field.auto_created:
                        continue
                    if not field.editable or field.name in ("id", "kek_version", "wrapped_key"):
                        continue  # internal: never shown in a form or the admin
                    if field.name in DJANGO_OTP_FIELDS:
                        continue  # django-otp's own (English only; the admin labels them)
                    if not CJK.search(str(field.verbose_name)):
                        missing.append(f"{model._meta.label}.{field.name}: {field.verbose_name}")
    assert not missing, missing


def headings(page: str) -> list[str]:
    """Column headers and filter titles of a change list."""
    columns = re.findall(
        r'<th scope="col"[^>]*>.*?<a [^>]*>([^<]+)</a>|'
        r'<th scope="col"[^>]*>\s*<div class="text"><span>([^<]+)</span>',
        page,
        re.S,
    )
    names = [a or b for a, b in columns]
    names += re.findall(r"<summary>\s*([^<]+?)\s*</summary>", page)  # filter titles
    names += re.findall(r"<h3>\s*([^<]+?)\s*</h3>", page)
    return [n.strip() for n in names if n.strip()]


@pytest.mark.parametrize(
    "url",
    [
        "/admin/tipline/report/",
        "/admin/org/township/",
        "/admin/org/unit/",
        "/admin/org/staffprofile/",
        "/admin/casework/case/",
        "/admin/casework/documenttype/",
        "/admin/otp_totp/totpdevice/",
        "/admin/notifications/delivery/",
        "/admin/rewards/reward/",
        "/admin/assessment/townshipquota/",
    ],
)
def test_change_lists_have_chinese_columns_and_filters(admin_client, case, url):
    if url.endswith("totpdevice/"):
        TOTPDevice.objects.filter(user__username="root").update(name="手机")
    response = admin_client.get(url)
    assert response.status_code == 200, url
    page = response.content.decode()
    found = headings(page)
    assert found, f"{url}: no headings found"
    if url in ("/admin/tipline/report/", "/admin/casework/case/", "/admin/org/township/"):
        assert "收到时间" in found or "案件编号" in found or "名称" in found, found
    english = [h for h in found if ENGLISH_WORD.search(h) and not CJK.search(h)]
    assert not english, f"{url}: {english}"
    assert "以 " not in page  # Django's own catalogue says "以 status"; ours says "按状态"


def test_the_filters_read_by_not_with(admin_client):
    page = admin_client.get("/admin/tipline/report/").content.decode()
    assert "按状态" in page and "按举报类别" in page
    page = admin_client.get("/admin/otp_totp/totpdevice/").content.decode()
    assert "按已完成设置" in page


def test_the_admin_index_names_the_authenticator_devices_in_chinese(admin_client):
    page = admin_client.get("/admin/").content.decode()
    assert "两步验证" in page and "身份验证器" in page
    assert "TOTP device" not in page and "Otp_Totp" not in page
    assert "有奖举报平台管理" in page
