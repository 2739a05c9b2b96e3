"""Each role reads the least it needs (the staff side of the "who may read what" rules).

Finance pays rewards from the rewards pages and the administrator configures the organisation:
neither opens a report, a case or any of their text, and a refused request changes nothing.
The rewards pages give finance what paying needs (case number, township, amount, who approved
and when, the payee) and no word of the report. Every link a person sees is one they may
follow; people are named by their full names; times are local; small dead ends are gone
(archiving asks for confirmation, the payment date input is ISO, the receipt-handed mark is
only for tips staff entered, inbox notices are settled once their task is done).
"""

from datetime import UTC, datetime

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from casework import services
from casework.errors import ServiceError
from casework.models import AuditEntry, Case, DocumentType, State
from casework.rewards import services as rewards
from casework.rewards.models import ReportEligibility, Reward
from notifications import delivery
from notifications.models import Delivery, Event
from org import roles
from org.roles import sync_groups
from tipline import services as intake
from tipline.attachments import sanitize
from tipline.models import Category, Channel, Report

from ..rewards.helpers import approve, file_doc, investigate, penalize, png_bytes, step_up
from .conftest import RECEIPTS, new_report
from .test_access_matrix import everything

pytestmark = pytest.mark.django_db

# What the reporter wrote: nobody outside the case's workers may read it.
SECRET = "蓝色小楼后门每周三晚上做B超鉴定胎儿性别"


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.TIPLINE_RECEIPT_ARGON2 = {"memory_cost": 8, "iterations": 1, "lanes": 1}


def named(user, last, first):
    user.last_name, user.first_name = last, first
    user.save(update_fields=["last_name", "first_name"])
    return user


@pytest.fixture
def claimed(township, cast, units):
    """A case at 查处 whose reward was approved by 郑海 and claimed by bank transfer; its one
    report carries the secret text and a photo; the case file holds documents."""
    named(cast["leader"], "郑", "海")
    named(cast["supervisor"], "刘", "建国")
    named(cast["finance"], "杨", "帆")
    named(cast["investigator"], "张", "伟")
    photo = sanitize(png_bytes(), max_bytes=1024 * 1024)
    report, receipt = intake.create_report(
        intake.ReportInput(
            category=Category.SEX_DETERMINATION, township_id=township.id, description=SECRET
        ),
        files=[photo],
    )
    RECEIPTS[report.pk] = receipt
    case = penalize(investigate(report, cast, units), cast)
    reward = Reward.objects.get(case=case)
    approve(reward, cast["leader"])
    rewards.claim(
        reward.pk,
        receipt,
        method="bank",
        payee_name="李举报",
        bank_name="农业银行中水支行",
        account_number="6228480402564890018",
    )
    return Reward.objects.select_related("case", "report").get(pk=reward.pk)


def urls_of_report_and_case(reward):
    report, case = reward.report, reward.case
    attachment = report.attachments.get()
    document = case.documents.first()
    return [
        "/staff/reports/",
        f"/staff/reports/{report.pk}/",
        f"/staff/reports/{report.pk}/attachments/{attachment.pk}/",
        "/staff/cases/",
        "/staff/cases/?state=all",
        "/staff/cases/files/",
        f"/staff/cases/{case.pk}/",
        f"/staff/cases/{case.pk}/index/",
        f"/staff/cases/{case.pk}/documents/{document.pk}/",
        "/staff/identity/",
    ]


@pytest.mark.parametrize("role", ["finance", "administrator"])
def test_finance_and_the_administrator_open_no_report_and_no_case(login, cast, claimed, role):
    client = login(cast[role])
    before = everything()
    for url in urls_of_report_and_case(claimed):
        response = client.get(url)
        assert response.status_code == 403, (role, url, response.status_code)
        assert SECRET not in response.content.decode(), (role, url)
    # Nothing was written: no "document viewed" or "attachment viewed" entry, no row.
    assert everything() == before
    # A case or report that does not exist answers the same: a 403 confirms nothing.
    assert client.get("/staff/cases/987654/").status_code == 403
    assert client.get("/staff/reports/00000000-0000-0000-0000-000000000000/").status_code == 403
    # Positive control: the investigator of the case opens every one of them.
    client = login(cast["investigator"])
    for url in urls_of_report_and_case(claimed):
        assert client.get(url).status_code == 200, url
    assert SECRET in client.get(f"/staff/reports/{claimed.report_id}/").content.decode()


def test_the_groups_hold_no_reading_of_reports_for_finance_and_the_administrator(db):
    sync_groups()
    for role in (roles.FINANCE, roles.ADMINISTRATOR):
        codenames = set(Group.objects.get(name=role).permissions.values_list("codename", flat=1))
        assert not {"view_report", "view_case"} & codenames, role
    for role in (roles.CLERK, roles.INVESTIGATOR, roles.SUPERVISOR, roles.AUDITOR):
        codenames = set(Group.objects.get(name=role).permissions.values_list("codename", flat=1))
        assert {"view_report", "view_case"} <= codenames, role


def test_sync_groups_takes_away_a_permission_no_longer_listed(db):
    """An existing database whose finance group still reads reports loses that on migrate."""
    sync_groups()
    finance = Group.objects.get(name=roles.FINANCE)
    finance.permissions.add(
        Permission.objects.get(content_type__app_label="tipline", codename="view_report")
    )
    sync_groups()
    assert not finance.permissions.filter(codename="view_report").exists()
    assert finance.permissions.filter(codename="pay_reward").exists()


def test_finance_rewards_pages_show_what_paying_needs_and_no_report_text(
    login, cast, claimed, township
):
    client = login(cast["finance"])
    case = claimed.case
    listing = client.get("/staff/rewards/").content.decode()
    detail = client.get(f"/staff/rewards/{claimed.pk}/").content.decode()
    step_up(cast["finance"], claimed)
    payment = client.get(f"/staff/rewards/{claimed.pk}/payment/").content.decode()
    ledger = client.get("/staff/rewards/ledger/").content.decode()
    assert case.title == SECRET  # a case is titled by its first report's text
    for page in (listing, detail, payment, ledger):
        assert SECRET not in page and SECRET[:8] not in page
    # What paying needs: the case number, township, amount, who approved and when, the payee.
    for page in (detail, payment):
        assert case.number in page and "中水镇" in page and "3000.00" in page
        assert "郑海" in page  # the approver, by name
    assert "李举报" in payment and "6228480402564890018" in payment
    # No link to a page finance may not open.
    for page in (listing, detail, payment, ledger):
        assert f"/staff/cases/{case.pk}/" not in page
        assert "/staff/reports/" not in page and 'href="/staff/cases/' not in page


def test_finance_home_shows_its_own_work_and_no_case_links(login, cast, claimed):
    html = login(cast["finance"]).get("/staff/").content.decode()
    card = html.split('id="rewards-claimed"', 1)[1].split("</a>", 1)[0]
    assert "1 项已申领奖励待支付" in card
    assert 'href="/staff/rewards/?state=claimed" id="rewards-claimed"' in html
    for link in ("/staff/cases/", "/staff/reports/", "/staff/identity/"):
        assert f'href="{link}' not in html, link


def test_administrator_home_works_and_links_only_what_he_may_open(login, cast, claimed):
    html = login(cast["administrator"]).get("/staff/").content.decode()
    for link in ("/staff/cases/", "/staff/reports/", "/staff/identity/"):
        assert f'href="{link}' not in html, link
    assert 'href="/staff/assessment/' in html


def test_the_next_step_card_of_finance_leads_to_the_payment(login, cast, claimed):
    client = login(cast["finance"])
    html = client.get(f"/staff/rewards/{claimed.pk}/").content.decode()
    card = html.split('id="reward-actions"', 1)[1].split("</section>", 1)[0]
    assert f'href="/staff/rewards/{claimed.pk}/payment/"' in card
    # Once paid there is nothing left for finance: no card at all, not an empty one.
    step_up(cast["finance"], claimed)
    rewards.pay(claimed.pk, cast["finance"], voucher_number="PZ-1", paid_on=timezone.localdate())
    html = client.get(f"/staff/rewards/{claimed.pk}/").content.decode()
    assert 'id="reward-actions"' not in html


def test_the_investigator_sees_the_reward_without_a_link_he_may_not_follow(login, cast, claimed):
    client = login(cast["investigator"])
    html = client.get(f"/staff/cases/{claimed.case_id}/").content.decode()
    assert f"/staff/rewards/{claimed.pk}/" not in html
    assert 'id="reward-summary"' in html and "3000.00" in html
    assert client.get(f"/staff/rewards/{claimed.pk}/").status_code == 403
    # The supervisor may open it, and gets the link.
    html = login(cast["supervisor"]).get(f"/staff/cases/{claimed.case_id}/").content.decode()
    assert f'href="/staff/rewards/{claimed.pk}/"' in html


def test_assessment_pages_link_no_case_for_finance(login, cast, claimed, township):
    html = login(cast["finance"]).get("/staff/assessment/townships/zhongshui/").content.decode()
    assert 'href="/staff/cases/' not in html


# --- people by name ----------------------------------------------------------------------------


def test_the_assignment_list_offers_people_by_name(login, cast, case):
    named(cast["investigator"], "张", "伟")
    html = login(cast["supervisor"]).get(f"/staff/cases/{case.pk}/").content.decode()
    select = html.split('name="investigator"', 1)[1].split("</select>", 1)[0]
    assert f'value="{cast["investigator"].pk}">张伟</option>' in select
    # Without a full name, the user name.
    assert f'value="{cast["supervisor"].pk}">supervisor</option>' in select


def test_reward_pages_name_proposer_and_approver(login, cast, claimed):
    html = login(cast["supervisor"]).get(f"/staff/rewards/{claimed.pk}/").content.decode()
    proposed = html.split('id="reward-proposed">', 1)[1].split("</dd>", 1)[0]
    approved = html.split('id="reward-approved">', 1)[1].split("</dd>", 1)[0]
    assert "刘建国" in proposed and "supervisor" not in proposed
    assert "郑海" in approved and "leader" not in approved


# --- local times -------------------------------------------------------------------------------


def test_the_first_report_is_shown_in_local_time(login, cast, township, units):
    """Received at 02:20 UTC on 7 December is 10:20 in 中水镇 (Asia/Shanghai, UTC+8)."""
    report = new_report(township)
    case = investigate(report, cast, units)
    Report.objects.filter(pk=report.pk).update(
        received_at=datetime(2026, 12, 7, 2, 20, tzinfo=UTC),
        accepted_at=datetime(2026, 12, 7, 3, 5, tzinfo=UTC),
    )
    reward = Reward.objects.get(case=penalize(case, cast))
    assert reward.selection[0]["received_at"].startswith("2026-12-07T02:20")  # stored as UTC
    html = login(cast["supervisor"]).get(f"/staff/rewards/{reward.pk}/").content.decode()
    selection = html.split('id="selection"', 1)[1].split("</section>", 1)[0]
    assert "2026-12-07 10:20" in selection and "2026-12-07 11:05" in selection
    assert "02:20" not in selection and "T02" not in selection


# --- dead ends ---------------------------------------------------------------------------------


def test_the_payment_date_is_iso_in_its_date_input(login, cast, claimed):
    client = login(cast["finance"])
    step_up(cast["finance"], claimed)
    html = client.get(f"/staff/rewards/{claimed.pk}/payment/").content.decode()
    field = html.split('name="paid_on"', 1)[1].split(">", 1)[0]
    # Today, as the date input takes it (YYYY-MM-DD); "2026/12/07" would be dropped.
    assert f'value="{timezone.localdate().isoformat()}"' in field


@pytest.fixture
def ready_to_archive(township, cast, units):
    """A case at 查处 with a complete file and its reward cancelled: ready to archive."""
    case = investigate(new_report(township), cast, units)
    services.generate_registration_form(case.pk, cast["investigator"])
    case = penalize(case, cast)
    for code in (
        "acceptance_approval",
        "interview_record",
        "inspection_record",
        "evidence",
        "service_receipt",
        "reward_approval",
        "closing_report",
    ):
        file_doc(case, cast["investigator"], code)
    rewards.cancel(Reward.objects.get(case=case).pk, cast["supervisor"], "举报人书面放弃奖励")
    return Case.objects.get(pk=case.pk)


def test_archiving_asks_for_confirmation_first(login, cast, ready_to_archive):
    case = ready_to_archive
    client = login(cast["supervisor"])
    page = client.get(f"/staff/cases/{case.pk}/").content.decode()
    assert "结案归档…" in page or "Close and archive…" in page
    before = everything()
    response = client.post(
        f"/staff/cases/{case.pk}/transition/archive/", {"expected_state": "penalized"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="confirm-form"' in html and 'name="confirmed" value="on"' in html
    assert everything() == before  # the question changed nothing
    assert Case.objects.get(pk=case.pk).state == State.PENALIZED
    response = client.post(
        f"/staff/cases/{case.pk}/transition/archive/",
        {"expected_state": "penalized", "confirmed": "on"},
    )
    assert response.status_code == 302
    assert Case.objects.get(pk=case.pk).state == State.ARCHIVED


def test_the_receipt_handed_mark_is_only_for_tips_staff_entered(login, cast, township):
    web = new_report(township)
    phoned, _receipt = services.register_staff_tip(
        cast["clerk"],
        intake.ReportInput(
            category="sex_determination", township_id=township.id, description="电话举报"
        ),
        Channel.PHONE,
    )
    client = login(cast["clerk"])
    assert 'name="receipt_issued"' not in client.get(f"/staff/reports/{web.pk}/").content.decode()
    assert 'name="receipt_issued"' in client.get(f"/staff/reports/{phoned.pk}/").content.decode()

    # The service refuses it for an online report, and a crafted post changes nothing.
    with pytest.raises(ServiceError):
        rewards.mark_report(web.pk, cast["clerk"], receipt_issued=True)
    audit = AuditEntry.objects.count()
    handed = {"only": "receipt_issued", "receipt_issued": "on"}
    response = client.post(f"/staff/rewards/reports/{web.pk}/marks/", handed)
    assert response.status_code == 302
    assert not ReportEligibility.objects.filter(report=web).exists()
    assert AuditEntry.objects.count() == audit
    # The other marks of an online report are saved as before.
    client.post(f"/staff/rewards/reports/{web.pk}/marks/", {"reporter_is_involved": "on"})
    marks = ReportEligibility.objects.get(report=web)
    assert (marks.reporter_is_involved, marks.receipt_issued) == (True, False)
    # For the phoned tip the mark is set.
    client.post(f"/staff/rewards/reports/{phoned.pk}/marks/", handed)
    assert ReportEligibility.objects.get(report=phoned).receipt_issued is True


# --- inbox notices settled once their task is done --------------------------------------------


def notice(user, kind):
    return Delivery.objects.get(recipient=user, channel="inbox", event__kind=kind)


def test_a_new_report_notice_is_settled_once_the_report_is_triaged(login, cast, township):
    report = new_report(township)
    delivery.sweep()
    assert notice(cast["clerk"], "report.received").read_at is None
    services.open_case(report.pk, cast["clerk"])
    # The acceptance is news about the report: processing it settles the notice at once.
    news = Event.objects.filter(kind="reporter.news", object_id=str(report.pk)).get()
    delivery.process(news.pk)
    settled = notice(cast["clerk"], "report.received")
    assert settled.read_at is not None and settled.done_at is not None
    html = login(cast["clerk"]).get("/staff/inbox/").content.decode()
    row = html.split(f'data-id="{settled.pk}"', 1)[1].split("</tr>", 1)[0]
    assert "done-tag" in row


def test_a_reward_proposal_notice_is_settled_once_approved_or_cancelled(township, cast, units):
    reward = Reward.objects.get(case=penalize(investigate(new_report(township), cast, units), cast))
    other = Reward.objects.get(case=penalize(investigate(new_report(township), cast, units), cast))
    cast["leader"]  # the supervisor proposed them: the leader is the one asked to approve
    delivery.sweep()
    proposals = Delivery.objects.filter(
        recipient=cast["leader"], channel="inbox", event__kind="reward.proposed"
    )
    assert proposals.count() == 2 and not proposals.filter(read_at__isnull=False).exists()
    approve(reward, cast["leader"])
    rewards.cancel(other.pk, cast["supervisor"], "举报人书面放弃奖励")
    result = delivery.sweep()
    assert result.settled == 2
    assert not proposals.filter(done_at__isnull=True).exists()
    # A notice whose task is still open stays unread.
    third = Reward.objects.get(case=penalize(investigate(new_report(township), cast, units), cast))
    delivery.sweep()
    waiting = proposals.get(event__object_id=str(third.pk))
    assert waiting.read_at is None and waiting.done_at is None


def test_the_inbox_page_settles_what_was_done_meanwhile(login, cast, township, units):
    reward = Reward.objects.get(case=penalize(investigate(new_report(township), cast, units), cast))
    cast["leader"]
    delivery.sweep()
    rewards.cancel(reward.pk, cast["supervisor"], "举报人书面放弃奖励")
    client = login(cast["leader"])
    client.get("/staff/inbox/")
    assert notice(cast["leader"], "reward.proposed").done_at is not None


def test_a_document_upload_form_is_not_shown_to_finance(login, cast, claimed):
    """Finance cannot reach the case page at all, so no form of it either (a post is 403)."""
    case = claimed.case
    client = login(cast["finance"])
    before = everything()
    response = client.post(
        f"/staff/cases/{case.pk}/documents/",
        {
            "doc_type": DocumentType.objects.get(code="interview_record").pk,
            "file": SimpleUploadedFile("x.png", png_bytes(), content_type="image/png"),
        },
    )
    assert response.status_code == 403
    assert everything() == before


def test_a_reward_notice_leads_to_the_reward_page(login, cast, claimed):
    """Finance is told of a claim; the notice opens the reward, not the case he may not read."""
    delivery.sweep()
    told = notice(cast["finance"], "reward.claimed")
    assert told.link == f"/staff/rewards/{claimed.pk}/"
    assert claimed.case.number in told.subject
    client = login(cast["finance"])
    response = client.get(f"/staff/inbox/{told.pk}/")
    assert response.status_code == 302 and response["Location"] == told.link
    assert client.get(told.link).status_code == 200
