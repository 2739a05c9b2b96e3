"""The JSON API: same form and service as the web, JSON errors with a message per field."""

import json

import pytest

from tipline import receipts
from tipline.models import Category, Report, ReporterIdentity, ReportMessage
from tipline.openapi import REPORT_FIELDS

from .helpers import VALID_ID, form_data

pytestmark = pytest.mark.django_db

REPORTS = "/api/v1/reports"
STATUS = "/api/v1/receipt/status"


def post_json(client, url, data, **extra):
    body = data if isinstance(data, str | bytes) else json.dumps(data, ensure_ascii=False)
    return client.post(url, body, content_type="application/json", **extra)


def assert_json_error(response, status, *fields):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert isinstance(body["error"], str) and body["error"]
    for field in fields:
        messages = body["errors"][field]
        assert messages and all(isinstance(m, str) and m for m in messages)
    if fields:
        assert set(body["errors"]) == set(fields)
    return body


@pytest.fixture
def payload(township):
    data = form_data(township)
    data["category"] = str(data["category"])
    return data


def test_create_returns_receipt_and_stores_report(client, payload):
    response = post_json(
        client,
        REPORTS,
        {**payload, "reporter_phone": "139 1234 5678", "reporter_id_number": VALID_ID},
    )
    assert response.status_code == 201
    assert "no-store" in response["Cache-Control"]
    body = response.json()
    receipt = body["receipt"]
    assert receipts.normalise(receipt) == receipt
    assert body["receipt_display"] == receipts.grouped(receipt)
    assert body["status"] == "received"
    report = Report.objects.get()
    assert report.channel == "api"
    assert report.receipt_hash == receipts.receipt_hash(receipt)
    assert report.received_at.isoformat() == body["received_at"]
    assert report.identity.reveal()["phone"] == "13912345678"


def test_optional_fields_may_be_null_or_absent(client, township):
    response = post_json(
        client,
        REPORTS,
        {
            "category": "other",
            "township": township.code,
            "description": "有人在网上卖打胎药。",
            "occurred_on": None,
            "reporter_name": None,
        },
    )
    assert response.status_code == 201
    assert not ReporterIdentity.objects.exists()


def test_no_csrf_token_needed(payload):
    from django.test import Client

    response = post_json(Client(enforce_csrf_checks=True), REPORTS, payload)
    assert response.status_code == 201


def test_status_lookup(client, payload):
    receipt = post_json(client, REPORTS, payload).json()["receipt"]
    report = Report.objects.get()
    ReportMessage.objects.create(report=report, author="staff", body="请问具体是哪一天？")
    ReportMessage.objects.create(
        report=report, author="staff", body="内部", visible_to_reporter=False
    )
    response = post_json(client, STATUS, {"receipt": receipts.grouped(receipt)})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    body = response.json()
    assert body["status"] == "received"
    assert body["status_label"]
    assert [(m["from"], m["body"]) for m in body["messages"]] == [("staff", "请问具体是哪一天？")]


def test_status_unknown_receipt_is_404(client, payload):
    post_json(client, REPORTS, payload)
    assert_json_error(post_json(client, STATUS, {"receipt": "0" * 16}), 404)


@pytest.mark.parametrize(
    "receipt", ["123", "abcdabcdabcdabcd", "١٢٣٤٥٦٧٨٩٠١٢٣٤٥٦", "¹²³⁴⁵⁶⁷⁸⁹¹²³⁴⁵⁶⁷", ""]
)
def test_status_malformed_receipt_is_400(client, receipt):
    assert_json_error(post_json(client, STATUS, {"receipt": receipt}), 400, "receipt")


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"category": None, "description": None}, ["category", "description"]),
        ({"category": "gossip"}, ["category"]),
        ({"township": "atlantis"}, ["township"]),
        ({"reporter_phone": "23800138000"}, ["reporter_phone"]),
        ({"reporter_id_number": VALID_ID[:17] + "0"}, ["reporter_id_number"]),
        ({"reporter_id_number": "32010219900230123X"}, ["reporter_id_number"]),
        ({"occurred_on": "2999-12-31"}, ["occurred_on"]),
        ({"occurred_on": "yesterday"}, ["occurred_on"]),
        ({"description": "长" * 5001}, ["description"]),
        ({"description": "空\x00字符在这里也不行"}, ["description"]),
        ({"reporter_name": "名" * 51}, ["reporter_name"]),
        ({"description": 12345678901}, ["description"]),
        ({"township": ["zhongshui"], "reporter_phone": {"n": 1}}, ["township", "reporter_phone"]),
        ({"reporter_name": True}, ["reporter_name"]),
        ({"homepage": "x", "evidence": "y"}, ["homepage", "evidence"]),
    ],
)
def test_invalid_report_is_400_with_field_errors(client, payload, changes, fields):
    data = {**payload, **changes}
    for key, value in changes.items():
        if value is None:  # None in the table means: leave the field out
            del data[key]
    assert_json_error(post_json(client, REPORTS, data), 400, *fields)
    assert Report.objects.count() == 0


@pytest.mark.parametrize(
    "body",
    [
        "[]",
        '["category", "other"]',
        '"a string"',
        "42",
        "null",
        "{not json",
        b'{"description": "\xff\xfe"}',
        "[" * 60000,  # nesting deeper than the parser's recursion limit
        '{"description": "lone surrogate \\ud800 here"}',
        '{"\\udc00": "x"}',
    ],
    ids=[
        "array",
        "array2",
        "string",
        "number",
        "null",
        "syntax",
        "utf8",
        "deep",
        "surrogate",
        "surrogate-key",
    ],
)
def test_malformed_json_is_400(client, body):
    assert_json_error(post_json(client, REPORTS, body), 400)
    assert_json_error(post_json(client, STATUS, body), 400)
    assert Report.objects.count() == 0


def test_lone_surrogate_in_an_otherwise_valid_report_is_400(client, payload):
    body = json.dumps({**payload, "description": payload["description"] + "\ud83d"})
    assert "\\ud83d" in body
    assert_json_error(post_json(client, REPORTS, body), 400)
    assert Report.objects.count() == 0


def test_form_encoded_is_415(client, payload):
    response = client.post(REPORTS, payload)
    assert_json_error(response, 415)
    response = client.post(REPORTS, json.dumps(payload), content_type="text/plain")
    assert_json_error(response, 415)
    assert Report.objects.count() == 0


def test_json_with_charset_is_accepted(client, payload):
    response = client.post(
        REPORTS, json.dumps(payload), content_type="application/json; charset=utf-8"
    )
    assert response.status_code == 201


def test_body_over_limit_is_413(client, payload, settings):
    limit = settings.TIPLINE_API_MAX_BODY_BYTES
    body = json.dumps({**payload, "subject_address": "x" * limit})
    assert len(body.encode()) > limit
    assert_json_error(post_json(client, REPORTS, body), 413)
    assert_json_error(post_json(client, STATUS, body), 413)
    assert Report.objects.count() == 0


def test_body_just_under_limit_reaches_validation(client, payload, settings):
    limit = settings.TIPLINE_API_MAX_BODY_BYTES
    data = {**payload, "subject_address": ""}
    data["subject_address"] = "x" * (limit - len(json.dumps(data)))
    assert len(json.dumps(data).encode()) == limit
    assert_json_error(post_json(client, REPORTS, data), 400, "subject_address")  # max 300


@pytest.mark.parametrize("url", [REPORTS, STATUS])
@pytest.mark.parametrize("method", ["get", "put", "delete"])
def test_other_methods_are_405_json(client, url, method):
    response = getattr(client, method)(url)
    assert_json_error(response, 405)
    assert response["Allow"] == "POST"


def test_openapi_document(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    doc = response.json()
    assert doc["openapi"].startswith("3.")
    assert doc["info"]["title"] and doc["info"]["version"]
    assert set(doc["paths"]) == {REPORTS, STATUS}
    for path in doc["paths"].values():
        assert set(path) == {"post"}
        for ref in _refs(path):
            name = ref.removeprefix("#/components/schemas/")
            assert name in doc["components"]["schemas"], ref
    report_in = doc["components"]["schemas"]["ReportIn"]
    assert list(report_in["properties"]) == list(REPORT_FIELDS)
    assert report_in["additionalProperties"] is False
    assert report_in["required"] == ["category", "township", "description"]
    assert report_in["properties"]["category"]["enum"] == list(Category.values)
    assert report_in["properties"]["description"]["maxLength"] == 5000
    types = {name: p["type"] for name, p in report_in["properties"].items()}
    assert types.pop("news_by_sms") == "boolean"
    assert set(types.values()) == {"string"}


def _refs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def test_receipt_guessing_is_throttled(client, payload, settings):
    receipt = post_json(client, REPORTS, payload).json()["receipt"]
    wrong = receipt[:-1] + str((int(receipt[-1]) + 1) % 10)
    for _ in range(settings.TIPLINE_RATE_LIMITS["receipt_fail_per_client"][0] + 1):
        assert_json_error(post_json(client, STATUS, {"receipt": wrong}), 404)
    response = post_json(client, STATUS, {"receipt": receipt})
    body = assert_json_error(response, 429)
    retry_after = int(response["Retry-After"])
    assert 0 < retry_after <= settings.TIPLINE_RECEIPT_PACE_SECONDS + 1
    assert body["error"]


def test_invalid_reports_count_against_the_rate_limit(client, payload):
    for _ in range(5):
        assert_json_error(post_json(client, REPORTS, "{not json"), 400)
    for _ in range(5):
        assert_json_error(post_json(client, REPORTS, {**payload, "description": "短"}), 400)
    assert_json_error(post_json(client, REPORTS, payload), 429)
    assert Report.objects.count() == 0


def test_report_rate_limit(client, payload):
    for _ in range(10):
        assert post_json(client, REPORTS, payload).status_code == 201
    response = post_json(client, REPORTS, payload)
    assert_json_error(response, 429)
    assert int(response["Retry-After"]) > 0
    assert Report.objects.count() == 10


# --- the document is exactly as strict as the server ------------------------------------------


def test_openapi_names_the_real_rules(client, township, other_township):
    other_township.active = False
    other_township.save()
    doc = client.get("/api/v1/openapi.json").json()
    props = doc["components"]["schemas"]["ReportIn"]["properties"]
    assert props["township"]["enum"] == [township.code]  # only townships taking reports
    for name in ("occurred_on", "subject_name", "reporter_phone", "reporter_id_number"):
        assert props[name]["nullable"] is True, name
    for name in ("category", "township", "description"):
        assert "nullable" not in props[name], name
    assert props["occurred_on"]["format"] == "date"
    assert props["description"]["pattern"].startswith("^") and props["description"]["maxLength"]
    receipt = doc["components"]["schemas"]["ReceiptIn"]["properties"]["receipt"]
    assert receipt["pattern"] == "^(?:[0-9]{4}(?:[ -]?[0-9]{4}){3})$"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"description": "诊所\u202e收费五百元，晚上营业"}, "description"),
        ({"description": "          短          "}, "description"),
        ({"subject_name": "某某\u200b诊所"}, "subject_name"),
        ({"subject_address": "东街\n12号"}, "subject_address"),
        ({"occurred_on": ""}, "occurred_on"),
        ({"occurred_on": "2024/03/01"}, "occurred_on"),
        ({"occurred_on": "1899-12-31"}, "occurred_on"),
        ({"reporter_phone": "１３９１２３４５６７８"}, "reporter_phone"),
        ({"subject_phone": "(0571) 8888-1234"}, "subject_phone"),
        ({"reporter_id_number": "11010519491231002x"}, "reporter_id_number"),
    ],
)
def test_api_refuses_what_its_document_refuses(client, payload, changes, field):
    assert_json_error(post_json(client, REPORTS, {**payload, **changes}), 400, field)
    assert not Report.objects.exists()


@pytest.mark.parametrize(
    "receipt", ["1234_5678_9012_3456", "１２３４５６７８９０１２３４５６", " 1234567890123456"]
)
def test_api_receipt_must_be_in_the_documented_form(client, receipt):
    assert_json_error(post_json(client, STATUS, {"receipt": receipt}), 400, "receipt")


def test_the_document_says_a_news_text_needs_a_phone(client, township):
    """Held to its document (the API fuzz run checks both ways): news_by_sms true without
    reporter_phone is refused, and the schema says so."""
    schema = client.get("/api/v1/openapi.json").json()["components"]["schemas"]["ReportIn"]
    phone_branch = next(b for b in schema["anyOf"] if "required" in b)
    assert phone_branch["required"] == ["reporter_phone"]
    body = {
        "category": "sex_determination",
        "township": township.code,
        "description": "某诊所用B超鉴定胎儿性别，收费两千元。",
        "news_by_sms": True,
    }
    response = client.post("/api/v1/reports", body, content_type="application/json")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["news_by_sms"]
    assert not Report.objects.exists()
