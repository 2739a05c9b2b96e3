"""Opening a new case for a report the system suggests as a repeat of an open case needs a
reason (a choice and a few words): refused without one with nothing changed, recorded in the
audit log with one, listed per township on the county's assessment page for review."""

import re

import pytest
from django.apps import apps

from casework.assessment import triage
from casework.audit_display import describe
from casework.models import AuditEntry, Case
from tipline.models import Report

from .conftest import make_report

pytestmark = pytest.mark.django_db

SUBJECT = {"subject_name": "李记诊所", "subject_address": "中水镇人民路8号"}


def counts():
    return {
        "rows": {
            m._meta.label: m.objects.count()
            for m in apps.get_models()
            if m._meta.app_label in ("casework", "assessment", "tipline", "notifications")
        },
        "audit": list(AuditEntry.objects.values_list("action", flat=True)),
    }


@pytest.fixture
def suggested(cast, township):
    """An open case of 李记诊所 and a new report of the same clinic (suggested as a repeat)."""
    target = triage.open_case(make_report(township, **SUBJECT).pk, cast["clerk"])
    report = make_report(township, subject_name="李记　诊所", subject_address="中水镇人民路８号")
    return target, report


def test_refused_without_a_reason_and_nothing_changes(suggested, cast):
    target, report = suggested
    before = counts()
    with pytest.raises(triage.RepeatReasonRequired) as refused:
        triage.open_case(report.pk, cast["clerk"])
    assert refused.value.field == "repeat_reason"
    assert refused.value.suggested == [target.number]
    assert target.number in str(refused.value)
    with pytest.raises(triage.RepeatReasonRequired) as refused:  # a choice, but no words
        triage.open_case(report.pk, cast["clerk"], repeat_reason="other_subject", repeat_note=" ")
    assert refused.value.field == "repeat_note"
    with pytest.raises(triage.RepeatReasonRequired):  # not one of the choices
        triage.open_case(
            report.pk, cast["clerk"], repeat_reason="because", repeat_note="不是同一家"
        )
    assert counts() == before
    report.refresh_from_db()
    assert (report.status, report.case_id) == (Report.Status.RECEIVED, None)


def test_with_a_reason_the_case_opens_and_the_reason_is_audited(suggested, cast):
    target, report = suggested
    case = triage.open_case(
        report.pk,
        cast["clerk"],
        repeat_reason="other_subject",
        repeat_note="同名诊所，另一家在西街",
    )
    report.refresh_from_db()
    assert report.case_id == case.pk and case.pk != target.pk
    entry = AuditEntry.objects.get(action="repeat.overridden")
    assert (entry.object_type, entry.object_id) == ("tipline.report", str(report.pk))
    assert entry.data == {
        "case": case.number,
        "suggested": [target.number],
        "reason": "other_subject",
        "note": "同名诊所，另一家在西街",
        "township": "zhongshui",
    }
    # In the audit log in words: the reason's label, not its code.
    [row] = describe([entry])
    fields = dict(row["fields"])
    assert "不同的被举报人或单位" in fields.values()
    assert "other_subject" not in fields.values()


def test_no_suggestion_no_reason_asked(cast, township):
    report = make_report(township, subject_name="某药店", subject_address="北街1号")
    case = triage.open_case(report.pk, cast["clerk"])
    assert Case.objects.get(pk=case.pk)
    assert not AuditEntry.objects.filter(action="repeat.overridden").exists()


def test_the_triage_page_asks_and_shows_the_error_at_its_field(suggested, cast, login):
    target, report = suggested
    client = login(cast["clerk"])
    html = client.get(f"/staff/reports/{report.pk}/").content.decode()
    assert 'id="repeat-reason"' in html and 'name="repeat_reason"' in html
    before = counts()
    response = client.post(
        f"/staff/reports/{report.pk}/open-case/", {"title": "李记诊所", "repeat_note": "另一家"}
    )
    assert response.status_code == 400
    html = response.content.decode()
    field = re.search(r'<div class="field has-error">.*?</div>', html, re.S).group(0)
    assert 'name="repeat_reason"' in field and target.number in field
    assert "另一家" in html  # what was typed is kept
    assert counts() == before
    response = client.post(
        f"/staff/reports/{report.pk}/open-case/",
        {"title": "李记诊所", "repeat_reason": "new_facts", "repeat_note": "另一次、另一时间"},
    )
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.case_id is not None and report.case_id != target.pk


def test_the_county_page_lists_them_per_township(suggested, cast, login, township):
    target, report = suggested
    case = triage.open_case(
        report.pk, cast["clerk"], repeat_reason="other_place", repeat_note="地址不同，另一分店"
    )
    html = login(cast["auditor"]).get("/staff/assessment/").content.decode()
    section = re.search(r'<section class="card" id="repeat-overrides">.*?</section>', html, re.S)
    section = section.group(0)
    assert 'data-township="zhongshui"' in section and "中水镇 (1)" in section
    row = re.search(rf'<tr data-report="{report.pk}">.*?</tr>', section, re.S).group(0)
    assert case.number in row and target.number in row
    assert "不同的地点或地址" in row and "地址不同，另一分店" in row
    # 西山镇's clerk does not see 中水镇's
    html = login(cast["other_clerk"]).get("/staff/assessment/").content.decode()
    assert str(report.pk) not in html
