"""The reward, end to end: the supervisor's 查处 proposes it, he may not approve it himself (four
eyes), a second supervisor (分管领导) approves it with a fresh authenticator code, the citizen
claims it on a phone from the receipt page, finance pays it behind the step-up; the case shows
奖励, the ledger shows the payment, the audit chain holds."""

import io
import re
import time

import pytest
from django.core.management import call_command
from django.utils import timezone, translation
from playwright.sync_api import expect

from casework import services
from casework.models import Case, DocumentType, State
from casework.rewards.models import Reward, RewardPayment
from org import roles
from org.models import Unit
from tipline.attachments import sanitize
from tipline.models import Report

from .conftest import _make_staff
from .test_staff_journey import _pdf, totp

pytestmark = pytest.mark.e2e

NAME = "张三丰"
ACCOUNT = "6228 4804 0256 4890 018"


def _label(state) -> str:
    with translation.override("zh-hans"):
        return str(state.label)


def sign_in(page, base_url, user) -> tuple[str, int]:
    """Password and first-time authenticator enrolment; returns the secret and the time step of
    the code used, so the step-up later enters a code of a later step (each code works once)."""
    page.goto(base_url + "/staff/login/")
    page.locator("#id_username").fill(user.username)
    page.locator("#id_password").fill("pw-" + user.username)
    page.locator("form:has(#id_password) button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/staff/otp/setup/"))
    secret = page.locator("#totp-secret").inner_text().strip()
    now = time.time()
    page.locator("#id_token").fill(totp(secret, now))
    page.locator("form:has(#id_token) button[type=submit]").click()
    expect(page.locator("#backup-codes li").first).to_be_visible()
    page.locator("main a.button.primary").click()
    expect(page).to_have_url(base_url + "/staff/")
    return secret, int(now // 30)


def next_code(secret: str, used_step: int) -> str:
    """The code of the step after the one used: accepted (one step of tolerance) and new."""
    return totp(secret, (used_step + 1) * 30 + 1)


def test_reward_from_penalty_to_payment(live_server, e2e_staff, desktop_page, page, tmp_path):
    base = live_server.url
    clerk, investigator, supervisor = (
        e2e_staff["clerk"],
        e2e_staff["investigator"],
        e2e_staff["supervisor"],
    )
    county = e2e_staff["units"]["zs_fp"].county
    finance_unit = Unit.objects.create(
        county=county, township=None, kind=Unit.Kind.FINANCE, name="县财政局"
    )
    finance = _make_staff("finance", roles.FINANCE, finance_unit)
    leader = _make_staff("leader", roles.SUPERVISOR, e2e_staff["units"]["county_fp"])

    # 1. A citizen reports on a phone, giving a name for a bank transfer, and keeps the receipt.
    page.goto(base + "/report/")
    page.locator("select[name=category]").select_option(value="sex_determination")
    page.locator("select[name=township]").select_option(value="zhongshui")
    page.locator("textarea[name=description]").fill("镇东头诊所用B超鉴定胎儿性别。E2E-REWARD")
    page.locator("input[name=reporter_name]").fill(NAME)
    page.locator("main form button[type=submit]").click()
    receipt = page.locator("#receipt-number").inner_text().strip()
    report = Report.objects.get()

    # 2. The case is opened and investigated (the staff journey walks these pages).
    case = services.open_case(report.pk, clerk)
    services.assign(
        case.pk, supervisor, unit_id=e2e_staff["units"]["zs_fp"].pk, investigator=investigator
    )
    services.start_investigation(case.pk, investigator)
    services.add_document(
        case.pk,
        investigator,
        DocumentType.objects.get(code="penalty_decision"),
        sanitize((_pdf(tmp_path / "d.pdf")).read_bytes(), max_bytes=1_000_000),
    )

    # 3. The supervisor approves the penalty: the reward is proposed in the same step.
    sup = desktop_page()
    sign_in(sup, base, supervisor)
    sup.goto(f"{base}/staff/cases/{case.pk}/")
    penalize = sup.locator("#transitions form:has(button[value=penalize])")
    penalize.locator("textarea[name=outcome]").fill("罚款三万元。")
    penalize.locator("button[value=penalize]").click()
    sup.locator("#confirm-form button[value=penalize]").click()  # what will happen: confirmed
    expect(sup.locator("#case-state")).to_have_text(_label(State.PENALIZED))
    reward = Reward.objects.get(case=case)
    assert (reward.state, str(reward.amount)) == ("proposed", "3000.00")
    expect(sup.locator("#reward-link")).to_contain_text("3000.00")

    # 4. He proposed it, so he may not approve it: the page says why and offers no button.
    sup.locator("#reward-link").click()
    expect(sup.locator("#reward-state")).to_have_text("已提出，待审批")
    expect(sup.locator("#selection")).to_contain_text("首报")
    expect(sup.locator("#approve-form .blocked")).to_contain_text("提出该奖励的人不得审批")
    expect(sup.locator("#approve-form button[type=submit]")).to_be_disabled()

    # The second supervisor (分管领导) approves it, re-entering a current code.
    lead = desktop_page()
    lead_secret, lead_step = sign_in(lead, base, leader)
    lead.goto(f"{base}/staff/rewards/{reward.pk}/")
    lead.locator("#approve-form input[name=otp_code]").fill(next_code(lead_secret, lead_step))
    lead.locator("#approve-form button[type=submit]").click()
    expect(lead.locator("ul.flash li.success")).to_be_visible()
    expect(lead.locator("#reward-state")).to_have_text("已审批，已通知举报人")
    expect(lead.locator("#reward-approved")).to_contain_text("leader")
    expect(lead.locator("#reward-proposed")).to_contain_text("supervisor")

    # 5. The citizen, on the phone, sees the offer and claims it by bank transfer.
    page.goto(base + "/receipt/")
    page.locator("input[name=receipt]").fill(receipt)
    page.locator("main form button[type=submit]").click()
    expect(page.locator("#reward-offer")).to_contain_text("3000.00")
    expect(page.locator("#reward-deadline")).to_contain_text("个工作日")
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], width
    claim = page.locator("#claim-form")
    claim.locator("input[value=bank]").check()
    claim.locator("input[name=payee_name]").fill(f" {NAME} ")
    claim.locator("input[name=bank_name]").fill("中国农业银行中水支行")
    claim.locator("input[name=account_number]").fill(ACCOUNT)
    claim.locator("button[type=submit]").click()
    expect(page.locator("#claim-bank")).to_be_visible()
    page.screenshot(path=tmp_path / "reward-claimed-phone.png", full_page=True)
    assert Reward.objects.get(pk=reward.pk).state == "claimed"

    # 6. Finance sees the claim on the home page, steps up, sees the payee, pays.
    fin = desktop_page()
    fin_secret, fin_step = sign_in(fin, base, finance)
    expect(fin.locator("#rewards-claimed")).to_contain_text("1")
    fin.locator("#rewards-claimed").click()
    fin.locator(f"a[href='/staff/rewards/{reward.pk}/']").click()
    fin.locator("a[href$='/payment/']").click()
    expect(fin.locator("#payee")).to_have_count(0)
    fin.locator("#step-up input[name=otp_code]").fill(next_code(fin_secret, fin_step))
    fin.locator("#step-up button[type=submit]").click()
    expect(fin.locator("#payee-account")).to_have_text(ACCOUNT.replace(" ", ""))
    expect(fin.locator("#payee-name")).to_have_text(NAME)
    pay = fin.locator("#pay form")
    pay.locator("input[name=voucher_number]").fill("JL-2026-E2E")
    pay.locator("input[name=paid_on]").fill(timezone.localdate().isoformat())
    pay.locator("button[type=submit]").click()
    expect(fin.locator("#reward-state")).to_have_text("已支付")
    expect(fin.locator("#reward-payment")).to_contain_text("JL-2026-E2E")
    assert RewardPayment.objects.get().voucher_number == "JL-2026-E2E"

    # 7. The case shows 奖励 (to the supervisor: finance opens no case); the ledger shows the
    # payment; the citizen sees it paid.
    assert fin.goto(f"{base}/staff/cases/{case.pk}/").status == 403
    sup.goto(f"{base}/staff/cases/{case.pk}/")
    expect(sup.locator("#case-state")).to_have_text(_label(State.REWARDED))
    assert Case.objects.get(pk=case.pk).state == State.REWARDED
    fin.goto(f"{base}/staff/rewards/ledger/")
    expect(fin.locator("#ledger-rewards")).to_contain_text("JL-2026-E2E")
    expect(fin.locator("#ledger-totals tr[data-state=paid]")).to_contain_text("3000.00")
    page.goto(base + "/receipt/")
    page.locator("input[name=receipt]").fill(receipt)
    page.locator("main form button[type=submit]").click()
    expect(page.locator("#reward-paid")).to_be_visible()

    out = io.StringIO()
    call_command("verify_audit", stdout=out)
    assert "audit chain intact" in out.getvalue()
