"""The staff inbox as people see it: the unread count on every staff page, the list, marking
read, opening a notice, the link in an e-mail, and the channel preferences."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from notifications.models import Delivery, Event, Preferences

from .conftest import new_report, notices, run_outbox

pytestmark = pytest.mark.django_db


def unread_in_header(html: str) -> int:
    match = re.search(r'<span id="inbox-unread"[^>]*>(\d+)</span>', html)
    assert match, "no unread count in the header"
    return int(match.group(1))


def page(client, url) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


@pytest.fixture
def two_reports(cast, township):
    reports = [new_report(township), new_report(township)]
    run_outbox()
    return reports


STAFF_PAGES = [
    "/staff/",
    "/staff/reports/",
    "/staff/cases/",
    "/staff/cases/files/",
    "/staff/identity/",
    "/staff/inbox/",
    "/staff/inbox/preferences/",
]


def test_every_staff_page_shows_the_unread_count(login, cast, two_reports):
    client = login(cast["clerk"])
    for url in STAFF_PAGES:
        assert unread_in_header(page(client, url)) == 2, url

    other = login(cast["investigator"])  # nothing for the investigator
    assert unread_in_header(page(other, "/staff/")) == 0


def test_the_list_shows_each_notice_with_its_link(login, cast, two_reports):
    client = login(cast["clerk"])
    html = page(client, "/staff/inbox/")
    rows = re.findall(r'<tr class="(unread|read)" data-id="(\d+)">', html)
    assert [state for state, _ in rows] == ["unread", "unread"]
    notice = notices(recipient=cast["clerk"], channel="inbox").first()
    assert f'href="/staff/inbox/{notice.pk}/"' in html
    assert "中水镇有新举报待审核" in html


def test_opening_a_notice_leads_to_its_report_and_marks_it_read(login, cast, two_reports):
    client = login(cast["clerk"])
    notice = notices(recipient=cast["clerk"], channel="inbox").first()

    response = client.get(f"/staff/inbox/{notice.pk}/")

    assert response.status_code == 302
    assert response["Location"] == notice.link
    assert notice.link.startswith("/staff/reports/")
    assert client.get(notice.link).status_code == 200
    assert unread_in_header(page(client, "/staff/")) == 1


def test_mark_one_read_then_all(login, cast, two_reports):
    client = login(cast["clerk"])
    first, _second = notices(recipient=cast["clerk"], channel="inbox")

    assert client.post(f"/staff/inbox/{first.pk}/read/").status_code == 302
    assert unread_in_header(page(client, "/staff/")) == 1
    assert "unread" in page(client, "/staff/inbox/?show=unread")

    response = client.post("/staff/inbox/read-all/", follow=True)
    assert "已将1条通知标为已读" in response.content.decode()
    assert unread_in_header(response.content.decode()) == 0
    assert not notices(recipient=cast["clerk"], channel="inbox", read_at__isnull=True).exists()


def test_someone_elses_notice_is_not_found_and_stays_unread(login, cast, two_reports):
    notice = notices(recipient=cast["clerk"], channel="inbox").first()
    client = login(cast["investigator"])

    assert client.get(f"/staff/inbox/{notice.pk}/").status_code == 404
    assert client.post(f"/staff/inbox/{notice.pk}/read/").status_code == 404
    assert client.get(f"/staff/inbox/event/{notice.event_id}/").status_code == 404
    client.post("/staff/inbox/read-all/")

    notice.refresh_from_db()
    assert notice.read_at is None


def test_the_link_in_an_email_opens_the_recipients_notice(login, cast, two_reports, mailoutbox):
    event = Event.objects.filter(kind="report.received").first()
    link = f"https://jubao.example.gov.cn/staff/inbox/event/{event.pk}/"
    assert any(link in m.body for m in mailoutbox)
    client = login(cast["clerk"])

    response = client.get(f"/staff/inbox/event/{event.pk}/")

    assert response.status_code == 302
    assert response["Location"] == f"/staff/reports/{event.object_id}/"
    assert notices(recipient=cast["clerk"], event=event, channel="inbox").get().read_at


def test_signed_out_or_unverified_goes_to_sign_in(client, cast, two_reports):
    assert client.get("/staff/inbox/")["Location"].startswith("/staff/login/")
    client.force_login(cast["clerk"])  # password only, no second factor
    assert client.get("/staff/inbox/")["Location"].startswith("/staff/otp/")
    assert client.post("/staff/inbox/read-all/")["Location"].startswith("/staff/otp/")
    assert Delivery.objects.filter(read_at__isnull=False).count() == 0


def test_the_inbox_list_uses_a_fixed_number_of_queries(login, cast, township):
    client = login(cast["clerk"])
    client.get("/staff/inbox/")

    def measure():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/staff/inbox/").status_code == 200
        return len(ctx.captured_queries)

    new_report(township)
    run_outbox()
    few = measure()
    for _ in range(20):
        new_report(township)
    run_outbox()
    assert measure() <= few


# --- preferences ---------------------------------------------------------------------------------


def checked(html: str, name: str) -> bool:
    box = re.search(rf'<input type="checkbox" name="{re.escape(name)}"[^>]*>', html)
    assert box, f"no checkbox {name}"
    return " checked" in box.group(0)


def test_preferences_show_each_kind_with_its_defaults(login, cast):
    html = page(login(cast["clerk"]), "/staff/inbox/preferences/")
    assert "我所辖乡镇收到新举报" in html
    assert checked(html, "report.received:email")
    assert not checked(html, "report.received:sms")
    assert not checked(html, "deadline.soon:email")  # inbox only by default
    assert checked(html, "deadline.overdue:email")
    assert "举报人有新消息" not in html  # reporters' kinds are not staff choices


def test_choosing_texts_instead_of_email(login, cast, township, texts, mailoutbox):
    client = login(cast["clerk"])
    response = client.post(
        "/staff/inbox/preferences/",
        {"report.received:sms": "on", "deadline.today:email": "on", "mobile": "137 0000 0000"},
    )
    assert response.status_code == 302
    prefs = Preferences.objects.get(user=cast["clerk"])
    assert prefs.mobile == "13700000000"
    assert prefs.channels["report.received"] == ["sms"]
    assert prefs.channels["deadline.today"] == ["email"]
    assert prefs.channels["deadline.overdue"] == []

    new_report(township)
    run_outbox()
    assert [phone for phone, _ in texts] == ["13700000000"]
    assert mailoutbox == []
    assert notices(recipient=cast["clerk"], channel="inbox").count() == 1  # always


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"report.received:sms": "on"}, "接收短信需填写手机号码"),
        ({"mobile": "12345"}, "11"),
    ],
)
def test_bad_preferences_are_refused_and_change_nothing(login, cast, data, error):
    client = login(cast["clerk"])
    response = client.post("/staff/inbox/preferences/", data)
    assert response.status_code == 200
    assert error in response.content.decode()
    assert not Preferences.objects.exists()
