"""The same form posted twice (a reload of the receipt page, a double tap, a flaky network)
files once, and the receipt is still shown once, never stored in clear, never in a URL."""

import hashlib
import re
import threading

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client

from tipline import services, submissions
from tipline.models import Attachment, Report, ReportMessage, SubmissionToken

from .helpers import form_data, upload

pytestmark = pytest.mark.django_db

TOKEN_FIELD = re.compile(r'name="submission" value="([A-Za-z0-9_-]+)"')


def token_of(html: str) -> str:
    found = TOKEN_FIELD.search(html)
    assert found, "the form carries no one-time token"
    return found.group(1)


def receipt_in(html: str) -> str | None:
    found = re.search(r'id="receipt-number">([\d ]+)<', html)
    return found.group(1).replace(" ", "") if found else None


def test_reloading_the_receipt_page_files_one_report(client, township, attachment_files):
    form = client.get("/report/").content.decode()
    token = token_of(form)
    data = {**form_data(township), "submission": token}

    first = client.post("/report/", {**data, "evidence": [upload()]})
    assert first.status_code == 200
    receipt = receipt_in(first.content.decode())
    assert receipt and len(receipt) == 16
    files_after_first = attachment_files()
    assert len(files_after_first) == 1

    # The browser posts the same form again when the receipt page is reloaded.
    again = client.post("/report/", {**data, "evidence": [upload()]})
    assert again.status_code == 409
    html = again.content.decode()
    assert "该举报已经收到" in html
    assert "如果您没有保存回执号" in html  # what to do without the receipt
    assert receipt_in(html) is None and receipt not in html  # shown once only
    assert Report.objects.count() == 1
    assert Attachment.objects.count() == 1
    assert attachment_files() == files_after_first  # the second post's photo was not kept

    # Only a hash of the token is kept, with the time; the report row does not know it.
    spent = SubmissionToken.objects.get()
    assert spent.digest == hashlib.sha256(token.encode()).hexdigest()
    assert token not in spent.digest


def test_each_form_gets_its_own_token(client, township):
    first = token_of(client.get("/report/").content.decode())
    second = token_of(client.get("/report/").content.decode())
    assert first != second
    one = form_data(township, description="镇东头诊所夜里用B超鉴定胎儿性别。")
    other = form_data(township, description="西街药店不凭处方卖打胎药。")
    assert client.post("/report/", {**one, "submission": first}).status_code == 200
    assert client.post("/report/", {**other, "submission": second}).status_code == 200
    assert Report.objects.count() == 2


def test_a_form_sent_back_with_errors_keeps_its_token_and_files_once_corrected(client, township):
    token = token_of(client.get("/report/").content.decode())
    wrong = client.post(
        "/report/", {**form_data(township, description="太短"), "submission": token}
    )
    assert wrong.status_code == 400
    assert token_of(wrong.content.decode()) == token  # the same form, to correct and send
    assert not SubmissionToken.objects.exists()
    right = client.post("/report/", {**form_data(township), "submission": token})
    assert right.status_code == 200
    assert Report.objects.count() == 1


def test_a_spent_token_is_refused_by_the_service_itself(township, attachment_files):
    """Two posts that both passed the view's early check: the unique constraint decides."""
    token = submissions.new_token()
    data = services.ReportInput(
        category="sex_determination", township_id=township.id, description="某诊所鉴定胎儿性别"
    )
    services.create_report(data, submission=token)
    with pytest.raises(submissions.AlreadySubmitted) as refused:
        services.create_report(data, submission=token)
    assert refused.value.at == SubmissionToken.objects.get().used_at
    assert Report.objects.count() == 1
    assert len(attachment_files()) == 0


def test_a_follow_up_sent_twice_is_added_once(client, township, make_report):
    report, receipt = make_report()
    page = client.post("/receipt/", {"receipt": receipt}).content.decode()
    token = token_of(page)
    data = {"action": "add", "receipt": receipt, "body": "他们每周三营业。", "submission": token}
    first = client.post("/receipt/", data)
    assert first.status_code == 200
    assert "谢谢" in first.content.decode()
    again = client.post("/receipt/", data)
    assert again.status_code == 200
    assert 'id="already-added"' in again.content.decode()
    assert ReportMessage.objects.filter(report=report).count() == 1


@pytest.mark.skipif(
    "postgresql" not in settings.DATABASES["default"]["ENGINE"],
    reason="parallel transactions need PostgreSQL; SQLite serialises all writers",
)
@pytest.mark.django_db(transaction=True)
def test_a_double_tap_in_parallel_files_one_report(township):
    token = submissions.new_token()
    data = {**form_data(township), "submission": token}
    barrier = threading.Barrier(4)
    statuses = []

    def tap():
        try:
            barrier.wait(timeout=30)
            statuses.append(Client().post("/report/", data).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=tap) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(statuses) == [200, 409, 409, 409]
    assert Report.objects.count() == 1
