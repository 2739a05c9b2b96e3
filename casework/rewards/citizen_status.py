"""The one status a reporter reads: derived from the report's, its case's and its reward's
states, here and nowhere else (the receipt page's status line, the status API's ``status_label``
and ``stage``). Staff feedback stays a message: it never competes with this status.

Registered into tipline.extensions from the rewards app (the lowest layer that sees all three
states), so the public intake shows it without importing casework.
"""

from datetime import date

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tipline import extensions
from tipline.models import Report

from ..states import OPEN, State
from .public import visible_reward
from .states import RewardState


class Stage(models.TextChoices):
    RECEIVED = "received", _("Received, awaiting the decision to accept it")
    NOT_ACCEPTED = "not_accepted", _("Not accepted")
    INVESTIGATING = "investigating", _("Accepted, under investigation")
    DECIDED = "decided", _("A decision was taken")
    REWARD_OFFERED = "reward_offered", _("A decision was taken: a reward awaits your claim")
    REWARD_CLAIMED = "reward_claimed", _("Reward claimed, awaiting payment")
    REWARD_PAID = "reward_paid", _("Reward paid")
    REWARD_NOT_CLAIMED = "reward_not_claimed", _("The reward was not claimed in time")
    REWARD_CANCELLED = "reward_cancelled", _("The reward was cancelled")
    FINISHED = "finished", _("Handling finished")


# A reward the reporter can see (approved or later) speaks for the decided case.
_BY_REWARD = {
    RewardState.APPROVED: Stage.REWARD_OFFERED,
    RewardState.CLAIMED: Stage.REWARD_CLAIMED,
    RewardState.PAID: Stage.REWARD_PAID,
    RewardState.LAPSED: Stage.REWARD_NOT_CLAIMED,
    RewardState.CANCELLED: Stage.REWARD_CANCELLED,
}


def derive(report_status: str, case_state: str | None, reward_state: str | None) -> Stage:
    """The reporter's status from the three states (``None`` for no case or no visible reward:
    a reward still only proposed is not shown to the reporter)."""
    if report_status == Report.Status.REJECTED:
        return Stage.NOT_ACCEPTED
    if report_status == Report.Status.RECEIVED:
        return Stage.RECEIVED
    if report_status == Report.Status.CLOSED or case_state == State.ARCHIVED:
        return Stage.FINISHED
    if reward_state in _BY_REWARD:
        return _BY_REWARD[reward_state]
    if case_state is None or case_state in OPEN:
        return Stage.INVESTIGATING
    return Stage.DECIDED


def reward_state_seen(reward, today: date) -> str | None:
    """The reward's state as the reporter meets it: an offer past its claim day reads as not
    claimed in time, even before the nightly run marks it lapsed."""
    if reward is None:
        return None
    if reward.state == RewardState.APPROVED and reward.claim_due and reward.claim_due < today:
        return RewardState.LAPSED
    return reward.state


def for_report(report, today: date | None = None) -> Stage:
    today = today or timezone.localdate()
    case_state = report.case.state if report.case_id else None
    return derive(report.status, case_state, reward_state_seen(visible_reward(report), today))


def _status(report) -> tuple[str, str]:
    stage = for_report(report)
    return stage.value, str(stage.label)


API_SCHEMA = {
    "type": "string",
    "enum": list(Stage.values),
    "description": "The one status the reporter reads, from the report, case and reward states "
    "(status_label says it in words).",
}


def register() -> None:
    extensions.register_status(_status)
    extensions.register_status_field(
        extensions.StatusField(name="stage", value=lambda r: for_report(r).value, schema=API_SCHEMA)
    )
