"""Staff pages as a county office worker meets them: the triage card's three choices, clerks
asking the reporter, tips entered with staff wording and the time they arrived, identity pages
that name the case, a 403 that says what it means, each role's own work on the home page, lists
that work on a phone."""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from casework import identity, services
from casework.models import AuditEntry
from tipline import receipts
from tipline.models import Report, ReportMessage
from tipline.services import ReportInput, create_report

from .conftest import RECEIPTS, new_report
from .test_workflow import file_docs

pytestmark = pytest.mark.django_db


def section(page: str, element_id: str) -> str:
    start = page.index(f'id="{element_id}"')
    return page[start : page.index("</section>", start)]


def local_input(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


# --- the triage card ----------------------------------------------------------------------------


def test_the_triage_card_offers_three_separate_choices(login, cast, township, report):
    existing = services.open_case(new_report(township).pk, cast["clerk"])
    page = login(cast["clerk"]).get(f"/staff/reports/{report.pk}/").content.decode()
    triage = section(page, "triage")
    starts = [triage.index(f'id="choice-{c}"') for c in ("open", "link", "reject")]
    assert starts == sorted(starts)
    blocks = [triage[a:b] for a, b in zip(starts, [*starts[1:], len(triage)], strict=True)]
    assert "/open-case/" in blocks[0] and "/link/" not in blocks[0]
    assert "/link/" in blocks[1] and "/reject/" not in blocks[1]
    assert "/reject/" in blocks[2] and "/open-case/" not in blocks[2]

    # The reason for not accepting starts unselected.
    reason = blocks[2][blocks[2].index('name="reason"') :].split("</select>")[0]
    assert re.search(r'<option value="" selected>请选择理由</option>', reason)

    # The link list names each case: number, summary, state, date opened.
    link = blocks[1][blocks[1].index('name="case"') :].split("</select>")[0]
    opened = timezone.localdate(existing.accepted_at).isoformat()
    assert f"{existing.number} · 某诊所鉴定胎儿性别 · 受理 · {opened}" in link


def test_a_reject_without_a_reason_changes_nothing(login, cast, report):
    client = login(cast["clerk"])
    before = AuditEntry.objects.count()
    response = client.post(f"/staff/reports/{report.pk}/reject/", {"reason": "", "note": "x"})
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.status == Report.Status.RECEIVED
    assert AuditEntry.objects.count() == before


def test_suggested_cases_come_first_in_the_link_choice(login, cast, township):
    phone = "13912345678"
    earlier = new_report(township, subject_name="李记诊所", subject_phone=phone)
    suggested = services.open_case(earlier.pk, cast["clerk"])
    other = services.open_case(new_report(township).pk, cast["clerk"])
    again = new_report(township, subject_name="李记诊所", subject_phone=phone)
    page = login(cast["clerk"]).get(f"/staff/reports/{again.pk}/").content.decode()
    link = section(page, "triage").split('id="choice-link"')[1].split('id="choice-reject"')[0]
    assert 'id="repeat-suggestions"' in link  # the suggestions are part of this choice
    assert f'data-case="{suggested.number}"' in link
    choices = link[link.index('name="case"') :].split("</select>")[0]
    groups = re.findall(r'<optgroup label="([^"]+)">(.*?)</optgroup>', choices, re.S)
    assert [label for label, _ in groups] == ["系统建议", "其他在办案件"]
    assert suggested.number in groups[0][1] and other.number not in groups[0][1]
    assert other.number in groups[1][1]


def test_a_clerk_asks_the_reporter_before_accepting(login, cast, report, client):
    page = login(cast["clerk"]).get(f"/staff/reports/{report.pk}/").content.decode()
    assert f'action="/staff/reports/{report.pk}/message/"' in page
    staff = login(cast["clerk"])
    response = staff.post(
        f"/staff/reports/{report.pk}/message/", {"body": "请问诊所的具体门牌号？"}
    )
    assert response.status_code == 302
    message = ReportMessage.objects.get(report=report)
    assert (message.author, message.body) == ("staff", "请问诊所的具体门牌号？")
    entry = AuditEntry.objects.get(action="report.message_sent")
    assert (entry.actor, entry.object_id) == (cast["clerk"], str(report.pk))
    report.refresh_from_db()
    assert report.status == Report.Status.RECEIVED  # asked, not yet decided
    # The reporter reads it with the receipt.
    status = client.post("/receipt/", {"receipt": RECEIPTS[report.pk]}).content.decode()
    assert "请问诊所的具体门牌号？" in status


def test_roles_that_do_not_triage_or_investigate_cannot_message(login, cast, report):
    for role in ("custodian", "auditor", "finance"):
        response = login(cast[role]).post(f"/staff/reports/{report.pk}/message/", {"body": "x"})
        assert response.status_code == 403
    assert not ReportMessage.objects.filter(report=report).exists()


# --- tips entered by staff ----------------------------------------------------------------------


def test_a_letter_is_entered_with_staff_wording_when_it_arrived_and_its_number(
    login, cast, township
):
    client = login(cast["clerk"])
    form = client.get("/staff/reports/new/").content.decode()
    assert "举报人姓名" in form and "您的姓名" not in form
    assert 'name="received_at"' in form and 'name="channel_reference"' in form
    token = re.search(r'name="submission" value="([^"]+)"', form).group(1)

    arrived = timezone.now() - timedelta(days=3)
    data = {
        "channel": "letter",
        "received_at": local_input(arrived),
        "channel_reference": "来信第2026-031号",
        "category": "sex_determination",
        "township": township.code,
        "description": "来信反映：镇东诊所用B超鉴定胎儿性别。",
        "submission": token,
    }
    response = client.post("/staff/reports/new/", data)
    assert response.status_code == 200
    report = Report.objects.get()
    assert local_input(report.received_at) == local_input(arrived)
    assert report.channel_reference == "来信第2026-031号"
    # The acceptance deadline counts from the day the letter arrived, not the day it was typed.
    from org import deadlines

    assert report.acceptance_due == deadlines.due("acceptance", timezone.localdate(arrived))
    entry = AuditEntry.objects.get(action="report.registered")
    assert entry.data["reference"] == "来信第2026-031号"
    detail = client.get(f"/staff/reports/{report.pk}/").content.decode()
    assert "来信第2026-031号" in detail

    # The same form sent again registers nothing.
    again = client.post("/staff/reports/new/", data)
    assert again.status_code == 409
    assert Report.objects.count() == 1


def test_a_tip_cannot_arrive_in_the_future(login, cast, township):
    response = login(cast["clerk"]).post(
        "/staff/reports/new/",
        {
            "channel": "phone",
            "received_at": local_input(timezone.now() + timedelta(days=1)),
            "category": "sex_determination",
            "township": township.code,
            "description": "来电反映：镇东诊所用B超鉴定胎儿性别。",
        },
    )
    assert response.status_code == 400
    assert "该时间晚于现在。" in response.content.decode()
    assert not Report.objects.exists()


def test_a_reporter_number_in_the_reference_is_refused(login, cast, township):
    """The reference is stored in clear: a caller's mobile typed there would escape the seal."""
    response = login(cast["clerk"]).post(
        "/staff/reports/new/",
        {
            "channel": "phone",
            "received_at": local_input(timezone.now()),
            "channel_reference": "来电 139-1234-5678",
            "category": "sex_determination",
            "township": township.code,
            "description": "来电反映：镇东诊所用B超鉴定胎儿性别。",
        },
    )
    assert response.status_code == 400
    assert "这看起来像电话号码或身份证号码" in response.content.decode()
    assert not Report.objects.exists()


# --- identity pages -----------------------------------------------------------------------------


def identified(township):
    report, receipt = create_report(
        ReportInput(
            category="sex_determination",
            township_id=township.id,
            description="某诊所鉴定胎儿性别",
            reporter_name="欧阳明月",
        )
    )
    RECEIPTS[report.pk] = receipt
    return report


def test_identity_pages_name_the_case_and_a_refusal_shows_the_note(login, cast, township):
    report = identified(township)
    case = services.open_case(report.pk, cast["clerk"])
    req = identity.request_access(report, cast["investigator"], "需要当面核实举报的具体细节")
    custodian = login(cast["custodian"])
    listed = custodian.get("/staff/identity/").content.decode()
    assert f"案件 {case.number}" in listed or f">{case.number}<" in listed
    assert report.reference in listed

    identity.decide(req.pk, cast["custodian"], False, "理由不充分，请先向举报人留言询问。")
    page = login(cast["investigator"]).get("/staff/identity/").content.decode()
    row = page.split('data-status="refused"')[1].split("</tr>")[0]
    assert "保管人意见： 理由不充分，请先向举报人留言询问。" in row
    detail = login(cast["investigator"]).get(f"/staff/reports/{report.pk}/").content.decode()
    assert "理由不充分，请先向举报人留言询问。" in detail

    approved = identity.request_access(report, cast["investigator"], "需要当面核实举报的具体细节")
    identity.decide(approved.pk, cast["custodian"], True)
    view = login(cast["investigator"]).get(f"/staff/identity/{approved.pk}/").content.decode()
    subject = view.split('id="identity-subject"')[1].split("</p>")[0]
    assert case.number in subject and report.reference in subject


# --- a 403 says what it means -------------------------------------------------------------------


def test_a_403_says_the_role_cannot_do_this(login, cast, report):
    response = login(cast["investigator"]).post(
        f"/staff/reports/{report.pk}/reject/", {"reason": "no_facts"}
    )
    assert response.status_code == 403
    page = response.content.decode()
    assert "您的角色无权" in page
    assert "过期" not in page


def test_an_expired_form_says_so(cast):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    response = client.post("/report/", {})
    assert response.status_code == 403
    assert "表单已过期" in response.content.decode()


# --- each role's own work on the home page -----------------------------------------------------


def work(client) -> dict:
    page = client.get("/staff/").content.decode()
    items = re.findall(r'<li id="(work-[\w-]+)"[^>]*><a [^>]*><span class="n">(\d+)</span>', page)
    return {key: int(n) for key, n in items}


def test_each_role_sees_its_own_work_with_counts(login, cast, township, units):
    waiting = new_report(township)  # a report to review
    report = identified(township)
    case = services.open_case(report.pk, cast["clerk"])  # a case to assign
    decided = services.open_case(new_report(township).pk, cast["clerk"])
    services.assign(
        decided.pk, cast["supervisor"], unit_id=units["zs_fp"].pk, investigator=cast["investigator"]
    )
    services.start_investigation(decided.pk, cast["investigator"])
    file_docs(decided, cast["investigator"], "penalty_decision")  # awaits a supervisor
    identity.request_access(report, cast["investigator"], "需要当面核实举报的具体细节")
    assert waiting and case

    clerk = work(login(cast["clerk"]))
    assert clerk["work-new-reports"] == 1 and clerk["work-unassigned"] == 1
    assert "work-identity" not in clerk and "work-awaiting-decision" not in clerk

    investigator = work(login(cast["investigator"]))
    assert investigator == {"work-my-cases": 1}

    supervisor = work(login(cast["supervisor"]))
    assert supervisor["work-awaiting-decision"] == 1
    assert supervisor["work-unassigned"] == 1

    assert work(login(cast["custodian"])) == {"work-identity": 1}
    assert "work-audit" in work(login(cast["auditor"]))


# --- layout -------------------------------------------------------------------------------------


def test_the_sign_in_fields_share_one_style():
    css = (Path(settings.BASE_DIR) / "static/tipline.css").read_text()
    rule = css[: css.index("{", css.index("input[type=text]"))]
    assert "input[type=password]" in rule  # the password field looks like the name field


@pytest.mark.parametrize(
    "url", ["/staff/reports/", "/staff/cases/", "/staff/cases/files/", "/staff/identity/"]
)
def test_lists_become_cards_on_a_phone(login, cast, case, url):
    page = login(cast["supervisor"]).get(url).content.decode()
    table = page[page.index("<table") : page.index("</table>")]
    assert 'class="plain cards"' in table
    cells = re.findall(r"<td( [^>]*)?>", table)
    labelled = [c for c in cells if c and "data-label" in c]
    assert cells and len(labelled) >= len(cells) - 2 * table.count("<tr")  # action cells aside


def test_the_receipt_given_to_a_walk_in_reporter_is_shown_once(login, cast, township):
    client = login(cast["clerk"])
    response = client.post(
        "/staff/reports/new/",
        {
            "channel": "walk_in",
            "received_at": local_input(timezone.now()),
            "category": "sex_determination",
            "township": township.code,
            "description": "来访反映：镇东诊所用B超鉴定胎儿性别。",
        },
    )
    shown = re.search(r'id="receipt-number">([\d ]+)<', response.content.decode()).group(1)
    report = Report.objects.get()
    assert report.receipt_hash == receipts.receipt_hash(shown.replace(" ", ""))


def test_the_home_page_counts_in_few_queries_whatever_the_roles(login, cast, township):
    """Each table's counts come from one aggregate: a user holding every role (the superuser)
    costs no more queries than a clerk, and never more than 10 with the sign-in's own."""
    new_report(township)
    services.open_case(new_report(township).pk, cast["clerk"])
    admin = get_user_model().objects.create_superuser("root", "", "pw-root-123456")
    for user in (cast["clerk"], cast["supervisor"], cast["custodian"], admin):
        client = login(user)
        client.get("/staff/")  # warm: the session's first read
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/staff/")
        assert response.status_code == 200 and "work-" in response.content.decode()
        if len(queries) > 10:
            print("\n".join(q["sql"][:200] for q in queries))
        assert len(queries) <= 10, user.username
