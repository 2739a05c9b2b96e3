"""State changes of reports and cases. One function per change: lock, check, save, audit.

Views call only these. Each runs in one transaction, locks the row it changes, checks the
user's permission (django-fsm does not) and the preconditions, and writes its audit entry in the
same transaction, so a change and its record stand or fall together.
"""

from datetime import date

from django.conf import settings
from django.db import transaction
from django.db.models.functions import Length
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django_fsm import TransitionNotAllowed, has_transition_perm

from org import deadlines
from org.models import Unit
from tipline import services as intake
from tipline.models import RejectionReason, Report, ReportMessage
from vault import storage

from . import audit
from .models import Case, CaseDocument, DocumentType, State


class ServiceError(Exception):
    """A rule stopped the change; the message is shown to the user."""


class NotAllowed(ServiceError):
    pass


class CaseChanged(ServiceError):
    def __init__(self):
        super().__init__(
            _("This case was changed by someone else in the meantime. Reload it and try again.")
        )


def _require(user, perm: str):
    if not user.has_perm(perm):
        raise NotAllowed(_("You are not allowed to do this."))


def _locked_case(case_id, expected_state: str | None) -> Case:
    # of=("self",): lock the case row only. Locking the joined township row too made a case step
    # and link_report (report+township, then case) able to deadlock each other.
    case = Case.objects.select_for_update(of=("self",)).select_related("township").get(pk=case_id)
    if expected_state is not None and case.state != expected_state:
        raise CaseChanged()
    return case


def _locked_report(report_id) -> Report:
    qs = Report.objects.select_for_update(of=("self",)).select_related("township")
    return qs.get(pk=report_id)


# --- triage -------------------------------------------------------------------------------


def _ensure_untriaged(report: Report):
    if report.status != Report.Status.RECEIVED:
        raise ServiceError(_("This report has already been dealt with by someone else."))


def reject_report(report_id, user, reason: str, note: str) -> Report:
    """不予受理: the reporter sees the reason and the note."""
    _require(user, "casework.triage_report")
    if reason not in RejectionReason.values:
        raise ServiceError(_("Choose one of the listed reasons."))
    with transaction.atomic():
        report = _locked_report(report_id)
        _ensure_untriaged(report)
        report.status = Report.Status.REJECTED
        report.rejection_reason = reason
        report.triaged_by, report.triaged_at = user, timezone.now()
        report.save(update_fields=["status", "rejection_reason", "triaged_by", "triaged_at"])
        # Stored text is read by the reporter later: write it in the site's language, not the
        # language this clerk happens to use.
        with translation.override(settings.LANGUAGE_CODE):
            text = str(RejectionReason(reason).label)
            body = f"{_('Not accepted')}: {text}" + (f"\n{note}" if note else "")
        ReportMessage.objects.create(report=report, author=ReportMessage.Author.STAFF, body=body)
        audit.record(user, "report.rejected", report, reason=reason)
    return report


def _next_number(township, today: date) -> str:
    prefix = f"{township.code.upper()}-{today.year}-"
    # Longest first, then text order: numeric order even past 9999.
    last = (
        Case.objects.filter(number__startswith=prefix)
        .order_by(Length("number").desc(), "-number")
        .values_list("number", flat=True)
        .first()
    )
    seq = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    return f"{prefix}{seq:04d}"


def open_case(report_id, user, *, title: str = "", involves_birth_permit=False) -> Case:
    """受理: accept the report and open a new case for it."""
    _require(user, "casework.triage_report")
    with transaction.atomic():
        report = _locked_report(report_id)
        _ensure_untriaged(report)
        # Lock the township row so two clerks cannot draw the same case number.
        township = type(report.township).objects.select_for_update().get(pk=report.township_id)
        now = timezone.now()
        case = Case(
            number=_next_number(township, timezone.localdate(now)),
            township=township,
            category=report.category,
            title=(title or report.description)[:200],
            involves_birth_permit=involves_birth_permit,
            opened_by=user,
            accepted_at=now,
            decision_due=deadlines.due("decision", timezone.localdate(now)),
        )
        case.next_due = case.compute_next_due()
        case.save()
        _accept_into(report, case, user, now)
        audit.record(user, "case.opened", case, report=str(report.id), number=case.number)
    return case


def _accept_into(report: Report, case: Case, user, now):
    report.status = Report.Status.ACCEPTED
    report.case = case
    report.accepted_at = now
    report.triaged_by, report.triaged_at = user, now
    report.save(update_fields=["status", "case", "accepted_at", "triaged_by", "triaged_at"])
    with translation.override(settings.LANGUAGE_CODE):
        body = _("Your report was accepted and is being handled.")
    ReportMessage.objects.create(report=report, author=ReportMessage.Author.STAFF, body=body)


def link_report(report_id, case_id, user) -> Case:
    """A repeat report of a case that already exists: accept it into that case."""
    _require(user, "casework.triage_report")
    with transaction.atomic():
        report = _locked_report(report_id)
        _ensure_untriaged(report)
        case = _locked_case(case_id, None)
        if case.township_id != report.township_id:
            raise ServiceError(_("A report can only be linked to a case of its own township."))
        if case.state == State.ARCHIVED:
            raise ServiceError(_("This case is archived; open a new case instead."))
        _accept_into(report, case, user, timezone.now())
        audit.record(user, "report.linked", report, case=case.number)
    return case


def register_staff_tip(user, data: intake.ReportInput, channel: str, files=()):
    """A tip taken by phone, from the mailbox, by letter or in person, entered by staff."""
    _require(user, "casework.triage_report")
    with transaction.atomic():
        report, receipt = intake.create_report(data, channel=channel, files=files)
        audit.record(user, "report.registered", report, channel=channel)
    return report, receipt


# --- assignment and deadlines -------------------------------------------------------------


def assign(case_id, user, *, unit_id: int, investigator, expected_state=None) -> Case:
    _require(user, "casework.assign_case")
    with transaction.atomic():
        case = _locked_case(case_id, expected_state)
        if case.state not in (State.ACCEPTED, State.INVESTIGATING):
            raise ServiceError(_("Only open cases can be assigned."))
        unit = Unit.objects.get(pk=unit_id)
        if unit.county_id != case.township.county_id or unit.township_id not in (
            None,
            case.township_id,
        ):
            raise ServiceError(_("This unit does not serve the case's township."))
        if investigator is not None:
            from .access import townships_for

            if (
                not investigator.has_perm("casework.investigate_case")
                or not townships_for(investigator).filter(pk=case.township_id).exists()
            ):
                raise ServiceError(_("This person cannot investigate cases of this township."))
        before = {"unit": case.unit_id, "investigator": case.investigator_id}
        case.unit, case.investigator = unit, investigator
        case.save(update_fields=["unit", "investigator"])
        action = "case.reassigned" if before["investigator"] or before["unit"] else "case.assigned"
        audit.record(
            user,
            action,
            case,
            unit=unit.pk,
            investigator=getattr(investigator, "pk", None),
            previous=before,
        )
    return case


def extend_deadline(case_id, user, reason: str, expected_state=None) -> Case:
    """One supervised extension of the decision deadline (default 30 calendar days)."""
    _require(user, "casework.extend_deadline")
    if not reason.strip():
        raise ServiceError(_("Give the reason for the extension."))
    with transaction.atomic():
        case = _locked_case(case_id, expected_state)
        if case.extended_at:
            raise ServiceError(_("This case's deadline has already been extended once."))
        if case.state not in (State.ACCEPTED, State.INVESTIGATING):
            raise ServiceError(_("Only open cases can be extended."))
        old = case.decision_due
        case.decision_due = deadlines.due("extension", old)
        case.extended_at, case.extension_reason = timezone.now(), reason.strip()
        case.next_due = case.compute_next_due()
        case.save(update_fields=["decision_due", "extended_at", "extension_reason", "next_due"])
        audit.record(
            user, "case.extended", case, old_due=old, new_due=case.decision_due, reason=reason
        )
    return case


# --- transitions ----------------------------------------------------------------------------


def _transition(case_id, user, name: str, expected_state=None, prepare=None, **audit_data) -> Case:
    with transaction.atomic():
        case = _locked_case(case_id, expected_state)
        method = getattr(case, name)
        if not has_transition_perm(method, user):
            # has_transition_perm folds state, conditions and permission together: say which.
            meta = method._django_fsm
            if not meta.has_transition(case.state):
                raise (
                    CaseChanged()
                    if expected_state is None
                    else ServiceError(_("This step is not possible in the case's current state."))
                )
            if not meta.has_transition_perm(case, case.state, user):
                raise NotAllowed(_("You are not allowed to do this."))
            if prepare:
                prepare(case)  # conditions may depend on what the user entered
            if not meta.conditions_met(case, case.state):
                raise ServiceError(_transition_blocker(case, name))
        elif prepare:
            prepare(case)
        source = case.state
        try:
            method()
        except TransitionNotAllowed:
            raise ServiceError(_transition_blocker(case, name)) from None
        now = timezone.now()
        today = timezone.localdate(now)
        if (
            case.state in (State.PENALIZED, State.UNFOUNDED, State.TRANSFERRED)
            and not case.closed_at
        ):
            case.closed_at = now
            case.feedback_due = deadlines.due("feedback", today)
            case.archive_due = deadlines.due("archive", today)
        if case.state == State.PENALIZED:
            case.penalized_at, case.approved_by = now, user
        if case.state == State.REWARDED:
            case.rewarded_at = now
        if case.state == State.ARCHIVED:
            case.archived_at = now
        case.next_due = case.compute_next_due()
        case.save()
        if case.state == State.ARCHIVED:
            Report.objects.filter(case=case).update(status=Report.Status.CLOSED)
        audit.record(
            user,
            "case.transition",
            case,
            transition=name,
            source=source,
            target=case.state,
            **audit_data,
        )
    return case


def _transition_blocker(case: Case, name: str) -> str:
    messages = {
        "start_investigation": _("Assign a unit and an investigator first."),
        "penalize": _("File the penalty decision document (处罚决定书/处理文件) first."),
        "reward": _("File the reward approval form (奖励审批表) first."),
        "archive": _("The case file is incomplete; file the missing documents first."),
    }
    return messages.get(name, _("This step is not possible in the case's current state."))


def start_investigation(case_id, user, expected_state=None):
    return _transition(case_id, user, "start_investigation", expected_state)


def penalize(case_id, user, outcome: str, expected_state=None):
    """查处, approved by the supervisor who takes this step."""

    def prepare(case):
        case.outcome = outcome.strip()

    if not outcome.strip():
        raise ServiceError(_("Describe the penalty decided."))
    return _transition(case_id, user, "penalize", expected_state, prepare)


def find_unfounded(case_id, user, outcome: str, expected_state=None):
    if not outcome.strip():
        raise ServiceError(_("Explain why the report could not be substantiated."))

    def prepare(case):
        case.outcome = outcome.strip()

    return _transition(case_id, user, "find_unfounded", expected_state, prepare)


def transfer(case_id, user, receiving_unit: str, transferred_on: date, expected_state=None):
    if not receiving_unit.strip() or not transferred_on:
        raise ServiceError(_("Name the receiving unit and the date of transfer."))

    def prepare(case):
        case.transfer_unit, case.transferred_on = receiving_unit.strip(), transferred_on

    return _transition(
        case_id,
        user,
        "transfer",
        expected_state,
        prepare,
        receiving_unit=receiving_unit,
        on=transferred_on,
    )


def reward(case_id, user, expected_state=None):
    return _transition(case_id, user, "reward", expected_state)


def archive(case_id, user, expected_state=None):
    return _transition(case_id, user, "archive", expected_state)


def give_feedback(case_id, user, body: str) -> Case:
    """Tell every reporter of the case the outcome (counts against the feedback deadline)."""
    _require(user, "casework.decide_case")
    if not body.strip():
        raise ServiceError(_("Write the message to the reporter."))
    with transaction.atomic():
        case = _locked_case(case_id, None)
        if not case.closed_at:
            raise ServiceError(_("Feedback is given once the case has an outcome."))
        for report in Report.objects.filter(case=case):
            ReportMessage.objects.create(
                report=report, author=ReportMessage.Author.STAFF, body=body.strip()
            )
        if not case.feedback_given_at:
            case.feedback_given_at = timezone.now()
            case.next_due = case.compute_next_due()
            case.save(update_fields=["feedback_given_at", "next_due"])
        audit.record(user, "case.feedback", case)
    return case


def message_reporter(report_id, user, body: str) -> ReportMessage:
    """A question or note to the reporter, shown on their receipt page."""
    _require(user, "casework.investigate_case")
    if not body.strip():
        raise ServiceError(_("Write the message to the reporter."))
    with transaction.atomic():
        report = _locked_report(report_id)
        message = ReportMessage.objects.create(
            report=report, author=ReportMessage.Author.STAFF, body=body.strip()
        )
        audit.record(user, "report.message_sent", report)
    return message


# --- case file ------------------------------------------------------------------------------


def _file(case_id, user, doc_type, content: bytes, *, mime, extension, title, generated, action):
    """Write the encrypted file, then the row and its audit entry; remove the file on failure."""
    written = None
    try:
        with transaction.atomic():
            case = _locked_case(case_id, None)
            if case.state == State.ARCHIVED:
                raise ServiceError(_("An archived case file cannot be changed."))
            doc = CaseDocument(
                case=case,
                doc_type=doc_type,
                title=title,
                mime=mime,
                extension=extension,
                size=len(content),
                uploaded_by=user,
                generated=generated,
            )
            written = storage.write(doc, content)
            doc.save()
            audit.record(user, action, case, document=str(doc.id), type=doc_type.code)
    except BaseException:
        if written:
            written.unlink(missing_ok=True)
        raise
    return doc


def add_document(case_id, user, doc_type: DocumentType, clean_file, title: str = ""):
    """File an uploaded document (already type-checked and stripped) into the case."""
    _require(user, "casework.investigate_case")
    return _file(
        case_id,
        user,
        doc_type,
        clean_file.content,
        mime=clean_file.mime,
        extension=clean_file.extension,
        title=title.strip()[:200],
        generated=False,
        action="document.uploaded",
    )


def generate_registration_form(case_id, user) -> CaseDocument:
    """举报登记表, generated from the case's reports, without the reporters' identity."""
    from django.template.loader import render_to_string

    _require(user, "casework.investigate_case")
    case = Case.objects.select_related("township").get(pk=case_id)
    doc_type = DocumentType.objects.get(code="registration_form")
    reports = list(Report.objects.filter(case=case).order_by("accepted_at"))
    html = render_to_string(
        "casework/registration_form.html",
        {"case": case, "reports": reports, "now": timezone.now()},
    ).encode()
    return _file(
        case_id,
        user,
        doc_type,
        html,
        mime="text/html",
        extension="html",
        title=str(doc_type.name),
        generated=True,
        action="document.generated",
    )
