"""Opening a new case for a report the system suggests as a repeat of an open case.

Only reports linked to a case count as repeats, so opening a new case for a suggested repeat
would avoid the repeat deduction. The clerk may still do it (the suggestion can be wrong), but
must say why: a reason from a short list and a few words. The choice is recorded in the audit
log, in the same transaction as the new case, and the county's assessment page lists these
reports per township for review.
"""

from datetime import datetime

from django.db import transaction
from django.utils.translation import gettext as _

from org import scope
from tipline.models import Report

from .. import audit
from .. import services as casework
from ..audit_catalogue import Action
from ..errors import NotAllowed, ServiceError
from ..models import AuditEntry, Case
from ..repeat_reasons import NotRepeatReason
from ..states import PERM_TRIAGE
from . import repeats

MIN_NOTE = 4  # characters: a few words, not a dot


class RepeatReasonRequired(ServiceError):
    """Refused: the report was suggested as a repeat and no (complete) reason was given.
    ``field`` names the form field concerned; ``suggested`` the suggested case numbers."""

    def __init__(self, message, field, suggested):
        super().__init__(message)
        self.field, self.suggested = field, suggested


def open_case(
    report_id,
    user,
    *,
    title: str = "",
    involves_birth_permit: bool = False,
    repeat_reason: str = "",
    repeat_note: str = "",
) -> Case:
    """受理 with a new case (casework.services.open_case), refused without a reason when the
    system suggests the report repeats an open case of its township."""
    if not user.has_perm(PERM_TRIAGE):
        raise NotAllowed(_("You are not allowed to do this."))
    repeat_note = (repeat_note or "").strip()[:500]
    with transaction.atomic():
        report = Report.objects.select_for_update(of=("self",)).get(pk=report_id)
        scope.require(user, report.township_id)
        suggested = []
        if report.status == Report.Status.RECEIVED:  # else open_case refuses it below
            suggested = [s.case.number for s in repeats.suggest(report)]
        if suggested:
            if repeat_reason not in NotRepeatReason.values:
                raise RepeatReasonRequired(
                    _(
                        "The system suggests this report repeats an open case (%(cases)s). To "
                        "open a new case, choose why it is not a repeat."
                    )
                    % {"cases": "、".join(suggested)},
                    "repeat_reason",
                    suggested,
                )
            if len(repeat_note) < MIN_NOTE:
                raise RepeatReasonRequired(
                    _("Say in a few words why this report is not a repeat of %(cases)s.")
                    % {"cases": "、".join(suggested)},
                    "repeat_note",
                    suggested,
                )
        case = casework.open_case(
            report.pk, user, title=title, involves_birth_permit=involves_birth_permit
        )
        if suggested:
            audit.record(
                user,
                Action.REPEAT_OVERRIDDEN,
                report,
                case=case.number,
                suggested=suggested,
                reason=repeat_reason,
                note=repeat_note,
                township=report.township.code,
            )
    return case


def overridden(townships, start: datetime, end: datetime) -> dict[str, list[dict]]:
    """Township code → the reports opened as new cases despite a suggested repeat in
    [start, end), newest first: for the county to review. One query for the entries, one for
    the cases, one for the reports."""
    codes = [t.code for t in townships]
    entries = list(
        AuditEntry.objects.filter(
            action=Action.REPEAT_OVERRIDDEN, at__gte=start, at__lt=end, data__township__in=codes
        )
        .select_related("actor")
        .order_by("-at", "-pk")
    )
    numbers = {e.data.get("case") for e in entries}
    numbers |= {n for e in entries for n in e.data.get("suggested", [])}
    cases = dict(Case.objects.filter(number__in=numbers).values_list("number", "pk"))
    received = {
        str(pk): at
        for pk, at in Report.objects.filter(pk__in=[e.object_id for e in entries]).values_list(
            "pk", "received_at"
        )
    }
    out: dict[str, list[dict]] = {}
    for e in entries:
        reason = e.data.get("reason", "")
        out.setdefault(e.data.get("township"), []).append(
            {
                "entry": e,
                "report_id": e.object_id,
                "received_at": received.get(e.object_id),
                "case": (e.data.get("case"), cases.get(e.data.get("case"))),
                "suggested": [(n, cases.get(n)) for n in e.data.get("suggested", [])],
                "reason": str(NotRepeatReason(reason).label)
                if reason in NotRepeatReason.values
                else reason,
                "note": e.data.get("note", ""),
            }
        )
    return out
