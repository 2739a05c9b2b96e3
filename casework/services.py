"""State changes of reports and cases. One function per change: lock, check, save, audit.

Views, tasks and commands call only these. Each runs in one transaction, locks the row it
changes, checks that the row lies in the user's townships, the user's permission (django-fsm does
not) and the preconditions, and writes its audit entry in the same transaction, so a change and
its record stand or fall together.
"""

from datetime import date, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models.functions import Length
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django_fsm import TransitionNotAllowed

from notifications import outbox
from org import deadlines, scope
from org.models import Township, Unit
from tipline import services as intake
from tipline.models import RejectionReason, Report, ReportMessage
from vault import storage

from . import audit, casefile, documents, rules, steps
from .audit_catalogue import Action
from .errors import CaseChanged, NotAllowed, ServiceError
from .models import Case, CaseDocument, DocumentType
from .states import PERM_INVESTIGATE, PERM_TRIAGE, State

__all__ = ["CaseChanged", "NotAllowed", "ServiceError"]  # and the services below


def _require(user, perm: str):
    if not user.has_perm(perm):
        raise NotAllowed(_("You are not allowed to do this."))


def _ensure(refusal: rules.Refusal | None) -> None:
    if refusal is not None:
        raise (NotAllowed if refusal.forbidden else ServiceError)(str(refusal.message))


def lock_case(case_id, user, expected_state: str | None = None) -> Case:
    """The case row, locked for the caller's transaction, once it is known to lie in the
    user's townships (and, when given, still in the expected state)."""
    # of=("self",): lock the case row only. Locking the joined township row too made a case step
    # and link_report (report+township, then case) able to deadlock each other.
    case = Case.objects.select_for_update(of=("self",)).select_related("township").get(pk=case_id)
    # Scope before anything else: an outsider learns nothing about the case, not even its state.
    scope.require(user, case.township_id)
    if expected_state is not None and case.state != expected_state:
        raise CaseChanged()
    return case


def lock_report(report_id, user) -> Report:
    """The report row, locked for the caller's transaction, once it is known to lie in the
    user's townships."""
    qs = Report.objects.select_for_update(of=("self",)).select_related("township")
    report = qs.get(pk=report_id)
    scope.require(user, report.township_id)
    return report


# --- triage -------------------------------------------------------------------------------


def _ensure_untriaged(report: Report):
    if report.status != Report.Status.RECEIVED:
        raise ServiceError(_("This report has already been dealt with by someone else."))


def reject_report(report_id, user, reason: str, note: str) -> Report:
    """不予受理: the reporter sees the reason and the note."""
    _require(user, PERM_TRIAGE)
    if reason not in RejectionReason.values:
        raise ServiceError(_("Choose one of the listed reasons."))
    with transaction.atomic():
        report = lock_report(report_id, user)
        _ensure_untriaged(report)
        report.status = Report.Status.REJECTED
        report.rejection_reason = reason
        report.triaged_by, report.triaged_at = user, timezone.now()
        report.save(update_fields=["status", "rejection_reason", "triaged_by", "triaged_at"])
        # Stored text is read by the reporter later: write it in the site's language, not the
        # language this clerk happens to use.
        with translation.override(settings.LANGUAGE_CODE):
            text = str(RejectionReason(reason).label)
            body = _("Not accepted: %(reason)s") % {"reason": text} + (f"\n{note}" if note else "")
        ReportMessage.objects.create(report=report, author=ReportMessage.Author.STAFF, body=body)
        audit.record(user, Action.REPORT_REJECTED, report, reason=reason)
        outbox.record("reporter.news", report)  # notify: a text, if the reporter asked for one
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
    _require(user, PERM_TRIAGE)
    with transaction.atomic():
        report = lock_report(report_id, user)
        _ensure_untriaged(report)
        # Lock the township row so two clerks cannot draw the same case number.
        township = Township.objects.select_for_update().get(pk=report.township_id)
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
        casefile.refresh_case(case)
        _accept_into(report, case, user, now)
        audit.record(user, Action.CASE_OPENED, case, report=str(report.id), number=case.number)
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
    outbox.record("reporter.news", report)  # notify: a text, if the reporter asked for one


def link_report(report_id, case_id, user) -> Case:
    """A repeat report of a case that already exists: accept it into that case."""
    _require(user, PERM_TRIAGE)
    with transaction.atomic():
        report = lock_report(report_id, user)
        _ensure_untriaged(report)
        case = lock_case(case_id, user)
        if case.township_id != report.township_id:
            raise ServiceError(_("A report can only be linked to a case of its own township."))
        if case.state == State.ARCHIVED:
            raise ServiceError(_("This case is archived; open a new case instead."))
        _accept_into(report, case, user, timezone.now())
        audit.record(user, Action.REPORT_LINKED, report, case=case.number)
    return case


def register_staff_tip(
    user,
    data: intake.ReportInput,
    channel: str,
    files=(),
    *,
    received_at=None,
    channel_reference: str = "",
    submission: str | None = None,
):
    """A tip taken by phone, from the mailbox, by letter or in person, entered by staff, with
    the time it really arrived (the first reporter wins) and where its original is."""
    _require(user, PERM_TRIAGE)
    scope.require(user, data.township_id)
    if received_at is not None and received_at > timezone.now() + timedelta(minutes=5):
        raise ServiceError(_("A tip cannot be received in the future."))
    with transaction.atomic():
        report, receipt = intake.create_report(
            data,
            channel=channel,
            files=files,
            received_at=received_at,
            channel_reference=channel_reference,
            submission=submission,
        )
        audit.record(
            user,
            Action.REPORT_REGISTERED,
            report,
            channel=channel,
            received_at=report.received_at,
            reference=channel_reference,
        )
    return report, receipt


# --- assignment and deadlines -------------------------------------------------------------


def assign(case_id, user, *, unit_id: int, investigator, expected_state=None) -> Case:
    _require(user, "casework.assign_case")
    with transaction.atomic():
        case = lock_case(case_id, user, expected_state)
        _ensure(rules.assign(user, case))
        unit = Unit.objects.get(pk=unit_id)
        if unit.county_id != case.township.county_id or unit.township_id not in (
            None,
            case.township_id,
        ):
            raise ServiceError(_("This unit does not serve the case's township."))
        if investigator is not None and not (
            investigator.has_perm(PERM_INVESTIGATE)
            and scope.in_scope(investigator, case.township_id)
        ):
            raise ServiceError(_("This person cannot investigate cases of this township."))
        before = {"unit": case.unit_id, "investigator": case.investigator_id}
        case.unit, case.investigator = unit, investigator
        case.save(update_fields=["unit", "investigator"])
        action = (
            Action.CASE_REASSIGNED
            if before["investigator"] or before["unit"]
            else Action.CASE_ASSIGNED
        )
        audit.record(
            user,
            action,
            case,
            unit=unit.pk,
            investigator=getattr(investigator, "pk", None),
            previous=before,
        )
        if investigator is not None and investigator.pk != before["investigator"]:
            # The deadline as it stands now: the notice is written after the commit, when the
            # case may have moved on (and have no next deadline left to name).
            due = case.next_due.isoformat() if case.next_due else ""
            outbox.record("case.assigned", case, investigator=investigator.pk, due=due)
    return case


def extend_deadline(case_id, user, reason: str, expected_state=None) -> Case:
    """One supervised extension of the decision deadline (default 30 calendar days)."""
    _require(user, "casework.extend_deadline")
    if not reason.strip():
        raise ServiceError(_("Give the reason for the extension."))
    with transaction.atomic():
        case = lock_case(case_id, user, expected_state)
        _ensure(rules.extend(user, case))
        old = case.decision_due
        case.decision_due = deadlines.due("extension", old)
        case.extended_at, case.extension_reason = timezone.now(), reason.strip()
        case.next_due = case.compute_next_due()
        case.save(update_fields=["decision_due", "extended_at", "extension_reason", "next_due"])
        audit.record(
            user, Action.CASE_EXTENDED, case, old_due=old, new_due=case.decision_due, reason=reason
        )
    return case


# --- steps of the case machine ------------------------------------------------------------


def _impossible() -> str:
    return _("This step is not possible in the case's current state.")


def take_step(case_id, user, name: str, *, expected_state=None, **inputs) -> Case:
    """Take one declared step (casework/steps.py): the one path every case transition runs."""
    step = steps.STEPS.get(name)
    if step is None:
        raise ServiceError(_impossible())
    missing = step.missing(inputs)
    if missing:
        raise ServiceError(str(missing))
    with transaction.atomic():
        case = lock_case(case_id, user, expected_state)
        if case.state not in step.sources:
            # Without an expected state the caller saw nothing: someone else moved the case on.
            if expected_state is None:
                raise CaseChanged()
            raise ServiceError(_impossible())
        if not user.has_perm(step.permission):
            raise NotAllowed(_("You are not allowed to do this."))
        step.store(case, inputs)
        blocked = step.blocker(case)
        if blocked:
            raise ServiceError(str(blocked))
        source = case.state
        try:
            getattr(case, step.name)()
        except TransitionNotAllowed:  # a condition changed under the lock (should not happen)
            raise ServiceError(
                _("This step is not possible in the case's current state.")
            ) from None
        now = timezone.now()
        step.apply_effects(case, user, now)  # its own, then those hooked to it (rewards)
        case.next_due = case.compute_next_due()
        case.save()
        casefile.refresh_case(case)  # the state's dates decide which documents are required
        audit.record(
            user,
            Action.CASE_TRANSITION,
            case,
            transition=step.name,
            source=source,
            target=case.state,
            **{name: inputs[name] for name in step.audited_inputs},
        )
    return case


def start_investigation(case_id, user, expected_state=None):
    return take_step(case_id, user, "start_investigation", expected_state=expected_state)


def penalize(case_id, user, outcome: str, expected_state=None):
    """查处, approved by the supervisor who takes this step."""
    return take_step(case_id, user, "penalize", expected_state=expected_state, outcome=outcome)


def find_unfounded(case_id, user, outcome: str, expected_state=None):
    return take_step(
        case_id, user, "find_unfounded", expected_state=expected_state, outcome=outcome
    )


def transfer(case_id, user, receiving_unit: str, transferred_on: date, expected_state=None):
    return take_step(
        case_id,
        user,
        "transfer",
        expected_state=expected_state,
        receiving_unit=receiving_unit,
        transferred_on=transferred_on,
    )


def archive(case_id, user, expected_state=None):
    return take_step(case_id, user, "archive", expected_state=expected_state)


# --- the reporters ----------------------------------------------------------------------------


def give_feedback(case_id, user, body: str) -> Case:
    """Tell every reporter of the case the outcome (counts against the feedback deadline)."""
    _require(user, "casework.decide_case")
    if not body.strip():
        raise ServiceError(_("Write the message to the reporter."))
    with transaction.atomic():
        case = lock_case(case_id, user)
        _ensure(rules.give_feedback(user, case))
        for report in Report.objects.filter(case=case):
            ReportMessage.objects.create(
                report=report, author=ReportMessage.Author.STAFF, body=body.strip()
            )
        if not case.feedback_given_at:
            case.feedback_given_at = timezone.now()
            case.next_due = case.compute_next_due()
            case.save(update_fields=["feedback_given_at", "next_due"])
        audit.record(user, Action.CASE_FEEDBACK, case)
        outbox.record("reporter.news", case)  # notify: a text to each reporter who asked
    return case


def message_reporter(report_id, user, body: str) -> ReportMessage:
    """A question or note to the reporter, shown on their receipt page: a clerk asking for
    missing facts before accepting, an investigator during the investigation."""
    _ensure(rules.message_reporter(user))
    if not body.strip():
        raise ServiceError(_("Write the message to the reporter."))
    with transaction.atomic():
        report = lock_report(report_id, user)
        message = ReportMessage.objects.create(
            report=report, author=ReportMessage.Author.STAFF, body=body.strip()
        )
        audit.record(user, Action.REPORT_MESSAGE_SENT, report)
        outbox.record("reporter.news", report)  # notify: a text, if the reporter asked for one
    return message


# --- case file ------------------------------------------------------------------------------


def _file(case_id, user, doc_type, content, *, mime, extension, title, generated, action):
    """Write the encrypted file, then the row and its audit entry; remove the file on failure.

    ``content`` is bytes, or a callable that makes them from the locked case (generated forms
    are rendered from what the case holds once it is locked, not before), given the version.
    """
    written = None
    try:
        with transaction.atomic():
            case = lock_case(case_id, user)
            _ensure(rules.file_document(user, case))
            earlier = None
            extra = {}
            if generated:
                # Generated again: a new version that replaces the earlier one (which stays in
                # the file, shown as replaced), never a silent second copy.
                earlier = (
                    CaseDocument.objects.filter(case=case, doc_type=doc_type, generated=True)
                    .order_by("-uploaded_at", "-pk")
                    .first()
                )
                version = (
                    1
                    + CaseDocument.objects.filter(
                        case=case, doc_type=doc_type, generated=True
                    ).count()
                )
                extra = {"version": version}
                if earlier is not None:
                    extra["replaces"] = str(earlier.pk)
            data = content(case, **extra) if callable(content) else content
            doc = CaseDocument(
                case=case,
                doc_type=doc_type,
                title=title,
                mime=mime,
                extension=extension,
                size=len(data),
                uploaded_by=user,
                generated=generated,
            )
            written = storage.write(doc, data)
            doc.save()
            casefile.refresh_case(case)
            audit.record(user, action, case, document=str(doc.id), type=doc_type.code, **extra)
            # notify: a step this filing made possible awaits a supervisor (once per step)
            ready = [step.name for step in steps.ready_for_approval(case, user)]
            if ready:
                key = f"awaiting:{case.pk}:{case.state}:{'+'.join(ready)}"
                outbox.record(
                    "case.awaiting_approval", case, key=key, state=case.state, steps=ready
                )
    except BaseException:
        if written:
            written.unlink(missing_ok=True)
        raise
    doc.version = extra.get("version", 1)  # for the caller's message; the file says it too
    return doc


def add_document(case_id, user, doc_type: DocumentType, clean_file, title: str = ""):
    """File an uploaded document (already type-checked and stripped) into the case."""
    _require(user, PERM_INVESTIGATE)
    return _file(
        case_id,
        user,
        doc_type,
        clean_file.content,
        mime=clean_file.mime,
        extension=clean_file.extension,
        title=title.strip()[:200],
        generated=False,
        action=Action.DOCUMENT_UPLOADED,
    )


def generate_registration_form(case_id, user) -> CaseDocument:
    """举报登记表, generated from the case's reports, without the reporters' identity."""
    _require(user, PERM_INVESTIGATE)
    doc_type = DocumentType.objects.get(code="registration_form")
    return _file(
        case_id,
        user,
        doc_type,
        documents.registration_form,
        mime="text/html",
        extension="html",
        title=str(doc_type.name),
        generated=True,
        action=Action.DOCUMENT_GENERATED,
    )
