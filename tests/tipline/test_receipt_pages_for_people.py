"""The receipt pages as a citizen meets them: no dead ends, what happens next, a receipt file in
Chinese with local time that anyone can check by uploading it, a throttle that keeps what was
typed, a favicon, and every public page small."""

import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from tipline import receipts
from tipline.models import Attachment, Report, ReportMessage, SubmissionToken

from .helpers import form_data

pytestmark = pytest.mark.django_db


def status_page(client, receipt):
    response = client.post("/receipt/", {"receipt": receipt})
    assert response.status_code == 200
    return response.content.decode()


def next_steps(html: str) -> str:
    return html[html.index('id="next-steps"') : html.index("</section>", html.index("next-steps"))]


# --- after a follow-up the address bar shows a page that opens again ----------------------------


def test_the_follow_up_form_posts_to_the_receipt_page(client, make_report):
    report, receipt = make_report()
    html = status_page(client, receipt)
    form = html[html.index('id="followup-form"') - 200 : html.index('id="followup-form"')]
    assert 'action="/receipt/"' in form  # not the POST-only /receipt/add/
    token = re.search(r'name="submission" value="([^"]+)"', html).group(1)
    response = client.post(
        "/receipt/",
        {"action": "add", "receipt": receipt, "body": "后门进出。", "submission": token},
    )
    assert response.status_code == 200
    assert response.request["PATH_INFO"] == "/receipt/"
    assert "后门进出。" in response.content.decode()
    assert ReportMessage.objects.get(report=report).body == "后门进出。"


# --- what happens next ------------------------------------------------------------------------


def test_a_new_report_says_when_acceptance_is_decided(client, make_report, monkeypatch):
    # Received Wednesday 2026-09-30 10:00 Beijing time: 7 working days across National Day are
    # 10-08, 09, 10 (make-up Saturday), 12, 13, 14, 15.
    moment = datetime(2026, 9, 30, 2, 0, tzinfo=UTC)
    report, receipt = make_report()
    Report.objects.filter(pk=report.pk).update(
        received_at=moment, acceptance_due=date(2026, 10, 15)
    )
    text = next_steps(status_page(client, receipt))
    assert "7个工作日内（2026-10-15前）决定是否受理" in text


def test_closed_and_rejected_reports_offer_no_follow_up(client, make_report, attachment_files):
    for status, words in (
        (Report.Status.REJECTED, "该举报未予受理"),
        (Report.Status.CLOSED, "该举报已办理完毕"),
    ):
        report, receipt = make_report()
        Report.objects.filter(pk=report.pk).update(status=status)
        html = status_page(client, receipt)
        assert 'id="followup-form"' not in html
        assert words in html and "请重新举报" in html
        # A follow-up posted anyway (an old tab) is refused, and nothing is added.
        response = client.post(
            "/receipt/",
            {"action": "add", "receipt": receipt, "body": "补充一些情况。"},
        )
        assert response.status_code == 400
        assert words in response.content.decode()
        assert not ReportMessage.objects.filter(report=report).exists()
    assert attachment_files() == []


# --- the receipt file -------------------------------------------------------------------------


def test_the_receipt_file_is_in_chinese_with_beijing_time(client, make_report):
    report, receipt = make_report()
    Report.objects.filter(pk=report.pk).update(received_at=datetime(2026, 3, 1, 23, 5, tzinfo=UTC))
    response = client.post("/receipt/download/", {"receipt": receipt})
    text = response.content.decode()
    assert "# 有奖举报回执" in text
    assert f"# 回执号：{receipts.grouped(receipt)}" in text
    # 23:05 UTC is 07:05 the next morning in Beijing.
    assert "# 收到时间：2026-03-02 07:05:00（北京时间）" in text
    assert "received-at: 2026-03-02T07:05:00+08:00\n" in text
    assert "http://testserver/receipt/verify/" in text
    pem = client.get("/receipt-key.pem").content.decode()
    assert receipts.verify_receipt_file(text, pem) == (
        receipt,
        datetime(2026, 3, 1, 23, 5, tzinfo=UTC),
    )


def _downloaded(client, receipt) -> bytes:
    return client.post("/receipt/download/", {"receipt": receipt}).content


def test_a_person_checks_a_receipt_file_by_uploading_it(client, make_report, attachment_files):
    report, receipt = make_report()
    content = _downloaded(client, receipt)
    rows_before = {m: m.objects.count() for m in (Report, Attachment, SubmissionToken)}

    response = client.post(
        "/receipt/verify/",
        {"file": SimpleUploadedFile("tipline-receipt.txt", content, "text/plain")},
    )
    assert response.status_code == 200
    html = response.content.decode()
    at = timezone.localtime(report.received_at).strftime("%Y-%m-%d %H:%M:%S")
    assert f"真实有效：此回执文件由本站签发，对应的举报收到时间为{at}" in html
    assert receipt not in html and receipts.grouped(receipt) not in html
    assert "核验原理" in html and "BEGIN PUBLIC KEY" in html  # the explanation stays below

    # One digit changed: not genuine. Pasted text is checked the same way.
    forged = content.decode().replace(
        f"receipt: {receipts.grouped(receipt)}",
        f"receipt: {receipts.grouped(receipt[:-1] + str((int(receipt[-1]) + 1) % 10))}",
    )
    response = client.post("/receipt/verify/", {"pasted": forged})
    assert response.status_code == 400
    assert "无法核验" in response.content.decode()
    response = client.post("/receipt/verify/", {"pasted": content.decode()})
    assert response.status_code == 200 and "真实有效" in response.content.decode()

    # Checked and forgotten: nothing was stored.
    assert {m: m.objects.count() for m in rows_before} == rows_before
    assert attachment_files() == []


def test_the_verify_form_explains_a_wrong_upload(client):
    response = client.post("/receipt/verify/", {})
    assert response.status_code == 400
    assert "请选择回执文件，或粘贴其文字内容。" in response.content.decode()
    picture = SimpleUploadedFile("x.jpg", bytes(range(256)) * 4, "image/jpeg")
    response = client.post("/receipt/verify/", {"file": picture})
    assert response.status_code == 400
    assert "这不是回执文件" in response.content.decode()


# --- a throttled report keeps what was typed ----------------------------------------------------


def test_a_throttled_report_form_keeps_what_was_typed(client, township, settings):
    settings.TIPLINE_RATE_LIMITS = {**settings.TIPLINE_RATE_LIMITS, "report_per_client": (1, 3600)}
    assert client.post("/report/", form_data(township)).status_code == 200
    data = form_data(township, description="第二次举报：镇西诊所夜间做B超鉴定胎儿性别。")
    response = client.post("/report/", data)
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    html = response.content.decode()
    assert "您的网络在短时间内尝试次数过多" in html
    assert "您的举报尚未提交" in html
    assert "第二次举报：镇西诊所夜间做B超鉴定胎儿性别。" in html  # still in the form
    assert 'value="zhongshui" selected' in html
    assert Report.objects.count() == 1


# --- small things -------------------------------------------------------------------------------


def test_a_favicon_is_served_and_linked(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/vnd.microsoft.icon"
    assert b"".join(response) == Path(finders.find("favicon.ico")).read_bytes()
    assert 'rel="icon"' in client.get("/").content.decode()


@pytest.mark.parametrize("url", ["/", "/report/", "/receipt/", "/receipt/verify/"])
def test_public_pages_with_their_assets_stay_under_20_kb(client, township, url):
    html = client.get(url).content
    assets = re.findall(rb'(?:href|src)="(/static/[^"]+)"', html)
    assert assets, "the page links its style sheet"
    size = len(html) + sum(
        Path(finders.find(a[len(b"/static/") :].decode())).read_bytes().__len__() for a in assets
    )
    size += len(Path(finders.find("favicon.ico")).read_bytes())
    assert size <= 20 * 1024, f"{url}: {size} bytes"
