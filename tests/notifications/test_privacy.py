"""Nothing that leaves the system (e-mail, text message) carries a reporter's identity, a receipt,
a subject's name or what a report says: only a reference and a link.

A whole case is run with planted values in every field a citizen or an investigator can fill,
every kind of notice is produced (new report, assignment, approval awaited, identity request,
reminders, escalation, digest, reporter news), and every e-mail, text, stored notice, event and
log line is scanned. The scan is first shown to find a planted value, and the mail and texts to
have really been sent.
"""

import json
import logging

import pytest

from casework import identity, services
from notifications import deadline_scan, digest
from notifications.models import Delivery, Event
from tipline import services as intake
from tipline.models import Category

from ..casework.test_workflow import BASE_DOCS, file_docs
from ..tipline.helpers import VALID_ID
from .conftest import run_outbox

pytestmark = pytest.mark.django_db

NAME = "REPORTER-NAME-欧阳明月"
PHONE = "13912345678"
SUBJECT_NAME = "SUBJECT-NAME-东头诊所"
SUBJECT_ADDRESS = "SUBJECT-ADDRESS-中水镇东街12号"
SUBJECT_PHONE = "13598765432"
DESCRIPTION = "DESCRIPTION-MARKER 周三下午用B超查胎儿性别"
QUESTION = "QUESTION-MARKER 请问诊所几点开门？"
OUTCOME = "OUTCOME-MARKER 罚款三万元"
FEEDBACK = "FEEDBACK-MARKER 已依法查处"
REASON = "REASON-MARKER 需要当面核实举报的具体细节"


def leaks(text: str, secrets) -> list[str]:
    return [s for s in secrets if s in text]


def file_report(township, **extra):
    return intake.create_report(
        intake.ReportInput(
            category=Category.SEX_DETERMINATION,
            township_id=township.id,
            description=DESCRIPTION,
            subject_name=SUBJECT_NAME,
            subject_address=SUBJECT_ADDRESS,
            subject_phone=SUBJECT_PHONE,
            reporter_name=NAME,
            reporter_phone=PHONE,
            reporter_id_number=VALID_ID,
            news_by_sms=True,
            **extra,
        )
    )


def test_no_message_leaving_the_system_carries_what_it_must_not(
    cast, units, township, clock, mailoutbox, texts, caplog
):
    caplog.set_level(logging.DEBUG)
    clock(2026, 11, 2, 9)
    report, receipt = file_report(township)
    _waiting, waiting_receipt = file_report(township)  # left untriaged: reminded, escalated
    case = services.open_case(report.pk, cast["clerk"])  # its summary is the report's text
    services.assign(
        case.pk, cast["supervisor"], unit_id=units["zs_fp"].pk, investigator=cast["investigator"]
    )
    services.start_investigation(case.pk, cast["investigator"])
    services.message_reporter(report.pk, cast["investigator"], QUESTION)
    identity.request_access(report, cast["investigator"], REASON)
    file_docs(case, cast["investigator"], *BASE_DOCS, "penalty_decision")  # 查处 awaits approval
    run_outbox()  # as a worker would, before the supervisor acts
    cast["leader"]  # who is asked to approve the reward the supervisor proposes at 查处
    services.penalize(case.pk, cast["supervisor"], OUTCOME)
    services.give_feedback(case.pk, cast["supervisor"], FEEDBACK)
    clock(2026, 11, 24, 9)  # acceptance (11-11) and archive (11-23) deadlines have passed
    deadline_scan.scan()
    digest.record_digests()
    run_outbox()

    secrets = [
        NAME,
        PHONE,
        VALID_ID,
        receipt,
        waiting_receipt,
        SUBJECT_NAME,
        SUBJECT_ADDRESS,
        SUBJECT_PHONE,
        DESCRIPTION,
        "DESCRIPTION-MARKER",
        "B超",
        QUESTION,
        OUTCOME,
        FEEDBACK,
        REASON,
        "MARKER",
    ]
    # The scan finds a planted value …
    assert leaks(f"邮件正文 {NAME} 结束", secrets) == [NAME]
    assert leaks(json.dumps({"x": SUBJECT_PHONE}), secrets) == [SUBJECT_PHONE]
    # … and every kind of notice was really produced and sent.
    kinds = set(Event.objects.values_list("kind", flat=True))
    assert kinds >= {
        "report.received",
        "case.assigned",
        "case.awaiting_approval",
        "identity.requested",
        "reporter.news",
        "deadline.overdue",
        "deadline.escalated",
        "digest.daily",
    }
    assert not Delivery.objects.exclude(status="sent").exists()
    mailed = {d.event.kind for d in Delivery.objects.filter(channel="email")}
    assert mailed >= kinds - {"reporter.news"}
    assert len(mailoutbox) == Delivery.objects.filter(channel="email").count() >= 10
    # Texts to the reporter of each report: accepted, question, outcome (the reporter of the
    # waiting report heard nothing yet). Their number is the destination, never in the text.
    assert [phone for phone, _text in texts] == [PHONE] * 3

    for message in mailoutbox:
        raw = message.message().as_bytes().decode("utf-8", errors="replace")
        text = "\n".join([message.subject, message.body, raw, repr(message.attachments)])
        assert leaks(text, secrets) == [], f"e-mail {message.subject!r}"
        assert "https://jubao.example.gov.cn/staff/" in message.body  # a link, and only that
    for _phone, text in texts:
        assert leaks(text, secrets) == []
    for row in Delivery.objects.all():
        stored = " ".join([row.subject, row.body, row.link, row.last_error])
        assert leaks(stored, secrets) == [], f"stored notice {row.pk}"
    for event in Event.objects.all():
        assert leaks(json.dumps(event.data, ensure_ascii=False), secrets) == []
    logged = caplog.text + "".join(repr(vars(r)) for r in caplog.records)
    assert leaks(logged, secrets) == []
    assert case.title.startswith("DESCRIPTION-MARKER")  # the case summary was a trap to avoid
