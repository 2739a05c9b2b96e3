"""What the rewards add to the case core, registered from the app's ready() (the core never
imports rewards): 查处 and 移送 propose the reward in the step's own transaction (a failure
refuses the step), 奖励 waits for the payment, archiving waits while a reward is open, and a
case found falsified loses a reward not yet settled."""

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..hooks import STEP_HOOKS, case_falsified
from ..machine import Condition
from .models import Reward
from .services import cancel, propose_for
from .states import PENDING, RewardState


def propose_reward(case, user, now) -> None:
    """The reward for the first eligible report (a case has one reward: a transferred case
    penalized later keeps the one it has)."""
    propose_for(case, user, now)


def reward_paid(case) -> bool:
    return Reward.objects.filter(case=case, state=RewardState.PAID).exists()


def no_reward_pending(case) -> bool:
    return not Reward.objects.filter(case=case, state__in=PENDING).exists()


def proposal_note(case) -> list[str]:
    if Reward.objects.filter(case=case).exists():
        return []
    return [
        str(
            _(
                "A reward will be proposed for the first eligible report; a supervisor "
                "who is not the case's investigator approves it."
            )
        )
    ]


def cancel_if_falsified(sender, *, case, user, reason, **kwargs) -> None:
    """A falsified case earns no reward: cancel one not yet settled, in the marking's
    transaction (a paid reward stays paid; the marking is the record of why it should not
    have been)."""
    reward = Reward.objects.filter(case=case, state__in=PENDING).first()
    if reward is not None:
        with translation.override(settings.LANGUAGE_CODE):
            why = _("The case was found falsified (弄虚作假): %(reason)s") % {"reason": reason}
        cancel(reward.pk, user, why)


def register() -> None:
    for step in ("penalize", "transfer"):
        STEP_HOOKS.after(step, "rewards.propose", propose_reward)
        STEP_HOOKS.note(step, "rewards.propose", proposal_note)
    STEP_HOOKS.block(
        "reward",
        "rewards.paid",
        Condition(reward_paid, gettext_lazy("The reward is paid by finance on the rewards pages.")),
    )
    STEP_HOOKS.block(
        "archive",
        "rewards.settled",
        Condition(
            no_reward_pending,
            gettext_lazy(
                "The reward is still proposed, approved or claimed: it must be paid, cancelled "
                "or lapse first."
            ),
        ),
    )
    case_falsified.connect(cancel_if_falsified, dispatch_uid="rewards.cancel_if_falsified")
