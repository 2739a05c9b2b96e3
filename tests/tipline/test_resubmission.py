"""Back after filing, then Send again: the browser loads a fresh form (a fresh one-time token),
so the token cannot tell. The same report from the same browser within the window is
answered as a reload is (already received), and no second report is filed."""

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.sessions.models import Session
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.utils import timezone

from tipline import resubmission
from tipline.models import Report

from .helpers import form_data

pytestmark = pytest.mark.django_db


def send(client, township, **fields):
    """Open the form (a fresh token, as Back gives) and send it."""
    form = client.get("/report/").content.decode()
    token = re.search(r'name="submission" value="([^"]+)"', form).group(1)
    return client.post("/report/", {**form_data(township, **fields), "submission": token})


def test_the_same_report_again_from_the_same_session_files_once(client, township):
    first = send(client, township)
    assert first.status_code == 200 and 'id="receipt-number"' in first.content.decode()
    filed = Report.objects.get()

    again = send(client, township)
    assert again.status_code == 409
    html = again.content.decode()
    assert "该举报已经收到" in html
    at = timezone.localtime(filed.received_at).strftime("%Y-%m-%d %H:%M")
    assert at in html  # when the first one was filed, in Beijing time
    assert 'id="receipt-number"' not in html
    assert Report.objects.count() == 1


def test_spacing_and_invisible_characters_do_not_make_it_another_report(client, township):
    text = "县城东街一家诊所用B超给孕妇查胎儿性别，收费两千元。"
    assert send(client, township, description=text).status_code == 200
    respaced = "  县城东街一家诊所用B超给孕妇查胎儿性别，\n收费两千元。\u200b "
    assert send(client, township, description=respaced).status_code == 409
    assert Report.objects.count() == 1


def test_another_session_files_its_own_report(client, township):
    assert send(client, township).status_code == 200
    assert send(Client(), township).status_code == 200
    assert Report.objects.count() == 2


def test_other_text_or_category_is_another_report(client, township):
    assert send(client, township).status_code == 200
    assert send(client, township, description="西街药店不凭处方卖打胎药。").status_code == 200
    assert send(client, township, category="illegal_practice").status_code == 200
    assert Report.objects.count() == 3


def kept(client) -> list[list[str]]:
    """What the browser's cookie holds, as the server reads it."""
    request = RequestFactory().get("/report/")
    request.COOKIES[resubmission.COOKIE] = client.cookies[resubmission.COOKIE].value
    return resubmission.recent(request)


def test_after_the_window_the_same_text_is_a_new_report(client, township):
    data = form_data(township)
    assert send(client, township).status_code == 200
    assert len(kept(client)) == 1
    # The same cookie, its one entry filed just over the window ago.
    earlier = timezone.now() - resubmission.WINDOW - timedelta(seconds=1)
    old = HttpResponse()
    resubmission.remember(
        RequestFactory().get("/"), old, data["category"], data["description"], earlier
    )
    client.cookies[resubmission.COOKIE] = old.cookies[resubmission.COOKIE].value
    assert send(client, township).status_code == 200
    assert Report.objects.count() == 2


def test_a_forged_cookie_is_ignored(client, township):
    assert send(client, township).status_code == 200
    client.cookies[resubmission.COOKIE] = json.dumps(kept(client))  # the entries, unsigned
    assert send(client, township).status_code == 200
    assert Report.objects.count() == 2


def test_the_browser_keeps_a_keyed_hash_for_ten_minutes_and_the_server_nothing(client, township):
    response = send(client, township)
    assert response.status_code == 200
    morsel = response.cookies[resubmission.COOKIE]
    assert morsel["max-age"] == 600 and morsel["httponly"] and morsel["path"] == "/report/"
    assert "诊所" not in morsel.value and "B超" not in morsel.value
    [[digest, _at]] = kept(client)
    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    assert Session.objects.count() == 0  # a public visitor never gets a session


def test_the_receipt_says_when_to_come_back(client, township, monkeypatch):
    # Sent Wednesday 2026-09-30 at 02:20 UTC, 10:20 in Beijing: 7 working days across National
    # Day are 10-08, 09, 10 (make-up Saturday), 12, 13, 14, 15.
    moment = datetime(2026, 9, 30, 2, 20, tzinfo=UTC)
    monkeypatch.setattr(timezone, "now", lambda: moment)
    html = send(client, township).content.decode()
    steps = html.split('id="next-steps"', 1)[1].split("</section>", 1)[0]
    assert "7个工作日内（2026-10-15前）决定是否受理" in steps
    assert "2026-09-30 10:20" in html and "02:20" not in html
