"""Deadline reminders and escalation, with a frozen clock across National Day 2026.

The 2026 calendar (pinned in tests/casework/test_deadlines.py): 10-01..10-07 are holidays,
Sunday 09-20 and Saturday 10-10 are make-up workdays, Friday 09-25 (Mid-autumn) is a holiday.
Reminders go out 3 working days before a deadline, on the day, and once it has passed; the
overdue reminder also escalates to the supervisors. Each only once.
"""

import io
from datetime import date, timedelta

import pytest
from django.core.management import call_command

from casework import services
from notifications import deadline_scan
from notifications.models import Delivery, Event
from org import deadlines
from tipline import services as intake
from tipline.models import Category

from ..casework.test_workflow import BASE_DOCS, file_docs
from .conftest import notices, run_outbox

pytestmark = pytest.mark.django_db


def received(township, clock, *day):
    clock(*day, 10)
    report, _receipt = intake.create_report(
        intake.ReportInput(
            category=Category.SEX_DETERMINATION, township_id=township.id, description="某诊所"
        )
    )
    return report


def scan_each_day(clock, first: date, last: date) -> dict[date, list[tuple[str, str]]]:
    """Run the scan twice a day (09:00 and 15:00) from first to last, delivering after each;
    return what was recorded on each day as (kind, deadline stage)."""
    seen = {}
    day = first
    while day <= last:
        for hour in (9, 15):
            clock(day.year, day.month, day.day, hour)
            before = set(Event.objects.values_list("pk", flat=True))
            deadline_scan.scan()
            run_outbox()
            new = Event.objects.exclude(pk__in=before).filter(kind__startswith="deadline.")
            if new.exists():
                seen.setdefault(day, []).extend(
                    (e.kind, e.data["deadline"]) for e in new.order_by("pk")
                )
        day += timedelta(days=1)
    return seen


def told(kind) -> list[str]:
    return sorted(
        notices(event__kind=kind, channel="inbox").values_list("recipient__username", flat=True)
    )


def test_acceptance_reminder_waits_out_the_holiday(cast, township, clock):
    """Received Thursday 09-24: 7 working days skip Mid-autumn (09-25) and National Day, so the
    decision is due Monday 10-12 (09-28, 09-29, 09-30, 10-08, 10-09, 10-10, 10-12). Three working
    days before 10-12 is 10-08 (10-10, 10-09, 10-08), the first day back: not during the holiday
    (counting Mon–Fri would say 10-07), nor 10-09 (three calendar days)."""
    report = received(township, clock, 2026, 9, 24)
    assert report.acceptance_due == date(2026, 10, 12)
    assert deadlines.subtract_working_days(date(2026, 10, 12), 3) == date(2026, 10, 8)

    seen = scan_each_day(clock, date(2026, 9, 24), date(2026, 10, 16))

    assert seen == {
        date(2026, 10, 8): [("deadline.soon", "acceptance")],
        date(2026, 10, 12): [("deadline.today", "acceptance")],
        date(2026, 10, 13): [
            ("deadline.overdue", "acceptance"),
            ("deadline.escalated", "acceptance"),
        ],
    }
    assert told("deadline.soon") == told("deadline.today") == told("deadline.overdue") == ["clerk"]
    assert told("deadline.escalated") == ["supervisor"]  # once, not every hour or day after


def test_a_make_up_saturday_is_a_reminder_day(cast, township, clock):
    """Received Tuesday 09-29: due Wednesday 10-14 (09-30, 10-08, 10-09, 10-10, 10-12, 10-13,
    10-14). Three working days before is Saturday 10-10, a make-up workday (10-13, 10-12,
    10-10): the reminder comes on that Saturday, not on Friday 10-09, and nothing on Sunday."""
    report = received(township, clock, 2026, 9, 29)
    assert report.acceptance_due == date(2026, 10, 14)

    seen = scan_each_day(clock, date(2026, 10, 9), date(2026, 10, 15))

    assert seen == {
        date(2026, 10, 10): [("deadline.soon", "acceptance")],
        date(2026, 10, 14): [("deadline.today", "acceptance")],
        date(2026, 10, 15): [
            ("deadline.overdue", "acceptance"),
            ("deadline.escalated", "acceptance"),
        ],
    }
    soon = notices(event__kind="deadline.soon", channel="inbox").get()
    assert "2026-10-14" in soon.subject and "受理决定" in soon.subject


def test_decision_deadline_and_its_extension_each_escalate_once(cast, units, township, clock):
    """Accepted 07-08: decided within 90 calendar days, by Tuesday 10-06 (a holiday). Three
    working days before: 09-28 (09-30, 09-29, 09-28). Overdue from 10-07. Extended on 10-08 by
    30 calendar days to Thursday 11-05: a new deadline, reminded on 11-02 (11-04, 11-03, 11-02)
    and escalated again once it passes."""
    report = received(township, clock, 2026, 7, 8)
    case = services.open_case(report.pk, cast["clerk"])
    services.assign(
        case.pk, cast["supervisor"], unit_id=units["zs_fp"].pk, investigator=cast["investigator"]
    )
    assert case.decision_due == date(2026, 10, 6)

    seen = scan_each_day(clock, date(2026, 9, 25), date(2026, 10, 8))
    clock(2026, 10, 8, 16)
    services.extend_deadline(case.pk, cast["supervisor"], "需要补充调查")
    case.refresh_from_db()
    assert case.decision_due == date(2026, 11, 5)
    seen.update(scan_each_day(clock, date(2026, 10, 9), date(2026, 11, 9)))

    decision = {
        day: [s for s in stages if s[1] == "decision"]
        for day, stages in seen.items()
        if any(s[1] == "decision" for s in stages)
    }
    assert decision == {
        date(2026, 9, 28): [("deadline.soon", "decision")],
        date(2026, 10, 6): [("deadline.today", "decision")],
        date(2026, 10, 7): [("deadline.overdue", "decision"), ("deadline.escalated", "decision")],
        date(2026, 11, 2): [("deadline.soon", "decision")],
        date(2026, 11, 5): [("deadline.today", "decision")],
        date(2026, 11, 6): [("deadline.overdue", "decision"), ("deadline.escalated", "decision")],
    }
    assert told("deadline.overdue") == ["investigator", "investigator"]  # the assignee
    assert told("deadline.escalated") == ["supervisor", "supervisor"]  # once per deadline
    escalation = notices(event__kind="deadline.escalated", channel="email").first()
    assert case.number in escalation.subject and "中水镇" in escalation.subject


def test_scanning_twice_sends_nothing_new(cast, township, clock, mailoutbox):
    received(township, clock, 2026, 9, 24)
    clock(2026, 10, 13, 9)  # overdue: reminder and escalation
    out = io.StringIO()
    call_command("scan_deadlines", stdout=out)
    assert out.getvalue().strip() == "Deadlines: 2 reminders recorded."
    run_outbox()
    before = (Event.objects.count(), Delivery.objects.count(), len(mailoutbox))
    # The report's own notice and two reminders; each to one person by inbox and e-mail.
    assert before == (3, 6, 3)

    clock(2026, 10, 13, 10)
    again = io.StringIO()
    call_command("scan_deadlines", stdout=again)
    run_outbox()

    assert again.getvalue().strip() == "Deadlines: 0 reminders recorded."
    assert (Event.objects.count(), Delivery.objects.count(), len(mailoutbox)) == before


def test_a_met_deadline_is_not_reminded(cast, township, clock):
    report = received(township, clock, 2026, 9, 24)
    clock(2026, 10, 9, 9)
    services.open_case(report.pk, cast["clerk"])  # accepted before its deadline

    seen = scan_each_day(clock, date(2026, 10, 9), date(2026, 10, 14))

    assert [s for stages in seen.values() for s in stages if s[1] == "acceptance"] == []


def test_a_reminder_not_yet_sent_when_the_deadline_is_met_is_dropped(cast, township, clock):
    report = received(township, clock, 2026, 9, 24)
    clock(2026, 10, 12, 9)
    deadline_scan.scan()  # "due today" recorded …
    services.open_case(report.pk, cast["clerk"])  # … and the report accepted before it went out

    run_outbox()

    assert Event.objects.filter(kind="deadline.today").exists()
    assert not notices(event__kind="deadline.today").exists()


def test_feedback_and_archive_deadlines_after_a_decision(cast, units, township, clock):
    """Penalized Monday 11-02: tell the reporter within 15 working days (11-23); archiving within
    10 (11-16) would fall before that, so the archive deadline is 11-23 too (a case is archived
    after the reporter is told). Both: reminded 11-18 (11-20, 11-19, 11-18), due 11-23, overdue
    11-24."""
    report = received(township, clock, 2026, 10, 26)
    case = services.open_case(report.pk, cast["clerk"])
    services.assign(
        case.pk, cast["supervisor"], unit_id=units["zs_fp"].pk, investigator=cast["investigator"]
    )
    services.start_investigation(case.pk, cast["investigator"])
    file_docs(case, cast["investigator"], *BASE_DOCS, "penalty_decision")
    clock(2026, 11, 2, 10)
    services.penalize(case.pk, cast["supervisor"], "罚款三万元")
    case.refresh_from_db()
    assert (case.feedback_due, case.archive_due) == (date(2026, 11, 23), date(2026, 11, 23))

    seen = scan_each_day(clock, date(2026, 11, 2), date(2026, 11, 24))

    both = {"archive", "feedback"}
    assert sorted(seen) == [date(2026, 11, 18), date(2026, 11, 23), date(2026, 11, 24)]
    assert sorted(seen[date(2026, 11, 18)]) == [("deadline.soon", d) for d in sorted(both)]
    assert sorted(seen[date(2026, 11, 23)]) == [("deadline.today", d) for d in sorted(both)]
    assert sorted(seen[date(2026, 11, 24)]) == sorted(
        [("deadline.overdue", d) for d in both] + [("deadline.escalated", d) for d in both]
    )
    assert set(told("deadline.overdue")) == {"investigator"}


def test_a_registered_rule_is_scanned_too(cast, township, clock):
    """The extension point for other deadlines (the reward claim, once rewards exist)."""
    from notifications.outbox import reporters

    report = received(township, clock, 2026, 9, 24)
    rule = deadline_scan.DeadlineRule(
        name="test_claim",
        label="claim",
        items=lambda horizon: [(report, date(2026, 10, 20))],
        current_due=lambda event: date(2026, 10, 20),
        assignees=reporters,
        notice_working_days=5,
        kinds={"soon": "reward.lapsing"},  # reporters hear 5 working days before, nothing else
        township=lambda obj: obj.township_id,
    )
    deadline_scan.register(rule)
    try:
        clock(2026, 10, 13, 9)  # 10-20 minus 5 working days is 10-13
        deadline_scan.scan()
        clock(2026, 10, 21, 9)
        deadline_scan.scan()
    finally:
        deadline_scan.RULES.pop("test_claim")
    kinds = list(
        Event.objects.filter(data__deadline="test_claim").values_list("kind", "data__stage")
    )
    assert kinds == [("reward.lapsing", "soon")]
    assert Event.objects.get(data__deadline="test_claim").township_id == township.pk
