"""The case page as staff use it: decisive steps apart and confirmed, a missing value shown at its
field, what the case still needs after filing, generated forms versioned, deadlines that read
true; and what the reporter is told of the case."""

import re
from datetime import UTC, date, datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from casework import audit, services
from casework.models import AuditEntry, Case, CaseDocument, State
from vault import storage

from .conftest import RECEIPTS
from .test_workflow import BASE_DOCS, file_docs, pdf_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def freeze(monkeypatch):
    def _freeze(moment: datetime):
        monkeypatch.setattr(timezone, "now", lambda: moment)

    return _freeze


def url(case, name=None):
    return f"/staff/cases/{case.pk}/" + (f"transition/{name}/" if name else "")


def snapshot(case):
    stored = Case.objects.get(pk=case.pk)
    return (stored.state, stored.outcome, stored.closed_at, AuditEntry.objects.count())


def section(page: str, element_id: str) -> str:
    start = page.index(f'id="{element_id}"')
    return page[start : page.index("</section>", start)]


# --- decisive steps -------------------------------------------------------------------------------


def test_decisive_steps_stand_apart(login, cast, investigating_case):
    page = login(cast["supervisor"]).get(url(investigating_case)).content.decode()
    decisions = page[page.index('id="decisions"') :]
    for name in ("penalize", "find_unfounded", "transfer"):
        form = decisions[decisions.index(f'id="step-{name}"') :]
        assert (
            form.startswith('id="step-')
            and "transition decisive" in page.split(f'id="step-{name}"')[0][-80:]
        )
        assert 'class="button danger"' in form[: form.index("</form>")]
    assert "作出处理决定" in decisions and "不可撤销" in decisions


def test_a_decisive_step_shows_what_will_happen_before_it_is_taken(
    login, cast, investigating_case, freeze
):
    case = investigating_case
    file_docs(case, cast["investigator"], "penalty_decision")
    client = login(cast["supervisor"])
    before = snapshot(case)
    # Wednesday 2026-09-30, 10:00 in Beijing: 15 working days across National Day → 10-27
    # for telling the reporters; archiving (10 working days: 10-20) not before that.
    freeze(datetime(2026, 9, 30, 2, 0, tzinfo=UTC))
    decision = {"expected_state": "investigating", "outcome": "没收违法所得，罚款三万元。"}
    response = client.post(url(case, "penalize"), decision)
    assert response.status_code == 200
    page = response.content.decode()
    summary = page[page.index('id="confirm-summary"') :]
    summary = summary[: summary.index("</ul>")]
    assert "案件将以“查处”办结" in summary
    assert "须于2026-10-27前将处理结果告知举报人，于2026-10-27前结案归档。" in summary
    assert "将为首个符合条件的举报提出奖励建议" in summary
    assert "没收违法所得，罚款三万元。" in page  # what was entered, to check
    assert snapshot(case) == before  # nothing happened yet

    response = client.post(url(case, "penalize"), {**decision, "confirmed": "on"})
    assert response.status_code == 302
    stored = Case.objects.get(pk=case.pk)
    assert stored.state == State.PENALIZED
    assert (stored.feedback_due, stored.archive_due) == (date(2026, 10, 27), date(2026, 10, 27))


def test_a_missing_outcome_is_shown_at_its_field(login, cast, investigating_case):
    case = investigating_case
    file_docs(case, cast["investigator"], "penalty_decision")
    before = snapshot(case)
    response = login(cast["supervisor"]).post(
        url(case, "penalize"), {"expected_state": "investigating", "outcome": "  "}
    )
    assert response.status_code == 400
    page = response.content.decode()
    form = page[page.index('id="step-penalize"') :]
    form = form[: form.index("</form>")]
    field = form[form.index('<div class="field has-error">') :].split("</div>")[0]
    assert 'name="outcome"' in field
    assert "请填写处罚决定内容。" in field  # the step's own words, at the field
    assert 'class="flash"' not in page  # not only at the top of the page
    assert snapshot(case) == before


def test_transfer_needs_both_values_each_at_its_field(login, cast, investigating_case):
    case = investigating_case
    response = login(cast["supervisor"]).post(
        url(case, "transfer"), {"expected_state": "investigating", "receiving_unit": "县公安局"}
    )
    assert response.status_code == 400
    form = response.content.decode().split('id="step-transfer"')[1].split("</form>")[0]
    assert form.count('class="field has-error"') == 1  # the date, not the unit
    assert Case.objects.get(pk=case.pk).state == State.INVESTIGATING


# --- what the case needs after filing a document ----------------------------------------------


def test_after_filing_the_investigator_sees_what_the_next_step_needs(
    login, cast, investigating_case
):
    case = investigating_case
    client = login(cast["investigator"])
    needs = section(client.get(url(case)).content.decode(), "outlook")
    assert 'data-step="penalize"' in needs
    assert "请先将处罚决定书/处理文件归入案卷。" in needs

    response = client.post(
        f"/staff/cases/{case.pk}/documents/",
        {
            "doc_type": CaseDocument._meta.get_field("doc_type")
            .related_model.objects.get(code="penalty_decision")
            .pk,
            "title": "处罚决定书",
            "file": SimpleUploadedFile("decision.pdf", pdf_bytes(), "application/pdf"),
        },
    )
    assert response.status_code == 302
    assert response["Location"] == url(case) + "#outlook"
    page = client.get(url(case)).content.decode()
    needs = section(page, "outlook")
    penalize = needs[needs.index('data-step="penalize"') :].split("</li>")[0]
    assert "条件已具备：由分管领导办理。" in penalize
    assert "案卷尚缺：" in needs and "现场检查笔录" in needs


def test_a_bad_upload_is_shown_at_the_file_field(login, cast, investigating_case):
    case = investigating_case
    response = login(cast["investigator"]).post(
        f"/staff/cases/{case.pk}/documents/",
        {"title": "笔录", "file": SimpleUploadedFile("x.pdf", b"not a pdf", "application/pdf")},
    )
    assert response.status_code == 400
    form = response.content.decode().split('id="document-form"')[1].split("</form>")[0]
    assert form.count('class="field has-error"') == 2  # no document type chosen, a bad file
    assert not CaseDocument.objects.filter(case=case).exists()


# --- generated documents ----------------------------------------------------------------------


def test_generating_the_registration_form_again_makes_a_new_version(
    login, cast, investigating_case
):
    case = investigating_case
    client = login(cast["investigator"])
    client.post(f"/staff/cases/{case.pk}/documents/generate/")
    response = client.post(f"/staff/cases/{case.pk}/documents/generate/", follow=True)
    page = response.content.decode()
    assert "已生成举报登记表（第2版），取代此前各版。" in page
    first, second = CaseDocument.objects.filter(
        case=case, doc_type__code="registration_form"
    ).order_by("uploaded_at", "pk")
    casefile = section(page, "casefile")
    row = casefile[casefile.index("举报登记表") :].split("</tr>")[0]
    assert re.search(r'class="replaced">.*第1版 · 已被新版本取代', row, re.S)
    assert re.search(r'class="current">.*第2版 · 现行版本', row, re.S)
    assert "第2版（取代此前各版）" in storage.read(second).decode()
    assert "第2版" not in storage.read(first).decode()
    entry = AuditEntry.objects.filter(action="document.generated").order_by("id").last()
    assert entry.data["version"] == 2 and entry.data["replaces"] == str(first.pk)
    assert audit.verify()[0]


# --- deadlines --------------------------------------------------------------------------------


def test_deadlines_read_true(login, cast, investigating_case, freeze):
    case = investigating_case
    freeze(datetime(2026, 9, 30, 2, 0, tzinfo=UTC))
    services.find_unfounded(case.pk, cast["supervisor"], "查无实据")
    freeze(datetime(2026, 10, 9, 2, 0, tzinfo=UTC))
    services.give_feedback(case.pk, cast["supervisor"], "经核查未发现违法事实。")
    page = login(cast["supervisor"]).get(url(case)).content.decode()
    deadlines = section(page, "deadlines")
    rows = re.findall(r'<tr id="deadline-(\w+)"[^>]*><th>[^<]*</th><td>([^<]*)', deadlines)
    assert [key for key, _ in rows] == ["decision", "feedback", "archive"]
    dates = dict(rows)
    # The archive deadline is never shown before the feedback deadline.
    assert dates["feedback"].strip() == "2026-10-27" and dates["archive"].strip() == "2026-10-27"
    decision = deadlines.split('id="deadline-decision"')[1].split("</tr>")[0]
    assert "已按期完成，完成于2026-09-30" in decision
    feedback = deadlines.split('id="deadline-feedback"')[1].split("</tr>")[0]
    assert "已按期完成，完成于2026-10-09" in feedback
    archive = deadlines.split('id="deadline-archive"')[1].split("</tr>")[0]
    assert "完成" not in archive and "逾期" not in archive


def test_a_deadline_met_late_says_so(login, cast, investigating_case, freeze):
    case = investigating_case
    Case.objects.filter(pk=case.pk).update(decision_due=date(2026, 9, 1))
    freeze(datetime(2026, 9, 30, 2, 0, tzinfo=UTC))
    services.find_unfounded(case.pk, cast["supervisor"], "查无实据")
    page = login(cast["supervisor"]).get(url(case)).content.decode()
    decision = section(page, "deadlines").split('id="deadline-decision"')[1].split("</tr>")[0]
    assert "已逾期完成，完成于2026-09-30" in decision


# --- what the reporter is told of the case ------------------------------------------------------


def timeline(client, report) -> str:
    page = client.post("/receipt/", {"receipt": RECEIPTS[report.pk]}).content.decode()
    return section(page, "next-steps")


def test_the_reporter_sees_the_case_timeline(client, cast, report, units, freeze):
    freeze(datetime(2026, 9, 30, 2, 0, tzinfo=UTC))
    case = services.open_case(report.pk, cast["clerk"])
    text = timeline(client, report)
    assert "正在调查" not in text  # where it stands is the status line, said once
    assert "案件应在受理后90日内作出处理决定，即2026-12-29前。" in text

    services.extend_deadline(case.pk, cast["supervisor"], "等待鉴定结果")
    assert "处理决定的期限已延长至2027-01-28" in timeline(client, report)

    services.assign(
        case.pk, cast["supervisor"], unit_id=units["zs_fp"].pk, investigator=cast["investigator"]
    )
    services.start_investigation(case.pk, cast["investigator"])
    services.find_unfounded(case.pk, cast["supervisor"], "查无实据")
    assert "将于2026-10-27前告知您案件的处理结果。" in timeline(client, report)
    services.give_feedback(case.pk, cast["supervisor"], "经核查未发现违法事实。")
    assert "下方调查人员的留言会告诉您处理结果。" in timeline(client, report)


def test_the_reporter_is_told_how_a_penalized_case_leads_to_a_reward(client, cast, report, units):
    case = services.open_case(report.pk, cast["clerk"])
    services.assign(
        case.pk, cast["supervisor"], unit_id=units["zs_fp"].pk, investigator=cast["investigator"]
    )
    services.start_investigation(case.pk, cast["investigator"])
    file_docs(case, cast["investigator"], *BASE_DOCS, "penalty_decision")
    services.penalize(case.pk, cast["supervisor"], "罚款")
    assert "如果您的举报获批奖励，奖励及申领方式会显示在本页。" in timeline(client, report)

    from casework.rewards.models import Reward

    from ..rewards.helpers import step_up

    reward = Reward.objects.get(case=case)
    step_up(cast["leader"], reward)  # the supervisor proposed it (查处): the leader approves
    from casework.rewards import services as rewards

    rewards.approve(reward.pk, cast["leader"])
    reward.refresh_from_db()
    text = timeline(client, report)
    assert f"您获得3000.00元奖励：请在{reward.claim_due.isoformat()}前通过下方申领。" in text


def test_a_rejection_reads_with_a_full_width_colon(client, cast, report):
    services.reject_report(report.pk, cast["clerk"], "no_facts", "请补充具体地址。")
    page = client.post("/receipt/", {"receipt": RECEIPTS[report.pk]}).content.decode()
    assert "不予受理：无具体举报对象或违法事实" in page
    assert "不予受理:" not in page
