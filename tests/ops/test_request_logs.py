"""Request logs: one JSON line per request, with nothing that identifies a reporter.

A full public journey (report with identity and photo, receipt look-up, follow-up, the API) runs
with the production formatter writing to a real stream; the stream is then scanned for the
client address, user agent, identity, receipt and report text. The scan first proves it finds
a value planted in the same stream.
"""

import io
import json
import logging

import pytest
from django.conf import settings

from ops.logs import JsonFormatter, RequestIdFilter
from tipline import receipts

from ..tipline.helpers import VALID_ID, form_data, upload

pytestmark = pytest.mark.django_db

IP = "203.0.113.99"
AGENT = "PlantedBrowser/4.2"
NAME = "孙日志"
PHONE = "13712345678"
DESCRIPTION = "日志扫描：东街诊所周五晚上用B超查胎儿性别。"


@pytest.fixture
def json_log():
    """The production formatter on a real stream attached to the root logger."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield stream
    root.removeHandler(handler)
    root.setLevel(old_level)


def lines(stream) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def secrets_in(text: str, receipt_list) -> list[str]:
    needles = {"ip": IP, "user agent": AGENT, "name": NAME, "phone": PHONE, "id": VALID_ID}
    needles["description"] = DESCRIPTION[:12]
    for i, receipt in enumerate(receipt_list):
        needles[f"receipt {i}"] = receipt
        needles[f"receipt {i} grouped"] = receipts.grouped(receipt)
    return [label for label, needle in needles.items() if needle in text]


def test_scan_finds_a_planted_value(json_log):
    logging.getLogger("tipline").warning("planted %s %s", IP, NAME)
    assert secrets_in(json_log.getvalue(), []) == ["ip", "name"]


def test_public_journey_logs_routes_and_statuses_only(client, township, json_log):
    meta = {"REMOTE_ADDR": IP, "HTTP_USER_AGENT": AGENT}
    response = client.post(
        "/report/",
        {
            **form_data(township, description=DESCRIPTION),
            "reporter_name": NAME,
            "reporter_phone": PHONE,
            "reporter_id_number": VALID_ID,
            "evidence": [upload()],
        },
        **meta,
    )
    assert response.status_code == 200
    receipt = response.context["receipt"]
    assert response["X-Request-ID"]
    look = {"receipt": receipts.grouped(receipt)}
    assert client.post("/receipt/", look, **meta).status_code == 200
    assert client.post("/receipt/add/", {**look, "body": DESCRIPTION}, **meta).status_code == 200
    assert client.post("/receipt/", {"receipt": "1" * 16}, **meta).status_code == 404
    api = client.post(
        "/api/v1/reports",
        {**form_data(township, description=DESCRIPTION), "reporter_name": NAME},
        content_type="application/json",
        **meta,
    )
    assert api.status_code == 201

    records = lines(json_log)
    requests = [r for r in records if r["logger"] == "tipline.requests"]
    assert [(r["method"], r["route"], r["status"]) for r in requests] == [
        ("POST", "/report/", 200),
        ("POST", "/receipt/", 200),
        ("POST", "/receipt/add/", 200),
        ("POST", "/receipt/", 404),
        ("POST", "/api/v1/reports", 201),
    ]
    assert all(len(r["request_id"]) == 32 for r in requests)
    assert len({r["request_id"] for r in requests}) == 5
    # Records written during a request carry its id too.
    inner = [r for r in records if r["logger"] == "tipline.services"]
    assert inner and all(r["request_id"] in {q["request_id"] for q in requests} for r in inner)

    assert secrets_in(json_log.getvalue(), [receipt, api.json()["receipt"]]) == []


def test_staff_routes_are_logged_as_patterns_not_paths(client, json_log):
    client.get("/staff/cases/123456/")
    route = [r["route"] for r in lines(json_log) if r["logger"] == "tipline.requests"]
    assert route == ["/staff/cases/<int:pk>/"]
    assert "123456" not in json_log.getvalue()


def test_production_format_is_json_by_default():
    assert settings.LOGGING["formatters"]["json"]["()"] == "ops.logs.JsonFormatter"
