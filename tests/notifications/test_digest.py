"""The daily digest: each staff member's list of what is due by Sunday, once a day, by e-mail."""

import io
from datetime import date

import pytest
from django.core.management import call_command

from casework import services
from notifications import digest
from notifications.models import Event, Preferences
from org import roles
from tipline import services as intake
from tipline.models import Category

from .conftest import make_staff, run_outbox

pytestmark = pytest.mark.django_db


def received(township, clock, *day):
    clock(*day, 10)
    report, _receipt = intake.create_report(
        intake.ReportInput(
            category=Category.SEX_DETERMINATION, township_id=township.id, description="某诊所"
        )
    )
    return report


@pytest.fixture
def week(cast, units, township, other_township, clock):
    """Seen on Wednesday 11-04 (the week ends Sunday 11-08):
    - report A, received Mon 10-26, to be accepted by Wed 11-04 (7 working days);
    - report B, received Thu 10-29, by Mon 11-09: next week;
    - a case accepted 08-06, decided within 90 days: by 11-04, assigned to the investigator;
    - a report of 西山镇, received 10-26, due 11-04: not 中水镇's business."""
    a = received(township, clock, 2026, 10, 26)
    b = received(township, clock, 2026, 10, 29)
    elsewhere = received(other_township, clock, 2026, 10, 26)
    c = received(township, clock, 2026, 8, 6)
    case = services.open_case(c.pk, cast["clerk"])
    services.assign(
        case.pk, cast["supervisor"], unit_id=units["zs_fp"].pk, investigator=cast["investigator"]
    )
    assert (a.acceptance_due, b.acceptance_due) == (date(2026, 11, 4), date(2026, 11, 9))
    assert elsewhere.acceptance_due == date(2026, 11, 4)
    assert case.decision_due == date(2026, 11, 4)
    assert digest.week_end(date(2026, 11, 4)) == date(2026, 11, 8)
    clock(2026, 11, 4, 7)
    return {"a": a, "case": case}


def references(user, today=date(2026, 11, 4)):
    return [(i.deadline, i.reference, i.due) for i in digest.items_for(user, today)]


def test_each_person_sees_what_is_theirs_this_week(cast, week):
    report_a = ("acceptance", "2026-10-26收到的举报", date(2026, 11, 4))
    case = ("decision", f"案件{week['case'].number}", date(2026, 11, 4))
    assert references(cast["clerk"]) == [report_a]  # the case is assigned: not the clerk's
    assert references(cast["investigator"]) == [case]
    assert references(cast["supervisor"]) == sorted(
        [report_a, ("acceptance", "2026-10-26收到的举报", date(2026, 11, 4)), case],
        key=lambda r: (r[2], r[1]),
    )  # county level: 中水镇 and 西山镇
    assert references(cast["other_clerk"]) == [
        ("acceptance", "2026-10-26收到的举报", date(2026, 11, 4))
    ]
    assert references(cast["finance"]) == references(cast["auditor"]) == []
    # A week later, A and the case are overdue and B is due: all listed, the late ones flagged.
    assert [r[2] for r in references(cast["clerk"], date(2026, 11, 11))] == [
        date(2026, 11, 4),
        date(2026, 11, 9),
    ]


def test_one_digest_a_day_by_email(cast, week, mailoutbox, clock):
    out = io.StringIO()
    run_outbox()  # the reports' own notices, out of the way
    mailoutbox.clear()
    call_command("send_digest", stdout=out)
    call_command("send_digest", stdout=io.StringIO())  # again the same day: nothing new
    run_outbox()

    digests = Event.objects.filter(kind="digest.daily")
    people = {cast[k].pk for k in ("clerk", "investigator", "supervisor", "other_clerk")}
    assert {int(e.object_id) for e in digests} == people
    assert out.getvalue().strip() == "Digest: 4 digests recorded."
    mail = next(m for m in mailoutbox if m.to == [cast["clerk"].email])
    assert mail.subject == "本周到期事项（2026-11-04）"
    assert "- 2026-11-04：2026-10-26收到的举报的受理决定" in mail.body
    assert "https://jubao.example.gov.cn/staff/" in mail.body
    assert len(mailoutbox) == 4  # e-mail only: nothing in the inbox
    assert not Event.objects.filter(kind="digest.daily", deliveries__channel="inbox").exists()

    clock(2026, 11, 5, 7)
    digest.record_digests()
    assert Event.objects.filter(kind="digest.daily").count() == 8


def test_no_digest_for_someone_who_turned_it_off(cast, week):
    Preferences.objects.create(user=cast["clerk"], channels={"digest.daily": []})
    digest.record_digests()
    assert not Event.objects.filter(kind="digest.daily", object_id=str(cast["clerk"].pk)).exists()


def test_no_digest_without_an_address_or_anything_due(cast, units, week):
    quiet = make_staff("quiet_investigator", roles.INVESTIGATOR, units["zs_fp"])
    cast["clerk"].email = ""
    cast["clerk"].save()
    digest.record_digests()
    recorded = set(Event.objects.filter(kind="digest.daily").values_list("object_id", flat=True))
    assert str(cast["clerk"].pk) not in recorded
    assert str(quiet.pk) not in recorded
