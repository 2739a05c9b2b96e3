"""Staff at their desks: a citizen's report becomes a case, is investigated and penalized.

Each person signs in with their own password and first-time TOTP enrolment, in their own browser
context; the case moves 受理 → 调查 → 查处 through the pages, and the audit chain stays intact.
"""

import base64
import hashlib
import hmac
import io
import re
import struct
import time

import pytest
from django.core.management import call_command
from django.utils import translation
from playwright.sync_api import expect
from pypdf import PdfWriter

from casework.models import AuditEntry, Case, CaseDocument, DocumentType, State
from casework.services import CaseChanged
from tipline.models import Report

pytestmark = pytest.mark.e2e

DESCRIPTION = "中水镇东头诊所用B超给孕妇鉴定胎儿性别，每次收费八百元。E2E-STAFF"
OUTCOME = "没收违法所得八百元，罚款三万元。E2E-OUTCOME"


def totp(secret: str, at: float | None = None) -> str:
    """RFC 6238: HMAC-SHA-1 over the 30-second counter, 6 digits."""
    key = base64.b32decode(secret + "=" * (-len(secret) % 8), casefold=True)
    counter = int((time.time() if at is None else at) // 30)
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    code = (struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF) % 10**6
    return f"{code:06d}"


def _label(state: State) -> str:
    with translation.override("zh-hans"):
        return str(state.label)


def _pdf(path):
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.write(path)
    return path


def sign_in_first_time(page, base_url, user):
    """Password, then enrol an authenticator (first sign-in), then past the backup codes."""
    page.goto(base_url + "/staff/login/")
    page.locator("#id_username").fill(user.username)
    page.locator("#id_password").fill("pw-" + user.username)
    page.locator("form:has(#id_password) button[type=submit]").click()

    expect(page).to_have_url(re.compile(r"/staff/otp/setup/"))
    secret = page.locator("#totp-secret").inner_text().strip()
    assert re.fullmatch(r"[A-Z2-7]+", secret), secret
    page.locator("#id_token").fill(totp(secret))
    page.locator("form:has(#id_token) button[type=submit]").click()

    codes = page.locator("#backup-codes li")
    expect(codes.first).to_be_visible()
    assert codes.count() >= 5
    page.locator("main a.button.primary").click()
    expect(page).to_have_url(base_url + "/staff/")
    expect(page.locator("nav.staffnav")).to_contain_text(user.username)


def open_case_page(page, base_url, case):
    page.goto(base_url + "/staff/cases/")
    page.locator(f"a[href='/staff/cases/{case.pk}/']").click()
    expect(page).to_have_url(f"{base_url}/staff/cases/{case.pk}/")


def test_report_to_penalty(live_server, e2e_staff, desktop_page, tmp_path):
    base = live_server.url
    clerk, investigator, supervisor = (
        e2e_staff["clerk"],
        e2e_staff["investigator"],
        e2e_staff["supervisor"],
    )
    zs_fp = e2e_staff["units"]["zs_fp"]

    # 1. A citizen files the report through the public form.
    citizen = desktop_page()
    citizen.goto(base + "/report/")
    citizen.locator("select[name=category]").select_option(value="sex_determination")
    citizen.locator("select[name=township]").select_option(value="zhongshui")
    citizen.locator("textarea[name=description]").fill(DESCRIPTION)
    citizen.locator("main form button[type=submit]").click()
    expect(citizen.locator("#receipt-number")).to_be_visible()
    report = Report.objects.get()
    assert report.status == Report.Status.RECEIVED

    # 2. The clerk of 中水镇 accepts it and opens a case.
    page = desktop_page()
    sign_in_first_time(page, base, clerk)
    page.goto(base + "/staff/reports/")
    page.locator(f"a[href='/staff/reports/{report.pk}/']").click()
    expect(page.locator("#report-status")).to_be_visible()
    page.locator("#triage button[name=open]").click()
    case = Case.objects.get()
    expect(page).to_have_url(f"{base}/staff/cases/{case.pk}/")
    expect(page.locator("#case-state")).to_have_text(_label(State.ACCEPTED))
    report.refresh_from_db()
    assert report.status == Report.Status.ACCEPTED
    assert report.case == case

    # 3. The county supervisor assigns the 中水镇 unit and its investigator.
    page = desktop_page()
    sign_in_first_time(page, base, supervisor)
    open_case_page(page, base, case)
    assign = page.locator("#assign form")
    assign.locator("select[name=unit]").select_option(value=str(zs_fp.pk))
    assign.locator("select[name=investigator]").select_option(value=str(investigator.pk))
    assign.locator("button[type=submit]").click()
    expect(page.locator("ul.flash li.success")).to_be_visible()
    expect(page.locator("#case-team")).to_contain_text(investigator.username)
    case.refresh_from_db()
    assert (case.unit, case.investigator) == (zs_fp, investigator)
    supervisor_page = page

    # 4. The investigator starts the investigation and files the penalty decision.
    page = desktop_page()
    sign_in_first_time(page, base, investigator)
    open_case_page(page, base, case)
    page.locator("#transitions button[value=start_investigation]").click()
    expect(page.locator("#case-state")).to_have_text(_label(State.INVESTIGATING))

    penalty_type = DocumentType.objects.get(code="penalty_decision")
    casefile = page.locator("#casefile form[enctype='multipart/form-data']")
    casefile.locator("select[name=doc_type]").select_option(value=str(penalty_type.pk))
    casefile.locator("input[name=title]").fill("示范县卫计局行政处罚决定书")
    casefile.locator("input[name=file]").set_input_files(_pdf(tmp_path / "decision.pdf"))
    casefile.locator("button[type=submit]").click()
    expect(page.locator("ul.flash li.success")).to_be_visible()
    expect(page.locator("#casefile")).to_contain_text("示范县卫计局行政处罚决定书")
    # What the case still needs: 查处 is ready for a supervisor; the file still lacks documents.
    expect(page).to_have_url(f"{base}/staff/cases/{case.pk}/#outlook")
    expect(page.locator("#outlook li[data-step=penalize]")).to_contain_text("由分管领导办理")
    expect(page.locator("#missing-documents")).to_contain_text("现场检查笔录")
    document = CaseDocument.objects.get(case=case)
    assert document.doc_type == penalty_type
    assert document.mime == "application/pdf"
    # Deciding is the supervisor's: the investigator has no penalize button (no next step at all).
    expect(page.locator("button[value=penalize]")).to_have_count(0)
    expect(page.locator("#case-state")).to_have_text(_label(State.INVESTIGATING))

    # 5. The supervisor approves the penalty, from a second tab; the first tab goes stale.
    stale = supervisor_page
    stale.reload()
    expect(stale.locator("#case-state")).to_have_text(_label(State.INVESTIGATING))
    page = stale.context.new_page()
    open_case_page(page, base, case)
    penalize = page.locator("#transitions form:has(button[value=penalize])")
    expect(penalize).to_have_class(re.compile(r"\bdecisive\b"))
    # Without an outcome: the error is at the field, and nothing happens.
    penalize.locator("button[value=penalize]").click()
    penalize = page.locator("#transitions form:has(button[value=penalize])")
    expect(penalize.locator(".field.has-error:has(textarea[name=outcome]) p.error")).to_be_visible()
    expect(page.locator("#case-state")).to_have_text(_label(State.INVESTIGATING))
    penalize.locator("textarea[name=outcome]").fill(OUTCOME)
    penalize.locator("button[value=penalize]").click()
    # The confirmation says what will happen; only then is the step taken.
    expect(page.locator("#confirm-summary")).to_contain_text("查处")
    expect(page.locator("#confirm-step")).to_contain_text("E2E-OUTCOME")
    case.refresh_from_db()
    assert case.state == State.INVESTIGATING
    page.locator("#confirm-form button[value=penalize]").click()
    expect(page.locator("#case-state")).to_have_text(_label(State.PENALIZED))
    assert "查处" in page.locator("#case-state").inner_text()
    expect(page.locator("main")).to_contain_text("E2E-OUTCOME")
    case.refresh_from_db()
    assert case.state == State.PENALIZED
    assert case.approved_by == supervisor
    assert case.outcome == OUTCOME
    assert case.closed_at is not None

    # 6. The stale tab still offers "unfounded" for the investigating case: refused, unchanged.
    unfounded = stale.locator("#transitions form:has(button[value=find_unfounded])")
    unfounded.locator("textarea[name=outcome]").fill("查无实据")
    unfounded.locator("button[value=find_unfounded]").click()
    with translation.override("zh-hans"):
        changed = str(CaseChanged())
    expect(stale.locator("ul.flash li.error")).to_have_text(changed)
    expect(stale.locator("#case-state")).to_have_text(_label(State.PENALIZED))
    case.refresh_from_db()
    assert case.state == State.PENALIZED
    assert case.outcome == OUTCOME

    # 7. The history on the page, and the audit chain.
    page.reload()
    actions = page.locator("#history li").evaluate_all("items => items.map(i => i.dataset.action)")
    assert actions == [
        "case.opened",
        "case.assigned",
        "case.transition",
        "document.uploaded",
        "case.transition",
    ], actions
    history = page.locator("#history")
    expect(history).to_contain_text("investigator 开始调查")
    expect(history).to_contain_text("supervisor 批准查处")
    # Every line reads as Chinese words: a name and what they did, never an action code.
    for line in page.locator("#history li").all_inner_texts():
        assert re.search(r"[\u4e00-\u9fff]{2,}", line), line
        assert not re.search(r"\b[a-z]+\.[a-z_]+\b", line), line  # e.g. case.transition
    assert list(
        AuditEntry.objects.filter(object_type="casework.case", object_id=str(case.pk)).values_list(
            "actor__username", flat=True
        )
    ) == ["clerk", "supervisor", "investigator", "investigator", "supervisor"]
    out = io.StringIO()
    call_command("verify_audit", stdout=out)
    assert "audit chain intact" in out.getvalue()

    page.screenshot(path=tmp_path / "case-penalized.png", full_page=True)
