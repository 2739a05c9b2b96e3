"""Inbox notices whose task is done are settled (read, marked done) by the kind's rule, whoever
did the task: the clerk's notice of a new report and its deadline reminder once the report is
triaged, while the notices of a report still waiting stay unread."""

from datetime import date

import pytest

from casework import services
from notifications import deadline_scan

from .conftest import notices, run_outbox
from .test_deadlines import received

pytestmark = pytest.mark.django_db


def test_a_triaged_report_settles_its_notice_and_its_reminder(cast, township, clock):
    triaged = received(township, clock, 2026, 9, 24)  # acceptance due 10-12
    waiting = received(township, clock, 2026, 9, 24)
    assert triaged.acceptance_due == waiting.acceptance_due == date(2026, 10, 12)
    clock(2026, 10, 8, 9)  # three working days before: the reminders
    deadline_scan.scan()
    run_outbox()
    clerk = notices(recipient=cast["clerk"], channel="inbox")
    assert clerk.count() == 4 and not clerk.filter(read_at__isnull=False).exists()

    clock(2026, 10, 9, 9)
    services.reject_report(triaged.pk, cast["clerk"], "no_facts", "")
    run_outbox()

    done = clerk.filter(event__object_id=str(triaged.pk))
    kinds = sorted(done.values_list("event__kind", flat=True))
    assert kinds == ["deadline.soon", "report.received"]
    assert not done.filter(done_at__isnull=True).exists()
    assert not done.filter(read_at__isnull=True).exists()
    still = clerk.filter(event__object_id=str(waiting.pk))
    assert still.count() == 2 and not still.filter(read_at__isnull=False).exists()
