"""The public web pages: language, report form, receipts, follow-ups, throttles, CSRF."""

import io
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.utils.html import escape
from PIL import Image

from tipline import receipts
from tipline.models import Attachment, Report, ReporterIdentity, ReportMessage
from vault import storage

from .helpers import CAMERA_SERIAL, GPS_MARKER, VALID_ID, form_data, jpeg_with_gps, upload

pytestmark = pytest.mark.django_db

MO_FILE = Path(django_settings.BASE_DIR) / "locale/zh_Hans/LC_MESSAGES/django.mo"


def assert_no_cache(response):
    cache_control = response["Cache-Control"]
    assert "no-store" in cache_control and "no-cache" in cache_control


def assert_field_errors_shown(response, *fields):
    form = response.context["form"]
    html = response.content.decode()
    for field in fields:
        assert field in form.errors, (field, form.errors)
        for message in form.errors[field]:
            assert escape(message) in html


def assert_nothing_saved(attachment_files):
    assert Report.objects.count() == 0
    assert ReporterIdentity.objects.count() == 0
    assert Attachment.objects.count() == 0
    assert attachment_files() == []


TEXT = "县城东街一家诊所用B超给孕妇查胎儿性别，收费两千元。"


def submit(client, where, files=(), extra=None, **fields):
    """POST the report form; ``extra`` holds request headers (WSGI environ keys)."""
    data = form_data(where, **fields)
    if files:
        data["evidence"] = list(files)
    return client.post("/report/", data, **(extra or {}))


# --- language ---------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/", "/report/", "/receipt/", "/receipt/verify/"])
def test_pages_are_chinese_by_default(client, township, url):
    response = client.get(url, HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")  # browser language ignored
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="zh-hans">' in html
    assert response["Content-Language"] == "zh-hans"
    if MO_FILE.exists():
        assert "我要举报" in html or "查询举报" in html


def test_english_after_choosing_it(client, township):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/report/"})
    assert response.status_code == 302
    response = client.get("/report/")
    html = response.content.decode()
    assert '<html lang="en">' in html
    assert response["Content-Language"] == "en"
    assert "Make a report" in html


def test_unknown_language_cookie_falls_back_to_chinese(client, township):
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "fr"
    response = client.get("/")
    assert response["Content-Language"] == "zh-hans"


# --- filing a report ----------------------------------------------------------------------------


def test_report_with_gps_photo_shows_receipt_and_stores_clean_image(
    client, township, attachment_files
):
    response = submit(
        client,
        township,
        files=[upload()],
        reporter_name="张三",
        reporter_phone="+86 139 1234 5678",
        reporter_id_number=VALID_ID.lower(),
    )
    assert response.status_code == 200
    assert_no_cache(response)
    receipt = response.context["receipt"]
    assert receipts.normalise(receipt) == receipt
    assert receipts.grouped(receipt) in response.content.decode()

    report = Report.objects.get()
    assert report.receipt_hash == receipts.receipt_hash(receipt)
    assert report.channel == "web" and report.township == township
    assert report.subject_phone == "057188881234"
    assert report.identity.reveal() == {
        "name": "张三",
        "phone": "13912345678",
        "id_number": VALID_ID.upper(),
    }

    attachment = Attachment.objects.get()
    assert (attachment.report, attachment.message) == (report, None)
    assert (attachment.mime, attachment.kind) == ("image/jpeg", "image")
    content = storage.read(attachment)
    assert attachment.size == len(content)
    image = Image.open(io.BytesIO(content))
    assert image.format == "JPEG" and image.size == (32, 16)
    assert len(image.getexif()) == 0
    for marker in (b"Exif", GPS_MARKER.encode(), CAMERA_SERIAL.encode(), b"PlantedMaker"):
        assert marker not in content

    (stored,) = attachment_files()
    on_disk = stored.read_bytes()
    assert not on_disk.startswith(b"\xff\xd8\xff")  # encrypted, not a JPEG
    assert content not in on_disk


def test_anonymous_report_has_no_identity(client, township):
    response = submit(client, township)
    assert response.status_code == 200
    assert not ReporterIdentity.objects.exists()


@pytest.mark.parametrize(
    ("fields", "bad"),
    [
        ({"description": ""}, ["description"]),
        ({"description": "太短"}, ["description"]),
        ({"category": "gossip"}, ["category"]),
        ({"township": "atlantis"}, ["township"]),
        ({"occurred_on": "2999-01-01"}, ["occurred_on"]),
        ({"reporter_phone": "123456789012"}, ["reporter_phone"]),
        ({"reporter_id_number": VALID_ID[:17] + "0"}, ["reporter_id_number"]),
        ({"subject_phone": "call me"}, ["subject_phone"]),
        (
            {"reporter_phone": "12", "reporter_id_number": "x"},
            ["reporter_phone", "reporter_id_number"],
        ),
    ],
)
def test_form_errors_give_400_and_write_nothing(client, township, attachment_files, fields, bad):
    response = submit(client, township, files=[upload()], **fields)
    assert response.status_code == 400
    assert_field_errors_shown(response, *bad)
    assert_nothing_saved(attachment_files)


def test_inactive_township_is_refused(client, township, attachment_files):
    township.active = False
    township.save()
    response = submit(client, township)
    assert response.status_code == 400
    assert_field_errors_shown(response, "township")
    assert_nothing_saved(attachment_files)


@pytest.mark.parametrize(
    "bad_file",
    [
        b"MZ\x90\x00 this is a windows program",
        jpeg_with_gps()[:200],  # truncated JPEG
        b"",
    ],
    ids=["exe", "truncated-jpeg", "empty"],
)
def test_bad_attachment_among_good_ones_saves_nothing(client, township, attachment_files, bad_file):
    files = [upload(), upload(bad_file, name="evidence.jpg"), upload(jpeg_with_gps((0, 9, 9)))]
    response = submit(client, township, files=files, reporter_name="张三")
    assert response.status_code == 400
    if bad_file:
        assert_field_errors_shown(response, "evidence")
    assert_nothing_saved(attachment_files)


def test_too_many_attachments_refused(client, township, settings, attachment_files):
    settings.TIPLINE_ATTACHMENT_MAX_COUNT = 2
    response = submit(client, township, files=[upload(), upload(), upload()])
    assert response.status_code == 400
    assert_field_errors_shown(response, "evidence")
    assert_nothing_saved(attachment_files)


def test_failure_while_saving_leaves_no_rows_and_no_files(
    client, township, attachment_files, monkeypatch
):
    real_write = storage.write
    calls = []

    def failing_write(attachment, content):
        calls.append(attachment)
        if len(calls) == 2:
            raise OSError("disk full")
        return real_write(attachment, content)

    monkeypatch.setattr(storage, "write", failing_write)
    with pytest.raises(OSError, match="disk full"):
        submit(client, township, files=[upload(), upload()], reporter_name="张三")
    assert len(calls) == 2
    assert_nothing_saved(attachment_files)


def test_honeypot_filled_is_refused(client, township, attachment_files):
    response = submit(client, township, files=[upload()], homepage="http://spam.example")
    assert response.status_code == 400
    assert "homepage" in response.context["form"].errors
    assert_nothing_saved(attachment_files)


def test_report_rate_limit(client, township):
    # Ten different reports (the same text again from one browser is answered as a reload).
    for n in range(10):
        assert submit(client, township, description=f"第{n}份举报：{TEXT}").status_code == 200
    response = submit(client, township, description=f"第十一份举报：{TEXT}")
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 3601
    assert Report.objects.count() == 10
    # Another client is not affected.
    other = {"REMOTE_ADDR": "198.51.100.2"}
    assert submit(client, township, extra=other, description=f"另一处：{TEXT}").status_code == 200


def test_invalid_reports_count_against_the_rate_limit(client, township, attachment_files):
    for _ in range(10):
        assert submit(client, township, files=[upload()], description="太短").status_code == 400
    response = submit(client, township)  # valid, but the client has used up its attempts
    assert response.status_code == 429
    assert_nothing_saved(attachment_files)


# --- the receipt pages -------------------------------------------------------------------------


@pytest.fixture
def filed(client, township):
    response = submit(client, township)
    assert response.status_code == 200
    return Report.objects.get(), response.context["receipt"]


def wrong(receipt: str) -> str:
    return receipt[:-1] + str((int(receipt[-1]) + 1) % 10)


def test_receipt_lookup_shows_status(client, filed):
    report, receipt = filed
    response = client.post("/receipt/", {"receipt": receipts.grouped(receipt)})
    assert response.status_code == 200
    assert_no_cache(response)
    html = response.content.decode()
    assert 'id="report-status"' in html and "status-received" in html
    assert (
        "已收到，等待受理审查" in html
    )  # the one status, derived (casework.rewards.citizen_status)
    report.status = Report.Status.ACCEPTED
    report.save()
    response = client.post("/receipt/", {"receipt": receipt})
    assert "status-investigating" in response.content.decode()


def test_staff_message_visible_to_reporter_only_when_flagged(client, filed):
    report, receipt = filed
    ReportMessage.objects.create(report=report, author="staff", body="请补充B超单照片")
    ReportMessage.objects.create(
        report=report, author="staff", body="内部备注勿示", visible_to_reporter=False
    )
    html = client.post("/receipt/", {"receipt": receipt}).content.decode()
    assert "请补充B超单照片" in html
    assert "内部备注勿示" not in html


def test_wrong_receipt_is_404_with_form_error(client, filed):
    _report, receipt = filed
    response = client.post("/receipt/", {"receipt": wrong(receipt)})
    assert response.status_code == 404
    assert_field_errors_shown(response, "receipt")
    assert_no_cache(response)


@pytest.mark.parametrize("text", ["", "abc", "1234", "١٢٣٤٥٦٧٨٩٠١٢٣٤٥٦"])
def test_malformed_receipt_is_400(client, filed, text):
    response = client.post("/receipt/", {"receipt": text})
    assert response.status_code == 400
    assert_field_errors_shown(response, "receipt")


@pytest.fixture
def clock(monkeypatch):
    """Freeze the throttle's clock at the start of a window (and of a 30 s pace slot)."""
    from types import SimpleNamespace

    from tipline import throttle

    state = SimpleNamespace(now=float(900 * 2_000_000))
    monkeypatch.setattr(throttle, "time", SimpleNamespace(time=lambda: state.now))
    return state


def test_receipt_guessing_is_throttled(client, filed, settings, clock):
    _report, receipt = filed
    limit = settings.TIPLINE_RATE_LIMITS["receipt_fail_per_client"][0]
    pace = settings.TIPLINE_RECEIPT_PACE_SECONDS
    assert (limit, pace) == (10, 30)
    for _ in range(limit + 1):  # the limit, then the first paced try
        assert client.post("/receipt/", {"receipt": wrong(receipt)}).status_code == 404
    response = client.post("/receipt/", {"receipt": wrong(receipt)})
    assert response.status_code == 429
    retry_after = int(response["Retry-After"])
    assert 0 < retry_after <= pace + 1
    html = response.content.decode()
    assert 'role="alert"' in html
    assert str(retry_after) in html  # seconds, not "1 minute"
    # Within the pace, even the right receipt waits, on every receipt page.
    for url in ("/receipt/", "/receipt/download/", "/receipt/add/"):
        response = client.post(url, {"receipt": receipt, "body": "更多情况说明"})
        assert response.status_code == 429, url
    assert not ReportMessage.objects.exists()
    # Another client may still look up its receipt.
    other = client.post("/receipt/", {"receipt": receipt}, REMOTE_ADDR="198.51.100.9")
    assert other.status_code == 200
    # A neighbour behind the same address gets in after the pace, not after 15 minutes.
    clock.now += pace
    assert client.post("/receipt/", {"receipt": receipt}).status_code == 200


def test_wrong_receipts_on_followup_and_download_count_too(client, filed, clock):
    _report, receipt = filed
    for url in ["/receipt/add/", "/receipt/download/"] * 5 + ["/receipt/"]:
        data = {"receipt": wrong(receipt), "body": "更多情况说明"}
        assert client.post(url, data).status_code == 404
    assert client.post("/receipt/", {"receipt": receipt}).status_code == 429


def test_followup_adds_reporter_message_with_attachments(client, filed):
    report, receipt = filed
    response = client.post(
        "/receipt/add/",
        {
            "receipt": receipt,
            "body": "  又看到他们在周三收钱。  ",
            "evidence": [upload(), upload()],
        },
    )
    assert response.status_code == 200
    assert_no_cache(response)
    message = ReportMessage.objects.get()
    assert (message.report, message.author, message.body) == (
        report,
        ReportMessage.Author.REPORTER,
        "又看到他们在周三收钱。",
    )
    attachments = list(Attachment.objects.all())
    assert len(attachments) == 2
    assert all(a.message == message and a.report == report for a in attachments)
    for attachment in attachments:
        assert GPS_MARKER.encode() not in storage.read(attachment)
    assert "又看到他们在周三收钱。" in response.content.decode()


def test_followup_errors_write_nothing(client, filed, attachment_files):
    _report, receipt = filed
    response = client.post("/receipt/add/", {"receipt": receipt, "body": ""})
    assert response.status_code == 400
    response = client.post(
        "/receipt/add/",
        {"receipt": receipt, "body": "文件", "evidence": [upload(), upload(b"not a photo")]},
    )
    assert response.status_code == 400
    response = client.post("/receipt/add/", {"receipt": wrong(receipt), "body": "内容"})
    assert response.status_code == 404
    assert not ReportMessage.objects.exists()
    assert not Attachment.objects.exists()
    assert attachment_files() == []


def test_followup_failure_while_saving_leaves_no_files(
    client, filed, attachment_files, monkeypatch
):
    _report, receipt = filed
    real_write = storage.write
    calls = []

    def failing_write(attachment, content):
        calls.append(attachment)
        if len(calls) == 2:
            raise OSError("disk full")
        return real_write(attachment, content)

    monkeypatch.setattr(storage, "write", failing_write)
    data = {"receipt": receipt, "body": "两张照片", "evidence": [upload(), upload()]}
    with pytest.raises(OSError, match="disk full"):
        client.post("/receipt/add/", data)
    assert not ReportMessage.objects.exists()
    assert not Attachment.objects.exists()
    assert attachment_files() == []


def test_followups_are_limited_per_client(client, filed, township):
    _report, receipt = filed
    for i in range(10):
        response = client.post("/receipt/add/", {"receipt": receipt, "body": f"补充情况第{i}条"})
        assert response.status_code == 200
    # Counted before the receipt is even looked at: wrong receipts and the right one alike.
    response = client.post("/receipt/add/", {"receipt": receipt, "body": "再补充"})
    assert response.status_code == 429
    assert ReportMessage.objects.count() == 10


def test_followups_are_limited_per_receipt(filed):
    _report, receipt = filed
    for i in range(10):
        response = Client(REMOTE_ADDR=f"198.51.100.{i + 1}").post(
            "/receipt/add/", {"receipt": receipt, "body": f"补充情况第{i}条"}
        )
        assert response.status_code == 200
    response = Client(REMOTE_ADDR="203.0.113.50").post(
        "/receipt/add/", {"receipt": receipt, "body": "再补充"}
    )
    assert response.status_code == 429
    assert ReportMessage.objects.count() == 10


def test_evidence_per_report_is_capped(client, filed, settings, attachment_files):
    report, receipt = filed
    photo = jpeg_with_gps()
    first = client.post(
        "/receipt/add/", {"receipt": receipt, "body": "第一张照片", "evidence": [upload(photo)]}
    )
    assert first.status_code == 200
    held = Attachment.objects.get().size
    settings.TIPLINE_REPORT_EVIDENCE_MAX_BYTES = held + 100  # room for words, not a photo
    before = (ReportMessage.objects.count(), Attachment.objects.count(), attachment_files())
    response = client.post(
        "/receipt/add/", {"receipt": receipt, "body": "第二张照片", "evidence": [upload(photo)]}
    )
    assert response.status_code == 400
    errors = response.context["followup_form"].errors["evidence"]
    assert errors and escape(errors[0]) in response.content.decode()
    assert (ReportMessage.objects.count(), Attachment.objects.count(), attachment_files()) == before
    # Words still go through.
    response = client.post("/receipt/add/", {"receipt": receipt, "body": "照片请到办公室取"})
    assert response.status_code == 200
    assert report.messages.count() == 2


def test_download_returns_signed_receipt_file(client, filed):
    report, receipt = filed
    response = client.post("/receipt/download/", {"receipt": receipts.grouped(receipt)})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment;")
    assert_no_cache(response)
    pem = client.get("/receipt-key.pem").content.decode()
    verified = receipts.verify_receipt_file(response.content.decode(), pem)
    assert verified == (receipt, report.received_at)


def test_download_with_wrong_receipt_is_404(client, filed):
    _report, receipt = filed
    response = client.post("/receipt/download/", {"receipt": wrong(receipt)})
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_receipt_pages_only_accept_post_for_lookups(client, filed):
    """A receipt never travels in a URL: opening the POST addresses directly (a bookmark, the
    back button, a reload) leads to the receipt form, not a bare 405, and reveals nothing."""
    report, receipt = filed
    response = client.get("/receipt/", {"receipt": receipt})
    assert response.status_code == 200  # the empty form
    assert 'id="report-status"' not in response.content.decode()
    for url in ("/receipt/download/", "/receipt/add/", f"/receipt/add/?receipt={receipt}"):
        response = client.get(url)
        assert (response.status_code, response["Location"]) == (302, "/receipt/"), url
    assert report.messages.count() == 0


# --- CSRF and errors --------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/report/", "/receipt/", "/receipt/add/", "/receipt/download/"])
def test_csrf_failure_is_a_403_page(township, url, attachment_files):
    client = Client(enforce_csrf_checks=True)
    response = client.post(url, form_data(township, receipt="1" * 16, body="内容内容内容"))
    assert response.status_code == 403
    assert response["Content-Type"].startswith("text/html")
    assert "<h1>" in response.content.decode()
    assert_nothing_saved(attachment_files)


def test_csrf_cookie_lasts_only_as_long_as_the_browser_session(township):
    client = Client(enforce_csrf_checks=True)
    response = client.get("/report/")
    cookie = response.cookies[django_settings.CSRF_COOKIE_NAME]
    assert cookie.value
    assert cookie["max-age"] == "" and cookie["expires"] == ""


def test_form_with_csrf_token_is_accepted(township):
    client = Client(enforce_csrf_checks=True)
    client.get("/report/")
    token = client.cookies[django_settings.CSRF_COOKIE_NAME].value
    response = client.post("/report/", {**form_data(township), "csrfmiddlewaretoken": token})
    assert response.status_code == 200
    assert Report.objects.count() == 1


def test_unknown_page_is_a_404_page(client, db):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
