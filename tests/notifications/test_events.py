"""Who hears of what: each change in the workflow records an event in its own transaction, and
the outbox turns it into notices for exactly the right people, once."""

import pytest
from django.db import transaction

from casework import identity, services
from notifications import outbox
from notifications.models import Delivery, Event, Preferences
from org import roles
from tipline import services as intake
from tipline.models import Category

from ..casework.test_workflow import BASE_DOCS, file_docs
from .conftest import inbox_of, make_staff, new_report, notices, run_outbox

pytestmark = pytest.mark.django_db


def recipients(kind, channel="inbox"):
    return sorted(
        notices(event__kind=kind, channel=channel).values_list("recipient__username", flat=True)
    )


def test_new_report_reaches_the_clerks_of_its_township_and_county(
    cast, units, township, mailoutbox
):
    county_clerk = make_staff("county_clerk", roles.CLERK, units["county_fp"])
    new_report(township)

    result = run_outbox()

    assert result.events == 1
    assert recipients("report.received") == sorted(["clerk", county_clerk.username])
    assert recipients("report.received", "email") == sorted(["clerk", county_clerk.username])
    assert sorted(m.to[0] for m in mailoutbox) == sorted([cast["clerk"].email, county_clerk.email])
    assert "xs_clerk" not in recipients("report.received")  # another township's clerk
    assert inbox_of(cast["investigator"]) == []


def test_the_event_commits_or_rolls_back_with_the_change(township):
    with pytest.raises(RuntimeError), transaction.atomic():
        new_report(township)
        assert Event.objects.filter(kind="report.received").count() == 1
        raise RuntimeError("the change fails after the event was recorded")
    assert not Event.objects.exists()


def test_running_the_outbox_twice_sends_nothing_more(cast, township, mailoutbox):
    new_report(township)
    run_outbox()
    sent = (Delivery.objects.count(), len(mailoutbox))

    again = run_outbox()

    assert (again.events, again.sent) == (0, 0)
    assert (Delivery.objects.count(), len(mailoutbox)) == sent == (2, 1)


def test_a_task_delivered_twice_sends_nothing_twice(cast, township, mailoutbox):
    from notifications.tasks import process_event

    new_report(township)
    event = Event.objects.get()

    assert process_event.apply(args=[event.pk]).get() == 1
    assert process_event.apply(args=[event.pk]).get() == 0

    assert len(mailoutbox) == 1
    assert Delivery.objects.filter(event=event).count() == 2  # inbox + e-mail


def test_a_report_dealt_with_before_the_notice_went_out_sends_nothing(cast, township, mailoutbox):
    report = new_report(township)
    services.open_case(report.pk, cast["clerk"])

    run_outbox()

    assert recipients("report.received") == []
    assert mailoutbox == []


def test_assignment_tells_the_investigator(cast, units, case, mailoutbox):
    run_outbox()
    mailoutbox.clear()

    services.assign(
        case.pk, cast["supervisor"], unit_id=units["zs_fp"].pk, investigator=cast["investigator"]
    )
    run_outbox()

    assert recipients("case.assigned") == ["investigator"]
    assert [m.to for m in mailoutbox] == [[cast["investigator"].email]]
    assert case.number in mailoutbox[0].subject


def test_reassigning_the_same_investigator_tells_nobody_again(cast, units, investigating_case):
    run_outbox()
    services.assign(
        investigating_case.pk,
        cast["supervisor"],
        unit_id=units["zs_fp"].pk,
        investigator=cast["investigator"],
    )
    run_outbox()
    assert recipients("case.assigned") == ["investigator"]


def test_penalty_decision_filed_by_the_investigator_awaits_the_supervisors(
    cast, investigating_case, mailoutbox
):
    case = investigating_case
    file_docs(case, cast["investigator"], *BASE_DOCS)
    run_outbox()
    assert recipients("case.awaiting_approval") == []  # nothing to approve yet

    file_docs(case, cast["investigator"], "penalty_decision")
    file_docs(case, cast["investigator"], "penalty_decision")  # filed twice: told once
    run_outbox()

    assert recipients("case.awaiting_approval") == ["supervisor"]
    notice = notices(event__kind="case.awaiting_approval", channel="inbox").get()
    assert case.number in notice.subject
    assert "查处" in notice.body
    assert notice.link == f"/staff/cases/{case.pk}/"


def test_a_supervisor_filing_it_themselves_is_not_told(cast, investigating_case):
    file_docs(investigating_case, cast["supervisor"], "penalty_decision")
    run_outbox()
    assert recipients("case.awaiting_approval") == []


def test_identity_request_reaches_the_custodians(cast, township):
    report = new_report(township, reporter_name="某人", reporter_phone="13800138000")
    identity.request_access(report, cast["investigator"], "需要当面核实举报的具体细节")
    run_outbox()
    assert recipients("identity.requested") == ["custodian"]


def test_an_identity_request_decided_meanwhile_sends_nothing(cast, township):
    report = new_report(township, reporter_name="某人", reporter_phone="13800138000")
    request = identity.request_access(report, cast["investigator"], "需要当面核实举报的具体细节")
    identity.decide(request.pk, cast["custodian"], True)
    run_outbox()
    assert recipients("identity.requested") == []


# --- reporters ---------------------------------------------------------------------------------

PHONE = "13912345678"


def reported(township, *, phone=PHONE, opted_in=True):
    report, _receipt = intake.create_report(
        intake.ReportInput(
            category=Category.SEX_DETERMINATION,
            township_id=township.id,
            description="某诊所鉴定胎儿性别",
            reporter_phone=phone,
            news_by_sms=opted_in,
        )
    )
    return report


def test_reporter_who_opted_in_gets_a_text_on_each_visible_change(cast, units, township, texts):
    report = reported(township)
    case = services.open_case(report.pk, cast["clerk"])  # accepted
    services.message_reporter(report.pk, cast["investigator"], "请问诊所的具体位置？")
    services.assign(
        case.pk, cast["supervisor"], unit_id=units["zs_fp"].pk, investigator=cast["investigator"]
    )
    services.start_investigation(case.pk, cast["investigator"])
    services.find_unfounded(case.pk, cast["supervisor"], "查无实据")
    services.give_feedback(case.pk, cast["supervisor"], "经核查未发现违法事实。")  # outcome
    rejected = reported(township)
    services.reject_report(rejected.pk, cast["clerk"], "no_facts", "")
    run_outbox()

    assert [phone for phone, _text in texts] == [PHONE] * 4
    for _phone, text in texts:
        assert text == (
            "有奖举报平台：您的举报有新消息，请凭回执到 "
            "https://jubao.example.gov.cn/receipt/ 查看。"
        )
    kinds = list(notices(channel="sms").values_list("event__kind", flat=True))
    assert kinds == ["reporter.news"] * 4
    assert all(n.reporter_of for n in notices(channel="sms"))


def test_no_text_without_opting_in(cast, township, texts):
    report = reported(township, opted_in=False)
    services.open_case(report.pk, cast["clerk"])
    run_outbox()
    assert texts == []
    assert not notices(channel="sms").exists()


def test_outcome_reaches_every_reporter_of_the_case_who_opted_in(cast, units, township, texts):
    first = reported(township, phone="13900000001")
    case = services.open_case(first.pk, cast["clerk"])
    second = reported(township, phone="13900000002")
    services.link_report(second.pk, case.pk, cast["clerk"])
    quiet = reported(township, phone="13900000003", opted_in=False)
    services.link_report(quiet.pk, case.pk, cast["clerk"])
    run_outbox()
    texts.clear()

    services.assign(
        case.pk, cast["supervisor"], unit_id=units["zs_fp"].pk, investigator=cast["investigator"]
    )
    services.start_investigation(case.pk, cast["investigator"])
    services.find_unfounded(case.pk, cast["supervisor"], "查无实据")
    services.give_feedback(case.pk, cast["supervisor"], "经核查未发现违法事实。")
    run_outbox()

    assert sorted(phone for phone, _text in texts) == ["13900000001", "13900000002"]


# --- preferences --------------------------------------------------------------------------------


def test_the_inbox_is_always_on_and_email_follows_the_choice(cast, township, mailoutbox):
    Preferences.objects.create(user=cast["clerk"], channels={"report.received": []})
    new_report(township)
    run_outbox()
    assert recipients("report.received") == ["clerk"]
    assert recipients("report.received", "email") == []
    assert mailoutbox == []


def test_texts_to_staff_who_chose_them(cast, township, texts, mailoutbox):
    Preferences.objects.create(
        user=cast["clerk"], channels={"report.received": ["sms"]}, mobile="13700000000"
    )
    new_report(township)
    run_outbox()
    assert [phone for phone, _ in texts] == ["13700000000"]
    assert texts[0][1].startswith(
        "中水镇有新举报待审核 https://jubao.example.gov.cn/staff/inbox/event/"
    )
    assert mailoutbox == []


def test_no_email_for_staff_without_an_address(cast, township, mailoutbox):
    cast["clerk"].email = ""
    cast["clerk"].save()
    new_report(township)
    run_outbox()
    assert recipients("report.received") == ["clerk"]
    assert recipients("report.received", "email") == []


def test_unknown_kind_is_refused_when_recorded(township):
    with pytest.raises(outbox.UnknownKind):
        outbox.record("report.recieved", township)
