"""What the reporter's receipt page says comes next in the case their report is in: its
deadlines, in plain words. Where the report stands is the one status line
(casework.rewards.citizen_status). Registered into tipline.extensions (the public intake never
imports casework)."""

from django.conf import settings
from django.utils.translation import gettext as _

from tipline import extensions

from .models import Case
from .states import OPEN, State


def next_steps(report) -> list[str]:
    if not report.case_id:
        return []
    case = Case.objects.filter(pk=report.case_id).first()
    if case is None:
        return []
    if case.state in OPEN:
        days = settings.TIPLINE_DEADLINES["decision"][0]
        if case.extended_at:
            return [
                _("The investigation needed more time: the decision is now due by %(date)s.")
                % {"date": case.decision_due.isoformat()}
            ]
        return [
            _("A decision on the case is due within %(days)d days of acceptance: by %(date)s.")
            % {"days": days, "date": case.decision_due.isoformat()}
        ]
    if case.state == State.ARCHIVED:
        return []
    if case.feedback_given_at:
        return [_("The investigators' message below tells you the outcome.")]
    if case.feedback_due:
        return [
            _("You will be told the outcome of the case by %(date)s.")
            % {"date": case.feedback_due.isoformat()}
        ]
    return []


def register() -> None:
    extensions.register_next_steps("case", next_steps)
