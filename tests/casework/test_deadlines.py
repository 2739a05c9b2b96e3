"""Deadlines in working days (holidays skipped, make-up workdays counted) and calendar days."""

import logging
from datetime import UTC, date, datetime, timedelta

import chinese_calendar
import pytest
from django.utils import timezone, translation

from casework import services
from casework.models import AuditEntry, Case, State
from org import deadlines
from tipline import services as intake
from tipline.models import Category

from .conftest import new_report
from .test_workflow import BASE_DOCS, file_docs

# --- working days -----------------------------------------------------------------------


def test_2026_calendar_facts_the_tests_rely_on():
    # National Day 2026: 10-01..10-07 off; Sunday 09-20 and Saturday 10-10 are make-up workdays.
    for day in range(1, 8):
        assert not chinese_calendar.is_workday(date(2026, 10, day))
    assert date(2026, 9, 20).weekday() == 6 and chinese_calendar.is_workday(date(2026, 9, 20))
    assert date(2026, 10, 10).weekday() == 5 and chinese_calendar.is_workday(date(2026, 10, 10))
    assert not chinese_calendar.is_workday(date(2026, 10, 11))
    # Mid-autumn 2026: Friday 09-25 off.
    assert not chinese_calendar.is_workday(date(2026, 9, 25))


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        # Across National Day: 10-08, 10-09, 10-10 (make-up Saturday), 10-12 … 10-15.
        (date(2026, 9, 30), 7, date(2026, 10, 15)),
        (date(2026, 9, 30), 1, date(2026, 10, 8)),
        (date(2026, 9, 30), 3, date(2026, 10, 10)),  # the make-up Saturday itself
        (date(2026, 9, 30), 4, date(2026, 10, 12)),  # Sunday 10-11 is a rest day
        # Starting on a holiday: the first working day after it.
        (date(2026, 10, 3), 1, date(2026, 10, 8)),
        # Friday 09-18 then the make-up Sunday 09-20, then Monday.
        (date(2026, 9, 17), 1, date(2026, 9, 18)),
        (date(2026, 9, 17), 2, date(2026, 9, 20)),
        (date(2026, 9, 17), 3, date(2026, 9, 21)),
        # Mid-autumn: Friday 09-25 to Sunday 09-27 off.
        (date(2026, 9, 24), 1, date(2026, 9, 28)),
        # An ordinary week: Friday + 1 is Monday.
        (date(2026, 6, 5), 1, date(2026, 6, 8)),
        (date(2026, 6, 5), 0, date(2026, 6, 5)),
    ],
)
def test_add_working_days(start, days, expected):
    assert deadlines.add_working_days(start, days) == expected


def test_working_days_differ_from_plain_weekdays():
    """Guard: a Mon–Fri count would give 10-16 (holidays ignored would give 10-09)."""
    assert deadlines.add_working_days(date(2026, 9, 30), 7) != date(2026, 10, 16)
    assert deadlines.add_working_days(date(2026, 9, 30), 7) != date(2026, 10, 9)


def test_year_without_data_falls_back_to_weekdays(caplog):
    deadlines.is_workday.cache_clear()
    deadlines._warn_no_data.cache_clear()
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(date(2030, 10, 1))
    with caplog.at_level(logging.WARNING, logger="org.deadlines"):
        # 2030-09-30 is a Monday; Mon–Fri only, National Day not known.
        assert deadlines.add_working_days(date(2030, 9, 30), 7) == date(2030, 10, 9)
        assert deadlines.add_working_days(date(2030, 10, 4), 1) == date(2030, 10, 7)
    warnings = [r for r in caplog.records if "2030" in r.getMessage()]
    assert len(warnings) == 1  # warned once per year, not once per day


def test_calendar_days():
    assert deadlines.add_calendar_days(date(2026, 9, 30), 90) == date(2026, 12, 29)
    assert deadlines.due("decision", date(2026, 9, 30)) == date(2026, 12, 29)
    assert deadlines.due("extension", date(2026, 12, 29)) == date(2027, 1, 28)
    assert deadlines.due("acceptance", date(2026, 9, 30)) == date(2026, 10, 15)


def test_rules_follow_settings(settings):
    settings.TIPLINE_DEADLINES = {**settings.TIPLINE_DEADLINES, "acceptance": (3, "working")}
    assert deadlines.due("acceptance", date(2026, 9, 30)) == date(2026, 10, 10)
    settings.TIPLINE_DEADLINES = {**settings.TIPLINE_DEADLINES, "acceptance": (3, "calendar")}
    assert deadlines.due("acceptance", date(2026, 9, 30)) == date(2026, 10, 3)


# --- on reports and cases ---------------------------------------------------------------


@pytest.fixture
def freeze(monkeypatch):
    def _freeze(moment: datetime):
        monkeypatch.setattr(timezone, "now", lambda: moment)

    return _freeze


def report_received(township, moment):
    report, _receipt = intake.create_report(
        intake.ReportInput(
            category=Category.SEX_DETERMINATION, township_id=township.id, description="某诊所"
        ),
        received_at=moment,
    )
    return report


@pytest.mark.django_db
def test_report_acceptance_due_is_7_working_days(township):
    report = report_received(township, datetime(2026, 9, 30, 2, 0, tzinfo=UTC))
    assert report.acceptance_due == date(2026, 10, 15)


@pytest.mark.django_db
def test_acceptance_due_counts_from_the_beijing_date(township):
    # 2026-09-29 17:00 UTC is already 09-30 01:00 in Beijing.
    report = report_received(township, datetime(2026, 9, 29, 17, 0, tzinfo=UTC))
    assert report.acceptance_due == date(2026, 10, 15)
    report = report_received(township, datetime(2026, 9, 29, 15, 0, tzinfo=UTC))
    assert report.acceptance_due == date(2026, 10, 14)


@pytest.mark.django_db
def test_decision_due_is_90_calendar_days_after_acceptance(report, cast, freeze):
    freeze(datetime(2026, 9, 30, 2, 0, tzinfo=UTC))
    case = services.open_case(report.pk, cast["clerk"])
    assert case.decision_due == date(2026, 12, 29)
    stored = Case.objects.get(pk=case.pk)
    assert stored.decision_due == date(2026, 12, 29)
    assert stored.next_due == date(2026, 12, 29)


@pytest.mark.django_db
def test_extend_once_by_30_days_with_reason(case, cast):
    due = case.decision_due
    with translation.override("en"), pytest.raises(services.ServiceError, match="reason"):
        services.extend_deadline(case.pk, cast["supervisor"], "   ")
    with pytest.raises(services.NotAllowed):
        services.extend_deadline(case.pk, cast["investigator"], "需要补充调查")
    with pytest.raises(services.NotAllowed):
        services.extend_deadline(case.pk, cast["clerk"], "需要补充调查")
    assert Case.objects.get(pk=case.pk).extended_at is None

    services.extend_deadline(case.pk, cast["supervisor"], " 需要等待鉴定结果 ", "accepted")
    stored = Case.objects.get(pk=case.pk)
    assert stored.decision_due == due + timedelta(days=30)
    assert stored.next_due == stored.decision_due
    assert stored.extension_reason == "需要等待鉴定结果"
    assert stored.extended_at is not None
    entry = AuditEntry.objects.get(action="case.extended", object_id=str(case.pk))
    assert entry.actor == cast["supervisor"]
    assert entry.data["old_due"] == due.isoformat()
    assert entry.data["new_due"] == stored.decision_due.isoformat()
    assert "需要等待鉴定结果" in entry.data["reason"]

    with translation.override("en"), pytest.raises(services.ServiceError, match="already"):
        services.extend_deadline(case.pk, cast["supervisor"], "再延一次")
    assert Case.objects.get(pk=case.pk).decision_due == due + timedelta(days=30)
    assert AuditEntry.objects.filter(action="case.extended").count() == 1


@pytest.mark.django_db
def test_closed_case_cannot_be_extended(investigating_case, cast):
    services.find_unfounded(investigating_case.pk, cast["supervisor"], "查无实据")
    with pytest.raises(services.ServiceError):
        services.extend_deadline(investigating_case.pk, cast["supervisor"], "补充调查")
    assert Case.objects.get(pk=investigating_case.pk).extended_at is None


@pytest.mark.django_db
def test_closing_sets_feedback_and_archive_deadlines(investigating_case, cast, freeze):
    case = investigating_case
    freeze(datetime(2026, 9, 29, 20, 0, tzinfo=UTC))  # 2026-09-30 04:00 in Beijing
    services.find_unfounded(case.pk, cast["supervisor"], "查无实据")
    stored = Case.objects.get(pk=case.pk)
    assert stored.feedback_due == date(2026, 10, 27)  # 15 working days
    # 10 working days would be 10-20, before the reporters must be told: a case is archived
    # after they are told, so its archive deadline is the feedback deadline.
    assert stored.archive_due == date(2026, 10, 27)
    assert stored.next_due == date(2026, 10, 27)
    # Once the reporter is told and the case archived, nothing is due any more.
    services.give_feedback(case.pk, cast["supervisor"], "经核查未发现违法事实，感谢您的举报。")
    stored = Case.objects.get(pk=case.pk)
    assert stored.feedback_given_at is not None
    assert stored.next_due == date(2026, 10, 27)
    file_docs(stored, cast["investigator"], *BASE_DOCS, "closing_report")
    services.archive(case.pk, cast["supervisor"])
    assert Case.objects.get(pk=case.pk).next_due is None


@pytest.mark.django_db
def test_overdue_flags(investigating_case, cast):
    case = Case.objects.get(pk=investigating_case.pk)
    due = case.decision_due
    assert case.overdue_flags(today=due) == []
    assert case.overdue_flags(today=due + timedelta(days=1)) == ["decision"]

    services.find_unfounded(case.pk, cast["supervisor"], "查无实据")
    case = Case.objects.get(pk=case.pk)
    assert "decision" not in case.overdue_flags(today=due + timedelta(days=1))
    assert case.archive_due == case.feedback_due  # never before it
    assert case.overdue_flags(today=case.archive_due) == []
    assert case.overdue_flags(today=case.feedback_due + timedelta(days=1)) == [
        "feedback",
        "archive",
    ]
    services.give_feedback(case.pk, cast["supervisor"], "查无实据")
    case = Case.objects.get(pk=case.pk)
    assert case.overdue_flags(today=case.feedback_due + timedelta(days=1)) == ["archive"]
    file_docs(case, cast["investigator"], *BASE_DOCS, "closing_report")
    services.archive(case.pk, cast["supervisor"])
    case = Case.objects.get(pk=case.pk)
    assert case.state == State.ARCHIVED
    assert case.overdue_flags(today=case.feedback_due + timedelta(days=100)) == []


@pytest.mark.django_db
def test_case_list_puts_the_most_urgent_first(login, cast, township, freeze):
    def opened_on(moment):
        freeze(moment)
        return services.open_case(new_report(township).pk, cast["clerk"])

    late = opened_on(datetime(2026, 3, 1, 2, 0, tzinfo=UTC))  # due 2026-05-30
    early = opened_on(datetime(2026, 1, 15, 2, 0, tzinfo=UTC))  # due 2026-04-15
    middle = opened_on(datetime(2026, 2, 1, 2, 0, tzinfo=UTC))  # due 2026-05-02
    services.extend_deadline(early.pk, cast["supervisor"], "等待鉴定")  # → 2026-05-15
    freeze(datetime(2026, 5, 10, 2, 0, tzinfo=UTC))
    assert [c.pk for c in Case.objects.all()] == [middle.pk, early.pk, late.pk]

    client = login(cast["supervisor"])
    response = client.get("/staff/cases/")
    assert response.status_code == 200
    page = response.content.decode()
    table = page[page.index('id="case-list"') :]
    positions = [table.index(c.number) for c in (middle, early, late)]
    assert positions == sorted(positions)
    # On 2026-05-10 the case due 2026-05-02 is overdue, and flagged in the list.
    rows = response.context["rows"]
    assert [(c.pk, flags) for c, flags in rows] == [
        (middle.pk, ["decision"]),
        (early.pk, []),
        (late.pk, []),
    ]


@pytest.mark.django_db
def test_report_queue_orders_by_acceptance_due(login, cast, township):
    old = report_received(township, timezone.now() - timedelta(days=30))
    new = report_received(township, timezone.now())
    client = login(cast["clerk"])
    response = client.get("/staff/reports/")
    assert [r.pk for r in response.context["page"]] == [old.pk, new.pk]
    assert old.acceptance_due < timezone.localdate() <= new.acceptance_due
