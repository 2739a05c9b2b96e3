"""Creating and following up reports: the one path every intake channel goes through."""

import logging
from dataclasses import dataclass
from datetime import date, datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables

from notifications import outbox
from org import deadlines
from vault import crypto, storage

from . import extensions, receipts, submissions, throttle, together
from .attachments import CleanFile
from .models import Attachment, Channel, Report, ReporterIdentity, ReportMessage

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReportInput:
    """Validated fields of a new report (normalised by the form layer)."""

    category: str
    township_id: int
    description: str
    occurred_on: date | None = None
    subject_name: str = ""
    subject_address: str = ""
    subject_phone: str = ""  # digits, normalised
    reporter_name: str = ""
    reporter_phone: str = ""  # normalised mobile
    reporter_id_number: str = ""  # normalised, upper-case X
    news_by_sms: bool = False  # text the reporter's mobile when there is news (needs the number)

    def __repr__(self):
        # Tracebacks, debug pages and log records print reprs: never the reporter's identity.
        return (
            f"ReportInput(category={self.category!r}, township_id={self.township_id!r}, "
            f"identity={'given' if self.reporter_name or self.reporter_phone else 'none'})"
        )


class EvidenceLimitReached(ValueError):
    """The report already holds as much evidence as one report may; nothing was written."""


class ReportClosed(ValueError):
    """The report is rejected or its handling finished: nobody would read what is added."""


def closed_message(report: Report) -> str:
    if report.status == Report.Status.REJECTED:
        return _(
            "This report was not accepted, so information added to it would not be read. "
            "If you have new facts, please make a new report."
        )
    return _(
        "The handling of this report is finished and its file is closed, so information added "
        "to it would not be read. If you have new facts, please make a new report."
    )


def _ensure_room_for(report: Report, files: list[CleanFile], *, new: bool = False) -> None:
    """Evidence per report is capped, so follow-ups cannot fill the disk under one receipt.
    A report created in this transaction (``new``) holds nothing yet: no query."""
    adding = sum(len(f.content) for f in files)
    if not adding:
        return
    held = 0 if new else report.attachments.aggregate(total=Sum("size"))["total"] or 0
    limit = settings.TIPLINE_REPORT_EVIDENCE_MAX_BYTES
    if held + adding > limit:
        raise EvidenceLimitReached(
            _(
                "This report cannot hold more files: together they may be at most %(mb)d MB. "
                "Describe further evidence in words; staff will ask for it if they need it."
            )
            % {"mb": limit // (1024 * 1024)}
        )


def _write_files(
    report: Report, files: list[CleanFile], written: list, message=None
) -> list[Attachment]:
    """Encrypt and store the files; their rows, not yet saved. Each path goes into ``written``
    as soon as it exists, so a failure part-way (or a failed commit) can remove every file."""
    rows = []
    for clean in files:
        attachment = Attachment(
            report=report,
            message=message,
            mime=clean.mime,
            extension=clean.extension,
            kind=clean.kind,
            size=len(clean.content),
        )
        written.append(storage.write(attachment, clean.content))
        rows.append(attachment)
    return rows


def _save_attachments(report: Report, files: list[CleanFile], written: list, message=None) -> None:
    """Write encrypted files, then rows (as _write_files; the rows saved one by one)."""
    for attachment in _write_files(report, files, written, message=message):
        attachment.save()


def _remove(paths) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


@sensitive_variables()
def create_report(
    data: ReportInput,
    *,
    channel: str = Channel.WEB,
    files: list[CleanFile] = (),
    received_at: datetime | None = None,
    channel_reference: str = "",
    submission: str | None = None,
) -> tuple[Report, str]:
    """Store a report with its sealed identity and attachments; return it with its receipt.

    All or nothing: the rows are written in one transaction and the encrypted files are removed
    again if it does not commit. The receipt is returned once and never stored. ``submission``
    is the form's one-time token: a form posted again raises submissions.AlreadySubmitted.
    """
    received_at = received_at or timezone.now()
    receipt = receipts.generate()
    digest = receipts.receipt_hash(receipt)
    report = Report(
        receipt_hash=digest,
        channel=channel,
        channel_reference=channel_reference,
        category=data.category,
        township_id=data.township_id,
        description=data.description,
        occurred_on=data.occurred_on,
        subject_name=data.subject_name,
        subject_address=data.subject_address,
        subject_phone=data.subject_phone,
        subject_phone_index=(
            crypto.blind_index("phone", data.subject_phone) if data.subject_phone else ""
        ),
        received_at=received_at,
        acceptance_due=deadlines.due("acceptance", timezone.localdate(received_at)),
    )
    rows = [submissions.row(submission), report]
    if data.reporter_name or data.reporter_phone or data.reporter_id_number:
        identity = ReporterIdentity(report=report)
        identity.set_values(
            name=data.reporter_name,
            phone=data.reporter_phone,
            id_number=data.reporter_id_number,
        )
        if data.reporter_phone:
            identity.phone_index = crypto.blind_index("phone", data.reporter_phone)
            identity.news_by_sms = data.news_by_sms
        if data.reporter_id_number:
            identity.id_number_index = crypto.blind_index("id_number", data.reporter_id_number)
        rows.append(identity)
    _ensure_room_for(report, list(files), new=True)
    # The clerks' notice is written with the report and handed over after the commit; the
    # hand-over never raises into this request (a dead broker or mail server leaves it in the
    # outbox), so the except clauses below never see a committed report and its evidence stays.
    event = outbox.new("report.received", report)
    written = []
    try:
        attachments = _write_files(report, list(files), written)
        # One statement (tipline.together): the token, the report, its identity, its evidence
        # and its notice, all or none, committed before it returns.
        together.insert(*(row for row in rows if row is not None), *attachments, event)
    except IntegrityError:
        _remove(written)  # nothing was written: the files belong to nothing
        at = submissions.spent_at(submission)
        if at is not None:  # this form was posted before (or just now, in parallel)
            raise submissions.AlreadySubmitted(at) from None
        raise
    except BaseException:
        _remove(written)
        raise
    outbox.hand_over_on_commit(event)
    log.info("report received", extra={"report": str(report.id), "channel": channel})
    return report, receipt


@sensitive_variables()
def find_by_receipt(receipt: str) -> Report | None:
    """Look a report up by its receipt (normalised digits)."""
    return (
        Report.objects.select_related("township")
        .filter(receipt_hash=receipts.receipt_hash(receipt))
        .first()
    )


@sensitive_variables()
def add_reporter_followup(
    report: Report, body: str, files: list[CleanFile] = (), *, submission: str | None = None
) -> ReportMessage:
    """The reporter adds information or evidence to an existing report (EvidenceLimitReached
    when its files would pass the cap per report; ReportClosed once nobody reads it any more;
    submissions.AlreadySubmitted when the same form is posted again)."""
    written = []
    try:
        with transaction.atomic():
            submissions.spend(submission)
            # Locked, so parallel follow-ups cannot each see room for their files.
            report = Report.objects.select_for_update().get(pk=report.pk)
            if not report.open_to_reporter:
                raise ReportClosed(closed_message(report))
            _ensure_room_for(report, list(files))
            message = ReportMessage.objects.create(
                report=report, author=ReportMessage.Author.REPORTER, body=body
            )
            _save_attachments(report, list(files), written, message=message)
    except BaseException:
        _remove(written)
        raise
    return message


def next_steps(report: Report) -> list[str]:
    """What happens next, for the reporter: the timeline of the report's current state, then
    what the layers above add (the case's deadlines, an offered reward)."""
    if report.status == Report.Status.RECEIVED and report.acceptance_due:
        days = settings.TIPLINE_DEADLINES["acceptance"][0]
        lines = [
            _(
                "Staff decide within %(days)d working days whether to accept your report: by "
                "%(date)s. Come back with your receipt to see their decision or their questions."
            )
            % {"days": days, "date": report.acceptance_due.isoformat()}
        ]
    elif report.status in (Report.Status.REJECTED, Report.Status.CLOSED):
        return [closed_message(report)]
    else:
        lines = []  # the status line says where it stands; the case says what comes next
    return lines + extensions.next_steps(report)


def reporter_view(report: Report) -> dict:
    """What a reporter may see of their report: its one status (derived from the report, its
    case and its reward by the registered provider) and the messages meant for them."""
    messages = report.messages.filter(visible_to_reporter=True).prefetch_related("attachments")
    stage, label = extensions.status(report)
    return {
        "status": report.status,
        "stage": stage,
        "status_label": label,
        "received_at": report.received_at,
        "category": str(report.get_category_display()),
        "township": report.township.name,
        "messages": [
            {
                "from": m.author,
                "body": m.body,
                "at": m.created_at,
                "attachments": len(m.attachments.all()),
            }
            for m in messages
        ],
    }


@sensitive_variables()
def lookup_receipt(
    receipt: str, client_bucket: str, client_network: str | None = None
) -> Report | None:
    """Find a report by receipt for a public client. The guess is admitted (or refused with
    Throttled) before the look-up; a wrong receipt keeps its count, a right one gives it back."""
    guess = throttle.admit_receipt_guess(client_bucket, client_network)
    report = find_by_receipt(receipt)
    if report is not None:
        guess.was_right()
    return report
