"""Finance and supervisor pages: the list, approving with a code, the payment page behind the
step-up (each viewing audited), the payee nowhere else, the ledger and its exports."""

import csv
import io
import json
import logging
import re
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook

from casework import services
from casework.models import AuditEntry, Case, CaseDocument
from casework.rewards import services as rewards
from casework.rewards.models import Reward, RewardPolicy
from org.people import display_name
from tipline.models import Channel
from vault import storage

from .helpers import (
    ACCOUNT,
    approve,
    filed,
    fresh_code,
    investigate,
    pay,
    penalize,
    reward_of,
    step_up,
)

pytestmark = pytest.mark.django_db

PAYEE = "欧阳秘密"
BANK_NAME = "秘密银行幸福支行"


def fresh(reward):
    return Reward.objects.get(pk=reward.pk)


def penalized(township, cast, units, **extra):
    report, receipt = filed(township, **extra)
    return reward_of(penalize(investigate(report, cast, units), cast)), receipt


@pytest.fixture
def bank_claimed(township, cast, units):
    """Claimed by bank transfer to a distinctive payee (the reporter gave that name)."""
    reward, receipt = penalized(township, cast, units, reporter_name=PAYEE)
    approve(reward, cast["leader"])
    rewards.claim(
        reward.pk,
        receipt,
        method="bank",
        payee_name=PAYEE,
        bank_name=BANK_NAME,
        account_number=ACCOUNT,
    )
    return fresh(reward)


def test_the_list_puts_each_role_s_work_first(township, cast, units, login):
    penalized(township, cast, units)  # stays proposed
    second, receipt = penalized(township, cast, units)
    approve(second, cast["leader"])
    rewards.claim(second.pk, receipt, method="in_person")
    for who, top in (("finance", "claimed"), ("supervisor", "proposed")):
        html = login(cast[who]).get("/staff/rewards/").content.decode()
        states = [part.split('"', 1)[0] for part in html.split('data-state="')[1:]]
        assert states[0] == top, (who, states)
        assert "3000.00" in html


def test_the_list_queries_do_not_grow_with_rewards(township, cast, units, login):
    client = login(cast["finance"])
    penalized(township, cast, units)
    with CaptureQueriesContext(connection) as few:
        client.get("/staff/rewards/")
    for _ in range(3):
        penalized(township, cast, units)
    with CaptureQueriesContext(connection) as more:
        client.get("/staff/rewards/")
    assert len(more) == len(few)


def test_home_shows_each_role_its_count(township, cast, units, login):
    reward, receipt = penalized(township, cast, units)
    penalized(township, cast, units)
    html = login(cast["supervisor"]).get("/staff/").content.decode()
    assert 'id="rewards-proposed"' in html and "2 项奖励待审批" in html
    approve(reward, cast["leader"])
    rewards.claim(reward.pk, receipt, method="in_person")
    html = login(cast["finance"]).get("/staff/").content.decode()
    assert "1 项已申领奖励待支付" in html and 'id="rewards-proposed"' not in html
    assert 'id="rewards-' not in login(cast["clerk"]).get("/staff/").content.decode()


def _named(user, family, given):
    user.last_name, user.first_name = family, given
    user.save(update_fields=["last_name", "first_name"])
    return user


def test_approve_from_the_reward_page(proposed, cast, login):
    """The supervisor who took 查处 proposed the reward: his page refuses him the approval and
    says why; the second supervisor (分管领导) approves; the page names proposer, approver and
    payer by full name."""
    reward, _receipt = proposed
    _named(cast["supervisor"], "刘", "建国")
    _named(cast["leader"], "郑", "海")
    _named(cast["finance"], "杨", "帆")
    client = login(cast["supervisor"])
    html = client.get(f"/staff/rewards/{reward.pk}/").content.decode()
    assert 'id="approve-form"' in html and "首报" in html
    assert "提出该奖励的人不得审批" in html
    response = client.post(
        f"/staff/rewards/{reward.pk}/approve/", {"otp_code": fresh_code(cast["supervisor"])}
    )
    assert response.status_code == 302
    assert fresh(reward).state == "proposed"
    assert not AuditEntry.objects.filter(action="reward.approved").exists()

    client = login(cast["leader"])
    response = client.post(f"/staff/rewards/{reward.pk}/approve/", {"otp_code": "000000"})
    assert response.status_code == 302
    assert fresh(reward).state == "proposed"
    response = client.post(
        f"/staff/rewards/{reward.pk}/approve/", {"otp_code": fresh_code(cast["leader"])}
    )
    assert response.status_code == 302
    assert fresh(reward).state == "approved"
    # The reward's history reads as sentences: who did what, never "name · description".
    html = client.get(f"/staff/rewards/{reward.pk}/").content.decode()
    history = html[html.index('id="history"') :]
    assert "郑海 审批奖励（通知举报人）" in history
    assert "郑海 · " not in history
    proposed_line = html[html.index('id="reward-proposed"') :]
    assert proposed_line[: proposed_line.index("</dd>")].count("刘建国") == 1
    approved_line = html[html.index('id="reward-approved"') :]
    assert "郑海" in approved_line[: approved_line.index("</dd>")]


def test_payee_only_on_the_payment_page_after_a_step_up(bank_claimed, cast, login):
    reward = bank_claimed
    client = login(cast["finance"])
    url = f"/staff/rewards/{reward.pk}/payment/"
    html = client.get(url).content.decode()
    assert 'id="step-up"' in html and PAYEE not in html and ACCOUNT not in html
    assert not AuditEntry.objects.filter(action="reward.payee_viewed").exists()
    client.post(f"/staff/rewards/{reward.pk}/step-up/", {"otp_code": fresh_code(cast["finance"])})
    for n in (1, 2):
        response = client.get(url)
        html = response.content.decode()
        assert PAYEE in html and ACCOUNT in html and BANK_NAME in html
        assert (
            response["Cache-Control"].startswith("no-store")
            or "no-store" in response["Cache-Control"]
        )
        assert AuditEntry.objects.filter(action="reward.payee_viewed").count() == n
    assert "户名与举报时填写的姓名一致" in html
    # Pay from the page: the case moves to 奖励.
    response = client.post(
        f"/staff/rewards/{reward.pk}/pay/", {"voucher_number": "PZ-9", "paid_on": "2026-03-02"}
    )
    assert response.status_code == 302
    assert fresh(reward).state == "paid"
    assert Case.objects.get(pk=reward.case_id).state == "rewarded"
    # Paying again is told plainly and changes nothing.
    n = AuditEntry.objects.count()
    response = client.post(
        f"/staff/rewards/{reward.pk}/pay/",
        {"voucher_number": "PZ-10", "paid_on": "2026-03-03"},
        follow=True,
    )
    assert "已于2026-03-02支付（凭证号PZ-9），未作任何更改" in response.content.decode()
    assert AuditEntry.objects.count() == n


def test_unchecked_name_is_flagged_for_finance(township, cast, units, login):
    reward, receipt = penalized(township, cast, units)  # anonymous reporter
    approve(reward, cast["leader"])
    rewards.claim(
        reward.pk,
        receipt,
        method="bank",
        payee_name="某人",
        bank_name="某行",
        account_number=ACCOUNT,
    )
    step_up(cast["finance"], reward)
    html = login(cast["finance"]).get(f"/staff/rewards/{reward.pk}/payment/").content.decode()
    assert 'id="name-not-checked"' in html


def body(response) -> bytes:
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


def _planted(data: bytes) -> list[str]:
    return [v for v in (PAYEE, ACCOUNT, BANK_NAME, "6228 4804") if v.encode() in data]


def test_the_payee_reaches_no_list_export_document_or_log(bank_claimed, cast, login, caplog):
    """The scan first finds the planted payee where it must be (the payment page), then nowhere
    else a person or a file could see it."""
    caplog.set_level(logging.DEBUG)
    reward = bank_claimed
    finance = login(cast["finance"])
    step_up(cast["finance"], reward)
    payment_page = finance.get(f"/staff/rewards/{reward.pk}/payment/").content
    assert set(_planted(payment_page)) >= {PAYEE, ACCOUNT, BANK_NAME}  # the scan works
    pay(reward, cast["finance"])
    pages = {
        f"finance {url}": finance.get(url).content
        for url in (
            "/staff/rewards/",
            f"/staff/rewards/{reward.pk}/",
            f"/staff/rewards/{reward.pk}/payment/",
            "/staff/rewards/ledger/",
            "/staff/rewards/ledger.csv",
            "/staff/rewards/ledger.xlsx",
            f"/staff/cases/{reward.case_id}/",
            "/staff/",
        )
    }
    auditor = login(cast["auditor"])
    pages.update(
        {f"auditor {u}": body(auditor.get(u)) for u in ("/staff/audit/", "/staff/audit/export.csv")}
    )
    assert b"reward.paid" in pages["auditor /staff/audit/export.csv"]
    xlsx = load_workbook(io.BytesIO(pages["finance /staff/rewards/ledger.xlsx"]))
    pages["xlsx cells"] = repr([[c.value for c in row] for ws in xlsx for row in ws.rows]).encode()
    for doc in CaseDocument.objects.filter(case_id=reward.case_id, generated=True):
        pages[f"document {doc.doc_type.code}"] = storage.read(doc)
    assert any(k.startswith("document payment_voucher") for k in pages)
    pages["audit data"] = repr(list(AuditEntry.objects.values_list("data", flat=True))).encode()
    pages["logs"] = "\n".join(r.getMessage() + repr(vars(r)) for r in caplog.records).encode()
    out = io.StringIO()
    call_command(
        "reward_ledger", "--year", str(timezone.localdate().year), "--format", "json", stdout=out
    )
    pages["command"] = out.getvalue().encode()
    found = {place: _planted(data) for place, data in pages.items() if _planted(data)}
    assert found == {}, found


def test_ledger_figures_are_derived_from_the_rows(
    township, other_township, cast, units, monkeypatch, tmp_path
):
    """Hand-computed: in March 2026 中水镇 has two paid rewards (3000, then 5000 under the
    county's policy from 3 March), one proposed and one cancelled (5000 each); in April one
    lapsed (5000); 西山镇, same county, one proposed in March (5000)."""

    def at(month, day):
        moment = datetime(2026, month, day, 2, 0, tzinfo=UTC)
        monkeypatch.setattr(timezone, "now", lambda: moment)

    at(3, 2)
    paid1, r1 = penalized(township, cast, units)
    RewardPolicy.objects.create(
        county=township.county,
        effective_from=date(2026, 3, 3),
        default_amount=Decimal("5000.00"),
    )
    at(3, 4)
    paid2, r2 = penalized(township, cast, units)
    penalized(township, cast, units)  # stays proposed
    cancelled, _ = penalized(township, cast, units)
    rewards.cancel(cancelled.pk, cast["supervisor"], "举报人系当事人")
    codes = {}
    for reward, receipt in ((paid1, r1), (paid2, r2)):
        approve(reward, cast["leader"])
        codes[reward.pk] = rewards.claim(reward.pk, receipt, method="in_person").claim_code
    at(4, 1)
    lapsed, _ = penalized(township, cast, units)
    approve(lapsed, cast["leader"])
    for reward in (paid1, paid2):
        pay(reward, cast["finance"], claim_code=codes[reward.pk], paid_on=date(2026, 3, 10))
    rewards.lapse_overdue(today=date(2026, 12, 31))
    xs_report, _ = filed(other_township)
    at(3, 20)
    xs_case = services.open_case(xs_report.pk, cast["other_clerk"])
    services.assign(
        xs_case.pk,
        cast["supervisor"],
        unit_id=units["xs_fp"].pk,
        investigator=cast["other_investigator"],
    )
    services.start_investigation(xs_case.pk, cast["other_investigator"])
    from .helpers import file_doc

    file_doc(xs_case, cast["other_investigator"], "penalty_decision")
    services.penalize(xs_case.pk, cast["supervisor"], "罚款")

    from casework.rewards import ledger
    from org.models import Township

    figures = ledger.build(2026, Township.objects.all())
    assert figures.rows == [
        {
            "month": "2026-03",
            "township": "xishan",
            "township_name": "西山镇",
            "state": "proposed",
            "count": 1,
            "amount": "5000.00",
        },
        {
            "month": "2026-03",
            "township": "zhongshui",
            "township_name": "中水镇",
            "state": "cancelled",
            "count": 1,
            "amount": "5000.00",
        },
        {
            "month": "2026-03",
            "township": "zhongshui",
            "township_name": "中水镇",
            "state": "paid",
            "count": 2,
            "amount": "8000.00",
        },
        {
            "month": "2026-03",
            "township": "zhongshui",
            "township_name": "中水镇",
            "state": "proposed",
            "count": 1,
            "amount": "5000.00",
        },
        {
            "month": "2026-04",
            "township": "zhongshui",
            "township_name": "中水镇",
            "state": "lapsed",
            "count": 1,
            "amount": "5000.00",
        },
    ]
    assert figures.totals == {
        "proposed": {"count": 2, "amount": "10000.00"},
        "approved": {"count": 0, "amount": "0.00"},
        "claimed": {"count": 0, "amount": "0.00"},
        "paid": {"count": 2, "amount": "8000.00"},
        "cancelled": {"count": 1, "amount": "5000.00"},
        "lapsed": {"count": 1, "amount": "5000.00"},
    }
    # A township user's ledger holds only their township.
    only_zs = ledger.build(2026, Township.objects.filter(code="zhongshui"))
    assert only_zs.totals["proposed"] == {"count": 1, "amount": "5000.00"}
    assert ledger.build(2025, Township.objects.all()).rows == []

    # The command writes the same figures in every format.
    out = io.StringIO()
    call_command("reward_ledger", "--year", "2026", "--format", "json", stdout=out)
    assert json.loads(out.getvalue())["totals"] == figures.totals
    out = io.StringIO()
    call_command(
        "reward_ledger", "--year", "2026", "--county", "demo", "--format", "csv", stdout=out
    )
    # The files are for people: Chinese headers, the township by name, the state in words.
    lines = list(csv.reader(io.StringIO(out.getvalue())))
    assert lines[0] == ["月份", "乡镇", "状态", "件数", "金额（元）"]
    assert ["2026-03", "中水镇", "已支付", "2", "8000.00"] in lines
    assert ["合计", "", "已支付", "2", "8000.00"] in lines
    assert len(lines) == 1 + len(figures.rows) + len(figures.totals)
    path = tmp_path / "ledger.xlsx"
    call_command("reward_ledger", "--year", "2026", "--format", "xlsx", "--out", str(path))
    book = load_workbook(path)
    assert book.sheetnames == ["奖励台账 2026", "合计", "奖励明细"]
    totals = {row[0].value: (row[1].value, row[2].value) for row in list(book["合计"].rows)[1:]}
    assert totals["已支付"] == (2, 8000)
    assert totals["已失效（逾期未领）"] == (1, 5000)
    details = [[c.value for c in row] for row in book["奖励明细"].rows]
    assert details[0][:6] == ["案件编号", "乡镇", "月份", "状态", "金额（元）", "处理结果"]
    assert details[0][-3:] == ["提出人", "批准人", "支付经办人"]
    # The same rewards as the JSON, one row each, people by full name.
    assert len(details) == 1 + len(figures.rewards)
    paid_row = next(r for r in details[1:] if r[0] == paid2.case.number)
    assert paid_row[1:5] == ["中水镇", "2026-03", "已支付", 5000]
    assert paid_row[5] == "行政处罚（查处）"
    assert paid_row[-3:] == [
        display_name(cast["supervisor"]),
        display_name(cast["leader"]),
        display_name(cast["finance"]),
    ]
    with pytest.raises(Exception, match="no county"):
        call_command("reward_ledger", "--year", "2026", "--county", "nowhere")


def test_ledger_page_and_exports_for_finance(claimed, cast, login):
    reward, _r = claimed
    pay(reward, cast["finance"], voucher_number="PZ-LEDGER-1")
    client = login(cast["finance"])
    year = timezone.localdate().year
    html = client.get(f"/staff/rewards/ledger/?year={year}").content.decode()
    assert "PZ-LEDGER-1" in html and "3000.00" in html
    # States in words, never their codes (the code stays only in data-state, for scripts).
    assert '<th scope="row">已支付</th>' in html and "<td>已支付</td>" in html
    assert not re.search(r">\s*(proposed|approved|claimed|paid|cancelled|lapsed)\s*<", html)
    response = client.get(f"/staff/rewards/ledger.csv?year={year}")
    assert response["Content-Disposition"] == f'attachment; filename="reward-ledger-{year}.csv"'
    assert "已支付,1,3000.00" in response.content.decode("utf-8-sig")
    entry = AuditEntry.objects.filter(action="reward.ledger_exported").last()
    assert entry.actor == cast["finance"] and entry.data["format"] == "csv"


def test_marks_from_the_report_page_and_the_receipt_handed_over(township, cast, login):
    client = login(cast["clerk"])
    response = client.post(
        "/staff/reports/new/",
        {
            "category": "sex_determination",
            "township": "zhongshui",
            "channel": "phone",
            "description": "电话举报：某诊所鉴定胎儿性别",
        },
    )
    assert 'id="receipt-handed"' in response.content.decode()
    from tipline.models import Report

    report = Report.objects.get(channel=Channel.PHONE)
    client.post(
        f"/staff/rewards/reports/{report.pk}/marks/",
        {"only": "receipt_issued", "receipt_issued": "on"},
    )
    assert report.reward_marks.receipt_issued is True
    html = client.get(f"/staff/reports/{report.pk}/").content.decode()
    assert 'id="reward-marks"' in html
    client.post(f"/staff/rewards/reports/{report.pk}/marks/", {"reporter_is_staff": "on"})
    marks = type(report.reward_marks).objects.get(report=report)
    assert (marks.reporter_is_staff, marks.receipt_issued) == (True, False)


def test_the_payee_is_nowhere_in_the_database_in_clear(bank_claimed):
    from casework.rewards.models import RewardClaim
    from tests.tipline.test_privacy_at_rest import dump_database

    record = RewardClaim.objects.get(reward=bank_claimed)
    assert record.payee()["account_number"] == ACCOUNT  # what the scan looks for is really there
    cells = dump_database()
    assert any(place.startswith("rewards_rewardclaim.") for place in cells)
    needles = {v: v.encode() for v in (PAYEE, ACCOUNT, BANK_NAME)}
    needles.update({f"{v} (utf-16)": v.encode("utf-16-le") for v in (PAYEE, BANK_NAME)})
    found = [
        f"{label} in {place}"
        for place, data in cells.items()
        for label, needle in needles.items()
        if needle in data
    ]
    assert found == []


def test_the_case_card_links_the_reward_only_for_those_who_may_open_it(
    township, cast, units, login
):
    """A clerk reads the reward's state and amount on the case page, without a link that would
    answer 403; a supervisor gets the link."""
    reward, _receipt = penalized(township, cast, units)
    clerk = login(cast["clerk"])
    html = clerk.get(f"/staff/cases/{reward.case_id}/").content.decode()
    assert 'id="reward-summary"' in html and "3000.00" in html
    assert f"/staff/rewards/{reward.pk}/" not in html
    assert clerk.get(f"/staff/rewards/{reward.pk}/").status_code == 403
    html = login(cast["supervisor"]).get(f"/staff/cases/{reward.case_id}/").content.decode()
    assert 'id="reward-link"' in html and f"/staff/rewards/{reward.pk}/" in html
