"""The case state machine, driven through casework.services and through the staff views.

受理 accepted → 调查 investigating → 查处 penalized → 奖励 rewarded → 结案归档 archived,
with the side paths 查无实据 unfounded and 移送 transferred. Every step goes through one
service function that checks permission and preconditions and writes exactly one
`case.transition` audit entry in the same transaction as the change.

Known limit (documented, not tested as a feature): `Case.objects.filter(...).update(state=...)`
writes the column directly and bypasses django-fsm, the services and the audit log. Only code
review keeps it out of the application; these tests cover the paths the application uses.
"""

import functools
import io
from datetime import UTC, date, datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone, translation
from django.utils.html import escape
from django_fsm import ConcurrentTransition, TransitionNotAllowed
from pypdf import PdfWriter

from casework import audit, services
from casework.models import AuditEntry, Case, DocumentType, State
from org import deadlines
from tipline import services as intake
from tipline.attachments import sanitize
from tipline.models import Channel, Report, ReportMessage

from ..rewards.helpers import pay_out, waive
from .conftest import new_report

pytestmark = pytest.mark.django_db

BASE_DOCS = (
    "registration_form",
    "acceptance_approval",
    "interview_record",
    "inspection_record",
    "evidence",
)


def pdf_bytes() -> bytes:
    buf = io.BytesIO()
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.write(buf)
    return buf.getvalue()


def file_docs(case, user, *codes):
    """File documents into the case through the services (generated or uploaded PDFs)."""
    for code in codes:
        doc_type = DocumentType.objects.get(code=code)
        if doc_type.generated:
            services.generate_registration_form(case.pk, user)
        else:
            clean = sanitize(pdf_bytes(), max_bytes=1_000_000)
            services.add_document(case.pk, user, doc_type, clean, title=code)


def transitions_of(case):
    return list(
        AuditEntry.objects.filter(
            action="case.transition", object_type="casework.case", object_id=str(case.pk)
        ).order_by("id")
    )


def fresh(case) -> Case:
    return Case.objects.get(pk=case.pk)


@pytest.fixture
def freeze(monkeypatch):
    """Fix timezone.now() (services and intake read it) at an aware datetime."""

    def _freeze(moment: datetime):
        monkeypatch.setattr(timezone, "now", lambda: moment)

    return _freeze


@pytest.fixture
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def penalized_case(investigating_case, cast):
    file_docs(investigating_case, cast["investigator"], "penalty_decision")
    return services.penalize(investigating_case.pk, cast["supervisor"], "罚款两万元")


@pytest.fixture
def rewarded_case(penalized_case, cast):
    """奖励: the reward proposed at 查处 is approved, claimed and paid (casework/rewards)."""
    pay_out(penalized_case, cast)
    return fresh(penalized_case)


# --- accepted → investigating -------------------------------------------------------------


def test_start_investigation_refused_without_team(case, cast, units, english):
    with pytest.raises(services.ServiceError, match="Assign a unit and an investigator first"):
        services.start_investigation(case.pk, cast["supervisor"])
    # A unit alone is not enough either.
    services.assign(case.pk, cast["clerk"], unit_id=units["zs_fp"].pk, investigator=None)
    with pytest.raises(services.ServiceError, match="Assign a unit and an investigator first"):
        services.start_investigation(case.pk, cast["supervisor"], expected_state="accepted")
    assert fresh(case).state == State.ACCEPTED
    assert transitions_of(case) == []


def test_start_investigation_needs_investigate_permission(case, cast, units):
    services.assign(
        case.pk, cast["clerk"], unit_id=units["zs_fp"].pk, investigator=cast["investigator"]
    )
    with pytest.raises(services.NotAllowed):
        services.start_investigation(case.pk, cast["clerk"])
    assert fresh(case).state == State.ACCEPTED


def test_start_investigation_records_one_transition(case, cast, units):
    services.assign(
        case.pk, cast["clerk"], unit_id=units["zs_fp"].pk, investigator=cast["investigator"]
    )
    services.start_investigation(case.pk, cast["investigator"], expected_state="accepted")
    assert fresh(case).state == State.INVESTIGATING
    [entry] = transitions_of(case)
    assert entry.actor == cast["investigator"]
    assert entry.data == {
        "transition": "start_investigation",
        "source": "accepted",
        "target": "investigating",
    }


# --- investigating → penalized ------------------------------------------------------------


def test_penalize_refused_without_penalty_decision(investigating_case, cast, english):
    case = investigating_case
    with pytest.raises(services.ServiceError, match="penalty decision document"):
        services.penalize(case.pk, cast["supervisor"], "罚款", expected_state="investigating")
    stored = fresh(case)
    assert stored.state == State.INVESTIGATING
    # The outcome entered with the refused step is not saved either.
    assert stored.outcome == ""
    assert stored.closed_at is None
    assert len(transitions_of(case)) == 1  # only accepted → investigating


def test_penalize_refused_for_investigator(investigating_case, cast):
    case = investigating_case
    file_docs(case, cast["investigator"], "penalty_decision")
    for who in ("investigator", "clerk"):
        with pytest.raises(services.NotAllowed):
            services.penalize(case.pk, cast[who], "罚款", expected_state="investigating")
    assert fresh(case).state == State.INVESTIGATING
    assert len(transitions_of(case)) == 1


def test_penalize_needs_an_outcome(investigating_case, cast):
    file_docs(investigating_case, cast["investigator"], "penalty_decision")
    with pytest.raises(services.ServiceError):
        services.penalize(investigating_case.pk, cast["supervisor"], "   ")
    assert fresh(investigating_case).state == State.INVESTIGATING


def test_supervisor_penalizes_and_deadlines_start(investigating_case, cast, freeze):
    case = investigating_case
    file_docs(case, cast["investigator"], "penalty_decision")
    moment = datetime(2026, 9, 30, 2, 0, tzinfo=UTC)  # 10:00 in Beijing
    freeze(moment)
    services.penalize(case.pk, cast["supervisor"], " 没收违法所得，罚款三万元。 ", "investigating")
    stored = fresh(case)
    assert stored.state == State.PENALIZED
    assert stored.approved_by == cast["supervisor"]
    assert stored.penalized_at == moment
    assert stored.closed_at == moment
    assert stored.outcome == "没收违法所得，罚款三万元。"
    # 15 working days after 2026-09-30, across the National Day holidays; archiving (10
    # working days: 10-20) is due no earlier than telling the reporters.
    assert stored.feedback_due == date(2026, 10, 27)
    assert stored.archive_due == date(2026, 10, 27)
    assert stored.next_due == date(2026, 10, 27)
    entry = transitions_of(case)[-1]
    assert entry.actor == cast["supervisor"]
    assert (entry.data["source"], entry.data["target"]) == ("investigating", "penalized")


# --- penalized → rewarded → archived -----------------------------------------------------


def test_reward_step_is_taken_only_by_the_payment(penalized_case, cast, english):
    """奖励 is no button: the supervisor lacks the permission, finance is told the reward is paid
    on the rewards pages, and paying the reward takes the step, as the paying user."""
    case = penalized_case
    with pytest.raises(services.NotAllowed):
        services.take_step(case.pk, cast["supervisor"], "reward", expected_state="penalized")
    with pytest.raises(services.ServiceError, match="paid by finance"):
        services.take_step(case.pk, cast["finance"], "reward", expected_state="penalized")
    assert fresh(case).state == State.PENALIZED
    pay_out(case, cast)
    stored = fresh(case)
    assert stored.state == State.REWARDED
    assert stored.rewarded_at is not None
    entry = transitions_of(case)[-1]
    assert (entry.data["source"], entry.data["target"]) == ("penalized", "rewarded")
    assert entry.actor == cast["finance"]


def test_archive_refused_while_file_incomplete_then_allowed(rewarded_case, cast, township):
    case = rewarded_case
    second = new_report(township, description="同一诊所再次被举报")
    # A repeat report can still be linked while the case is open.
    services.link_report(second.pk, case.pk, cast["clerk"])
    with translation.override("en"), pytest.raises(services.ServiceError, match="incomplete"):
        services.archive(case.pk, cast["supervisor"], expected_state="rewarded")
    assert fresh(case).state == State.REWARDED
    assert set(Report.objects.filter(case=case).values_list("status", flat=True)) == {"accepted"}

    file_docs(case, cast["investigator"], *BASE_DOCS, "service_receipt", "closing_report")
    with pytest.raises(services.NotAllowed):
        services.archive(case.pk, cast["investigator"], expected_state="rewarded")
    n_transitions = len(transitions_of(case))
    services.archive(case.pk, cast["supervisor"], expected_state="rewarded")
    stored = fresh(case)
    assert stored.state == State.ARCHIVED
    assert stored.archived_at is not None
    assert set(Report.objects.filter(case=case).values_list("status", flat=True)) == {"closed"}
    assert Report.objects.filter(case=case).count() == 2
    assert len(transitions_of(case)) == n_transitions + 1
    # An archived file is closed for good.
    with pytest.raises(services.ServiceError):
        file_docs(case, cast["investigator"], "evidence")


# --- side paths -----------------------------------------------------------------------------


def test_unfounded_then_archived(investigating_case, cast):
    case = investigating_case
    with pytest.raises(services.ServiceError):
        services.find_unfounded(case.pk, cast["supervisor"], "", expected_state="investigating")
    with pytest.raises(services.NotAllowed):
        services.find_unfounded(case.pk, cast["investigator"], "查无实据")
    services.find_unfounded(case.pk, cast["supervisor"], "经核查未发现违法事实", "investigating")
    stored = fresh(case)
    assert stored.state == State.UNFOUNDED
    assert stored.closed_at is not None and stored.feedback_due and stored.archive_due
    assert stored.penalized_at is None and stored.approved_by is None
    with pytest.raises(services.ServiceError):
        services.archive(case.pk, cast["supervisor"], expected_state="unfounded")
    # No penalty decision is required for an unfounded case; the closing report is.
    file_docs(case, cast["investigator"], *BASE_DOCS)
    with pytest.raises(services.ServiceError):
        services.archive(case.pk, cast["supervisor"], expected_state="unfounded")
    file_docs(case, cast["investigator"], "closing_report")
    services.archive(case.pk, cast["supervisor"], expected_state="unfounded")
    assert fresh(case).state == State.ARCHIVED
    assert [(e.data["source"], e.data["target"]) for e in transitions_of(case)] == [
        ("accepted", "investigating"),
        ("investigating", "unfounded"),
        ("unfounded", "archived"),
    ]


@pytest.mark.parametrize(
    ("receiving_unit", "on"), [("", date(2026, 3, 2)), ("县公安局", None), ("  ", None)]
)
def test_transfer_needs_receiving_unit_and_date(investigating_case, cast, receiving_unit, on):
    with translation.override("en"), pytest.raises(services.ServiceError, match="receiving unit"):
        services.transfer(investigating_case.pk, cast["supervisor"], receiving_unit, on)
    assert fresh(investigating_case).state == State.INVESTIGATING
    assert len(transitions_of(investigating_case)) == 1


def test_transfer_then_penalized(investigating_case, cast):
    case = investigating_case
    with pytest.raises(services.NotAllowed):
        services.transfer(case.pk, cast["investigator"], "县公安局", date(2026, 3, 2))
    services.transfer(case.pk, cast["supervisor"], "县公安局刑侦大队", date(2026, 3, 2))
    stored = fresh(case)
    assert stored.state == State.TRANSFERRED
    assert (stored.transfer_unit, stored.transferred_on) == ("县公安局刑侦大队", date(2026, 3, 2))
    closed_at = stored.closed_at
    assert closed_at is not None
    entry = transitions_of(case)[-1]
    assert entry.data["receiving_unit"] == "县公安局刑侦大队"
    assert entry.data["transferred_on"] == "2026-03-02"

    with pytest.raises(services.ServiceError):
        services.penalize(case.pk, cast["supervisor"], "罚款", expected_state="transferred")
    file_docs(case, cast["investigator"], "penalty_decision")
    services.penalize(case.pk, cast["supervisor"], "罚款", expected_state="transferred")
    stored = fresh(case)
    assert stored.state == State.PENALIZED
    assert stored.approved_by == cast["supervisor"]
    assert stored.closed_at == closed_at  # closed when transferred; not reset
    assert transitions_of(case)[-1].data["source"] == "transferred"


def test_transfer_then_archived(investigating_case, cast):
    case = investigating_case
    services.transfer(case.pk, cast["supervisor"], "县公安局", date(2026, 3, 2))
    file_docs(case, cast["investigator"], *BASE_DOCS, "closing_report")
    # 移送 proposed the reward: the case waits for it to be settled.
    with translation.override("en"), pytest.raises(services.ServiceError, match="reward"):
        services.archive(case.pk, cast["supervisor"], expected_state="transferred")
    waive(case, cast)
    services.archive(case.pk, cast["supervisor"], expected_state="transferred")
    assert fresh(case).state == State.ARCHIVED
    assert [e.data["target"] for e in transitions_of(case)] == [
        "investigating",
        "transferred",
        "archived",
    ]


@pytest.mark.parametrize(
    ("step", "kwargs"),
    [
        (services.penalize, {"outcome": "罚款"}),
        (services.find_unfounded, {"outcome": "无"}),
        (functools.partial(services.take_step, name="reward"), {}),
        (services.archive, {}),
    ],
)
def test_steps_not_possible_from_accepted(case, cast, step, kwargs):
    file_docs(case, cast["supervisor"], "penalty_decision", "reward_approval")
    with translation.override("en"), pytest.raises(services.ServiceError, match="not possible"):
        step(case.pk, cast["supervisor"], expected_state="accepted", **kwargs)
    assert fresh(case).state == State.ACCEPTED
    assert transitions_of(case) == []


def test_every_step_writes_exactly_one_transition_entry(rewarded_case, cast):
    case = rewarded_case
    file_docs(case, cast["investigator"], *BASE_DOCS, "service_receipt", "closing_report")
    services.archive(case.pk, cast["supervisor"])
    entries = transitions_of(case)
    assert [(e.data["transition"], e.data["source"], e.data["target"]) for e in entries] == [
        ("start_investigation", "accepted", "investigating"),
        ("penalize", "investigating", "penalized"),
        ("reward", "penalized", "rewarded"),
        ("archive", "rewarded", "archived"),
    ]
    assert [e.actor for e in entries] == [
        cast["investigator"],
        cast["supervisor"],
        cast["finance"],  # paying the reward takes the case to 奖励
        cast["supervisor"],
    ]
    assert audit.verify()[0]


def test_failed_audit_write_rolls_the_transition_back(case, cast, units, monkeypatch):
    services.assign(
        case.pk, cast["clerk"], unit_id=units["zs_fp"].pk, investigator=cast["investigator"]
    )
    before = AuditEntry.objects.count()
    real_record = audit.record

    def failing_record(actor, action, *args, **kwargs):
        if action == "case.transition":
            raise RuntimeError("disk full")
        return real_record(actor, action, *args, **kwargs)

    monkeypatch.setattr(audit, "record", failing_record)
    with pytest.raises(RuntimeError):
        services.start_investigation(case.pk, cast["investigator"])
    assert fresh(case).state == State.ACCEPTED
    assert AuditEntry.objects.count() == before
    monkeypatch.undo()
    assert audit.verify()[0]


# --- protected state and compare-and-set --------------------------------------------------


def test_state_cannot_be_assigned_directly(case):
    loaded = fresh(case)
    with pytest.raises(AttributeError):
        loaded.state = State.PENALIZED
    with pytest.raises(AttributeError):
        case.state = State.ARCHIVED
    assert fresh(case).state == State.ACCEPTED


def test_model_transition_still_checks_conditions(investigating_case):
    loaded = fresh(investigating_case)
    with pytest.raises(TransitionNotAllowed):
        loaded.penalize()  # no penalty decision filed
    with pytest.raises(TransitionNotAllowed):
        loaded.archive()  # file incomplete
    assert fresh(investigating_case).state == State.INVESTIGATING


def test_stale_instance_cannot_save_over_a_newer_state(case, cast, units):
    services.assign(
        case.pk, cast["clerk"], unit_id=units["zs_fp"].pk, investigator=cast["investigator"]
    )
    stale = fresh(case)
    services.start_investigation(case.pk, cast["investigator"])
    services.find_unfounded(case.pk, cast["supervisor"], "查无实据")
    stale.start_investigation()
    with pytest.raises(ConcurrentTransition), transaction.atomic():
        stale.save()
    assert fresh(case).state == State.UNFOUNDED


def test_stale_expected_state_raises_case_changed(case, cast, units, english):
    services.assign(
        case.pk, cast["clerk"], unit_id=units["zs_fp"].pk, investigator=cast["investigator"]
    )
    services.start_investigation(case.pk, cast["investigator"], expected_state="accepted")
    n_entries = AuditEntry.objects.count()
    with pytest.raises(services.CaseChanged, match="changed by someone else"):
        services.start_investigation(case.pk, cast["investigator"], expected_state="accepted")
    with pytest.raises(services.CaseChanged, match="changed by someone else"):
        services.find_unfounded(case.pk, cast["supervisor"], "无", expected_state="accepted")
    with pytest.raises(services.CaseChanged):
        services.assign(
            case.pk,
            cast["clerk"],
            unit_id=units["zs_fp"].pk,
            investigator=cast["supervisor"],
            expected_state="accepted",
        )
    with pytest.raises(services.CaseChanged):
        services.extend_deadline(case.pk, cast["supervisor"], "需要补充调查", "accepted")
    stored = fresh(case)
    assert stored.state == State.INVESTIGATING
    assert stored.investigator == cast["investigator"]
    assert stored.extended_at is None
    assert AuditEntry.objects.count() == n_entries


# --- triage ---------------------------------------------------------------------------------


def test_reject_report_tells_the_reporter(report, cast):
    services.reject_report(report.pk, cast["clerk"], "no_facts", "请补充具体地址。")
    report.refresh_from_db()
    assert report.status == Report.Status.REJECTED
    assert report.rejection_reason == "no_facts"
    assert report.triaged_by == cast["clerk"]
    assert report.case is None
    view = intake.reporter_view(report)
    assert view["status"] == "rejected"
    [message] = view["messages"]
    assert message["from"] == ReportMessage.Author.STAFF
    assert str(Report._meta.get_field("rejection_reason").choices[0][1]) in message["body"]
    assert "请补充具体地址。" in message["body"]
    entry = AuditEntry.objects.get(action="report.rejected", object_id=str(report.pk))
    assert entry.actor == cast["clerk"]
    assert entry.data == {"reason": "no_facts"}


def test_reject_needs_triage_permission(report, cast):
    with pytest.raises(services.NotAllowed):
        services.reject_report(report.pk, cast["investigator"], "no_facts", "")
    report.refresh_from_db()
    assert report.status == Report.Status.RECEIVED
    assert not report.messages.exists()


def test_open_case_numbers_per_township_and_year(township, other_township, cast, freeze):
    freeze(datetime(2026, 5, 6, 3, 0, tzinfo=UTC))
    first = services.open_case(new_report(township).pk, cast["clerk"])
    second = services.open_case(new_report(township).pk, cast["clerk"])
    elsewhere = services.open_case(new_report(other_township).pk, cast["other_clerk"])
    assert (first.number, second.number) == ("ZHONGSHUI-2026-0001", "ZHONGSHUI-2026-0002")
    assert elsewhere.number == "XISHAN-2026-0001"
    # 2026-12-31 20:00 UTC is already 2027 in Beijing: a new year starts a new sequence.
    freeze(datetime(2026, 12, 31, 20, 0, tzinfo=UTC))
    assert services.open_case(new_report(township).pk, cast["clerk"]).number == (
        "ZHONGSHUI-2027-0001"
    )


def test_open_case_accepts_the_report(report, cast):
    case = services.open_case(report.pk, cast["clerk"], title="某诊所", involves_birth_permit=True)
    report.refresh_from_db()
    assert report.status == Report.Status.ACCEPTED
    assert report.case == case
    assert report.accepted_at == case.accepted_at
    assert (case.title, case.involves_birth_permit, case.opened_by) == (
        "某诊所",
        True,
        cast["clerk"],
    )
    assert case.state == State.ACCEPTED
    assert AuditEntry.objects.filter(action="case.opened", object_id=str(case.pk)).count() == 1
    assert intake.reporter_view(report)["status"] == "accepted"


def test_link_report_into_existing_case(case, township, cast):
    repeat = new_report(township, description="又看到那家诊所在做B超")
    assert services.link_report(repeat.pk, case.pk, cast["clerk"]) == case
    repeat.refresh_from_db()
    assert (repeat.status, repeat.case_id) == (Report.Status.ACCEPTED, case.pk)
    assert Report.objects.filter(case=case).count() == 2
    entry = AuditEntry.objects.get(action="report.linked", object_id=str(repeat.pk))
    assert entry.data == {"case": case.number}


def test_link_refused_across_townships(case, other_township, cast):
    foreign = new_report(other_township)
    with pytest.raises(services.ServiceError):
        services.link_report(foreign.pk, case.pk, cast["supervisor"])
    foreign.refresh_from_db()
    assert (foreign.status, foreign.case) == (Report.Status.RECEIVED, None)


def test_link_refused_into_archived_case(investigating_case, township, cast):
    case = investigating_case
    services.find_unfounded(case.pk, cast["supervisor"], "查无实据")
    file_docs(case, cast["investigator"], *BASE_DOCS, "closing_report")
    services.archive(case.pk, cast["supervisor"])
    late = new_report(township)
    with translation.override("en"), pytest.raises(services.ServiceError, match="archived"):
        services.link_report(late.pk, case.pk, cast["clerk"])
    late.refresh_from_db()
    assert (late.status, late.case) == (Report.Status.RECEIVED, None)


def test_report_triaged_only_once(report, case, township, cast):
    # `case` was opened from `report`: every second decision on it is refused.
    with pytest.raises(services.ServiceError):
        services.open_case(report.pk, cast["clerk"])
    with pytest.raises(services.ServiceError):
        services.reject_report(report.pk, cast["clerk"], "no_facts", "")
    other_case = services.open_case(new_report(township).pk, cast["clerk"])
    with pytest.raises(services.ServiceError):
        services.link_report(report.pk, other_case.pk, cast["clerk"])
    rejected = new_report(township)
    services.reject_report(rejected.pk, cast["clerk"], "out_of_scope", "")
    with pytest.raises(services.ServiceError):
        services.open_case(rejected.pk, cast["clerk"])
    report.refresh_from_db()
    assert report.case_id == case.pk
    assert Case.objects.count() == 2


@pytest.mark.parametrize(
    "channel", [Channel.PHONE, Channel.MAILBOX, Channel.LETTER, Channel.WALK_IN]
)
def test_register_staff_tip_records_channel(township, cast, channel):
    data = intake.ReportInput(
        category="sex_determination", township_id=township.id, description="电话举报：某诊所"
    )
    report, receipt = services.register_staff_tip(cast["clerk"], data, channel)
    assert len(receipt) >= 16
    report.refresh_from_db()
    assert (report.channel, report.status) == (channel, Report.Status.RECEIVED)
    entry = AuditEntry.objects.get(action="report.registered", object_id=str(report.pk))
    assert entry.actor == cast["clerk"]
    assert entry.data["channel"] == channel.value


def test_register_staff_tip_needs_triage_permission(township, cast):
    data = intake.ReportInput(
        category="sex_determination", township_id=township.id, description="来信举报"
    )
    with pytest.raises(services.NotAllowed):
        services.register_staff_tip(cast["investigator"], data, Channel.LETTER)
    assert not Report.objects.exists()


# --- through the views ----------------------------------------------------------------------


def transition_url(case, name):
    return f"/staff/cases/{case.pk}/transition/{name}/"


def test_report_to_penalty_through_the_views(login, cast, units, report):
    # The clerk opens a case from the public report and assigns it.
    client = login(cast["clerk"])
    response = client.post(f"/staff/reports/{report.pk}/open-case/", {"title": "某诊所鉴定"})
    case = Case.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/staff/cases/{case.pk}/"
    page = client.get(f"/staff/cases/{case.pk}/").content.decode()
    assert transition_url(case, "start_investigation") not in page  # clerk cannot investigate
    response = client.post(
        f"/staff/cases/{case.pk}/assign/",
        {
            "expected_state": "accepted",
            "unit": units["zs_fp"].pk,
            "investigator": cast["investigator"].pk,
        },
    )
    assert response.status_code == 302
    assert fresh(case).investigator == cast["investigator"]

    # The investigator starts work and files the penalty decision.
    client = login(cast["investigator"])
    page = client.get(f"/staff/cases/{case.pk}/").content.decode()
    assert transition_url(case, "start_investigation") in page
    response = client.post(
        transition_url(case, "start_investigation"), {"expected_state": "accepted"}
    )
    assert response.status_code == 302
    assert fresh(case).state == State.INVESTIGATING
    penalty_type = DocumentType.objects.get(code="penalty_decision")
    response = client.post(
        f"/staff/cases/{case.pk}/documents/",
        {
            "doc_type": penalty_type.pk,
            "title": "处罚决定书",
            "file": SimpleUploadedFile("decision.pdf", pdf_bytes(), "application/pdf"),
        },
    )
    assert response.status_code == 302
    assert case.documents.filter(doc_type=penalty_type).count() == 1
    page = client.get(f"/staff/cases/{case.pk}/").content.decode()
    for name in ("penalize", "find_unfounded", "transfer", "archive"):
        assert transition_url(case, name) not in page
    response = client.post(
        transition_url(case, "penalize"), {"expected_state": "investigating", "outcome": "罚款"}
    )
    assert response.status_code == 403
    assert fresh(case).state == State.INVESTIGATING

    # The supervisor approves the penalty.
    client = login(cast["supervisor"])
    page = client.get(f"/staff/cases/{case.pk}/").content.decode()
    for name in ("penalize", "find_unfounded", "transfer"):
        assert transition_url(case, name) in page
    for name in ("start_investigation", "reward", "archive"):
        assert transition_url(case, name) not in page
    decision = {"expected_state": "investigating", "outcome": "没收违法所得，罚款三万元。"}
    # A decisive step first shows what will happen and asks for confirmation: nothing yet.
    response = client.post(transition_url(case, "penalize"), decision)
    assert response.status_code == 200
    assert 'id="confirm-form"' in response.content.decode()
    assert fresh(case).state == State.INVESTIGATING
    response = client.post(
        transition_url(case, "penalize"), {**decision, "confirmed": "on"}, follow=True
    )
    assert response.status_code == 200
    stored = fresh(case)
    assert stored.state == State.PENALIZED
    assert stored.approved_by == cast["supervisor"]
    page = response.content.decode()
    history = page[page.index('id="history"') :]
    # Each step reads as a sentence naming who took it, in the site's language.
    assert "investigator 开始调查" in history
    assert "supervisor 批准查处" in history
    assert "clerk 受理举报并立案" in history
    for action in ("case.opened", "case.assigned", "document.uploaded"):
        assert f'data-action="{action}"' in history
    assert history.count('data-action="case.transition"') == 2
    assert transition_url(case, "penalize") not in page
    assert [e.data["target"] for e in transitions_of(case)] == ["investigating", "penalized"]
    assert audit.verify()[0]


def test_stale_form_shows_changed_message_and_changes_nothing(login, cast, investigating_case):
    case = investigating_case
    file_docs(case, cast["investigator"], "penalty_decision")
    client = login(cast["supervisor"])
    page = client.get(f"/staff/cases/{case.pk}/").content.decode()
    assert 'name="expected_state" value="investigating"' in page
    # Meanwhile another supervisor closes the case as unfounded.
    services.find_unfounded(case.pk, cast["supervisor"], "查无实据", "investigating")
    n_entries = AuditEntry.objects.count()
    response = client.post(
        transition_url(case, "penalize"),
        {"expected_state": "investigating", "outcome": "罚款"},
        follow=True,
    )
    assert response.status_code == 200
    with translation.override("zh-hans"):
        expected = str(services.CaseChanged())
    assert escape(expected) in response.content.decode()
    with translation.override("en"):
        assert "changed by someone else" in str(services.CaseChanged())
    stored = fresh(case)
    assert stored.state == State.UNFOUNDED
    assert stored.outcome == "查无实据"
    assert stored.penalized_at is None and stored.approved_by is None
    assert AuditEntry.objects.count() == n_entries


def test_stale_assignment_form_changes_nothing(login, cast, units, investigating_case):
    case = investigating_case
    client = login(cast["clerk"])
    response = client.post(
        f"/staff/cases/{case.pk}/assign/",
        {
            "expected_state": "accepted",
            "unit": units["zs_fp"].pk,
            "investigator": cast["supervisor"].pk,
        },
        follow=True,
    )
    with translation.override("zh-hans"):
        expected = str(services.CaseChanged())
    assert escape(expected) in response.content.decode()
    assert fresh(case).investigator == cast["investigator"]


def test_reject_through_the_view(login, cast, report):
    client = login(cast["clerk"])
    response = client.post(
        f"/staff/reports/{report.pk}/reject/", {"reason": "already_handled", "note": "已处理"}
    )
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.status == Report.Status.REJECTED
    assert any("已处理" in m["body"] for m in intake.reporter_view(report)["messages"])


def test_deadline_helper_matches_settings():
    # Guards the numbers the tests above rely on (DESIGN §3 defaults).
    assert deadlines.due("feedback", date(2026, 9, 30)) == date(2026, 10, 27)
    assert deadlines.due("archive", date(2026, 9, 30)) == date(2026, 10, 20)
