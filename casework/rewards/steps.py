"""Every step of the reward machine, declared once with the same machinery (casework/machine.py)
as a case's steps.

The model binds each declaration with ``step.fsm_transition(state)``; the services take a step only
through ``services._take`` (lock, scope, permission, conditions, guards, effects, save, audit), and
the reward page offers exactly the steps ``offered`` returns. django-fsm checks the conditions
but never the permission, and sees only the row: rules about *who* acts (four eyes) are guards,
which the service checks with the user. Adding a step means one declaration here and one line on
the model.
"""

from dataclasses import dataclass

from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from org import deadlines

from ..machine import Condition, Guard, Step
from .states import PERM_APPROVE, PERM_CANCEL, PERM_PAY, Method, RewardState


@dataclass(frozen=True)
class RewardStep(Step):
    step_up: bool = False  # the user re-enters a current TOTP code first


# --- conditions and guards --------------------------------------------------------------------


def code_checked_if_in_person(reward) -> bool:
    claim = getattr(reward, "claim_record", None)
    if claim is None:
        return False
    return claim.method != Method.IN_PERSON or claim.code_checked_at is not None


def not_the_proposer(reward, user) -> bool:
    return reward.proposed_by_id != user.pk


def not_the_investigator(reward, user) -> bool:
    return reward.case.investigator_id != user.pk


def not_the_approver(reward, user) -> bool:
    return reward.approved_by_id != user.pk


# --- effects ----------------------------------------------------------------------------------


def record_approval(reward, user, now) -> None:
    reward.approved_at, reward.approved_by = now, user
    # The reporter is told on approval; the claim window runs in working days from that day.
    reward.claim_due = deadlines.add_working_days(timezone.localdate(now), reward.claim_window_days)


def record_claim(reward, user, now) -> None:
    reward.claimed_at = now


def record_payment(reward, user, now) -> None:
    reward.paid_at = now


def record_cancel(reward, user, now) -> None:
    reward.cancelled_at, reward.cancelled_by = now, user


def record_lapse(reward, user, now) -> None:
    reward.lapsed_at = now


# --- the steps ----------------------------------------------------------------------------------

APPROVE = RewardStep(
    name="approve",
    label=_("Approve the reward"),
    sources=(RewardState.PROPOSED,),
    target=RewardState.APPROVED,
    permission=PERM_APPROVE,
    history=_("%(actor)s approved the reward"),
    guards=(
        Guard(not_the_proposer, _("The person who proposed the reward may not approve it.")),
        Guard(not_the_investigator, _("The investigator of the case may not approve its reward.")),
    ),
    effects=(record_approval,),
    step_up=True,
    confirm=_(
        "The reporter will be offered the reward on their receipt page and the reward approval "
        "form (奖励审批表) is filed into the case file."
    ),
)
CLAIM = RewardStep(
    name="claim",
    label=_("Claim the reward"),
    sources=(RewardState.APPROVED,),
    target=RewardState.CLAIMED,
    permission="",  # the reporter, proving they hold the receipt
    history=_("The reporter claimed the reward"),
    effects=(record_claim,),
    by_hand=False,
)
PAY = RewardStep(
    name="pay",
    label=_("Record the payment"),
    sources=(RewardState.CLAIMED,),
    target=RewardState.PAID,
    permission=PERM_PAY,
    history=_("%(actor)s paid the reward"),
    conditions=(
        Condition(
            code_checked_if_in_person,
            _("Check the reporter's claim code at the counter before paying."),
        ),
    ),
    guards=(Guard(not_the_approver, _("The person who approved the reward may not pay it.")),),
    effects=(record_payment,),
    step_up=True,
    confirm=_("The case moves to 奖励 and the payment voucher (支付凭证) is filed into its file."),
)
CANCEL = RewardStep(
    name="cancel",
    label=_("Cancel the reward"),
    sources=(RewardState.PROPOSED, RewardState.APPROVED, RewardState.CLAIMED),
    target=RewardState.CANCELLED,
    permission=PERM_CANCEL,
    history=_("%(actor)s cancelled the reward"),
    inputs=("reason",),
    missing_inputs=_("Give the reason for cancelling the reward."),
    effects=(record_cancel,),
    confirm=_("The reporter will not be paid. This cannot be undone."),
)
LAPSE = RewardStep(
    name="lapse",
    label=_("Lapse"),
    sources=(RewardState.APPROVED,),
    target=RewardState.LAPSED,
    permission="",  # the daily job
    history=_("The reward lapsed: it was not claimed in time"),
    effects=(record_lapse,),
    by_hand=False,
)

STEPS: dict[str, RewardStep] = {s.name: s for s in (APPROVE, CLAIM, PAY, CANCEL, LAPSE)}


def offered(reward, user) -> list[tuple[RewardStep, Promise | None]]:
    """Staff steps this user may take from the reward's state, each with what blocks it."""
    return [
        (step, step.refusal(reward, user))
        for step in STEPS.values()
        if step.by_hand and reward.state in step.sources and user.has_perm(step.permission)
    ]
