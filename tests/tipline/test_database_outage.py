"""PostgreSQL unreachable: 503 with Retry-After in Chinese (JSON for the API), the typed text kept
on a page rendered without the database, nothing half-written, and a resend files once.

The outage is real: the request's own backend is terminated mid-submission from another
connection (pg_terminate_backend), or the app is pointed at a closed port. The shared server is
never stopped.
"""

import socket
import time

import psycopg
import pytest
from django.conf import settings
from django.db import connection
from django.test import Client

from tipline import submissions, together
from tipline.models import Attachment, Report

from ..casework.conftest import cast, units, verified_client  # noqa: F401 — fixtures
from ..pg import database_url
from .helpers import form_data, upload

pytestmark = [
    pytest.mark.skipif(
        "postgresql" not in settings.DATABASES["default"]["ENGINE"],
        reason="terminates a PostgreSQL backend (pg_terminate_backend); SQLite has no server",
    ),
    pytest.mark.django_db(transaction=True),
    pytest.mark.faults,
]

TYPED = "村口药店私下卖打胎药，老板姓周，晚上八点以后才卖，每盒三百元。"


def _own_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


@pytest.fixture
def cut_mid_submission(monkeypatch):
    """Terminate this test's backend from another connection as the report's rows are sent
    (after its evidence files are written, before the statement that writes every row of the
    report and commits them: tipline.together)."""
    pid = _own_pid()
    other = psycopg.connect(database_url(), autocommit=True)
    real_insert = together.insert

    def insert(*args, **kwargs):
        other.execute("SELECT pg_terminate_backend(%s)", [pid])
        for _ in range(100):  # gone within a few ms; at most 5 s
            if not other.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone():
                break
            time.sleep(0.05)
        return real_insert(*args, **kwargs)

    monkeypatch.setattr(together, "insert", insert)
    yield
    monkeypatch.undo()
    other.close()
    connection.close()  # the test goes on with a fresh connection


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens once it is closed


class ClosedPort:
    """Point the app at a closed port (as when PostgreSQL is stopped), and back."""

    def __init__(self, monkeypatch):
        self.monkeypatch = monkeypatch

    def down(self):
        connection.close()
        self.monkeypatch.setitem(connection.settings_dict, "HOST", "127.0.0.1")
        self.monkeypatch.setitem(connection.settings_dict, "PORT", str(_closed_port()))

    def back(self):
        self.monkeypatch.undo()
        connection.close()


@pytest.fixture
def database(monkeypatch):
    port = ClosedPort(monkeypatch)
    yield port
    port.back()


def stored_files():
    root = settings.TIPLINE_ATTACHMENT_DIR
    return sorted(p.name for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_a_report_cut_off_mid_submission_keeps_its_text_and_files_once(
    client, township, settings, tmp_path, cut_mid_submission
):
    settings.TIPLINE_ATTACHMENT_DIR = tmp_path / "attachments"
    token = submissions.new_token()
    data = form_data(township, description=TYPED, submission=token)
    response = client.post("/report/", {**data, "evidence": [upload()]})
    assert response.status_code == 503
    assert int(response["Retry-After"]) > 0
    assert "no-store" in response["Cache-Control"]
    html = response.content.decode()
    assert "暂时无法使用" in html and "数据库" in html
    assert TYPED in html and "某某诊所" in html  # the typed text, to copy or send again
    assert f'value="{token}"' in html  # the resend carries the form's token
    assert "重新选择" in html  # the files must be chosen again
    connection.close()  # the backend is gone: reconnect to look
    assert Report.objects.count() == 0 and Attachment.objects.count() == 0
    assert stored_files() == []  # the written evidence file was removed again
    assert submissions.spent_at(token) is None


def test_the_resend_after_the_outage_files_once(client, township, cut_mid_submission):
    data = form_data(township, description=TYPED, submission=submissions.new_token())
    assert client.post("/report/", data).status_code == 503
    connection.close()
    assert Client().post("/report/", data).status_code == 200
    assert Client().post("/report/", data).status_code == 409
    assert Report.objects.filter(description=TYPED).count() == 1


def test_the_api_answers_json_503_when_cut_off(client, township, cut_mid_submission):
    body = {"category": "abortion_drug_sale", "township": township.code, "description": TYPED}
    response = client.post("/api/v1/reports", body, content_type="application/json")
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert int(response["Retry-After"]) > 0
    assert "数据库" in response.json()["error"]
    connection.close()
    assert Report.objects.count() == 0


def test_pages_with_the_database_down_answer_503_in_chinese(
    client,
    township,
    cast,  # noqa: F811 — the fixture imported above
    database,
):
    staff = verified_client(client, cast["clerk"])
    public = Client()
    database.down()
    database_down_pages = [
        (staff.get, "/staff/"),
        (staff.get, "/staff/cases/"),
        (public.get, "/"),
    ]
    for method, path in database_down_pages:
        response = method(path)
        assert response.status_code == 503, path
        assert "暂时无法使用" in response.content.decode(), path
        assert int(response["Retry-After"]) > 0
    # A receipt look-up keeps the receipt for the resend; a sign-in never shows the password.
    response = public.post("/receipt/", {"receipt": "1234 5678 9012 3456"})
    assert response.status_code == 503 and "1234 5678 9012 3456" in response.content.decode()
    response = public.post("/staff/login/", {"username": "clerk", "password": "Geheim-Passwort-1"})
    assert response.status_code == 503
    assert "Geheim-Passwort-1" not in response.content.decode()
    response = public.post(  # a well-formed receipt: it must be looked up (a malformed one is
        # refused by the API's schema without the database: 400)
        "/api/v1/receipt/status",
        {"receipt": "1234 5678 9012 3456"},
        content_type="application/json",
    )
    assert response.status_code == 503 and "数据库" in response.json()["error"]

    database.back()  # back: the same pages work again without a restart
    assert staff.get("/staff/").status_code == 200
    assert public.get("/").status_code == 200
