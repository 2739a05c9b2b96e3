"""Even the DEBUG error page (development) must not show what a reporter typed."""

import pytest
from django.test import Client

from tipline import services

from .helpers import VALID_ID

pytestmark = pytest.mark.django_db

# Built at run time so the page's source-code context lines cannot contain them.
NAME, PHONE = "张" + "错误页", "139" + "1111" + "2222"


def test_debug_500_page_hides_identity(settings, township, monkeypatch):
    settings.DEBUG = True

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(services, "_write_files", boom)
    client = Client(raise_request_exception=False, HTTP_ACCEPT="text/html")
    response = client.post(
        "/report/",
        {
            "category": "sex_determination",
            "township": township.code,
            "description": "某诊所用B超鉴定胎儿性别，收费五百元。",
            "reporter_name": NAME,
            "reporter_phone": PHONE,
            "reporter_id_number": VALID_ID,
        },
    )
    assert response.status_code == 500
    page = response.content.decode()
    assert "disk full" in page  # it really is the technical page
    for secret in (NAME, PHONE, VALID_ID):
        assert secret not in page
