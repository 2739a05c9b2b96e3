"""Where the layers above the case core hook into it. The core imports none of them: each app
registers here from its ``AppConfig.ready()``, the way a pretix plugin connects its receivers to
the signals pretix's core sends.

- ``STEP_HOOKS``: what other apps add to the case's steps (casework/steps.py): blockers checked
  before a step's own conditions, effects run after its own, sentences for its confirmation.
  casework.rewards proposes the reward at 查处 and 移送, holds 奖励 until it is paid and holds
  archiving while a reward is open.
- ``case_falsified``: a case was found falsified (弄虚作假); sent by casework.assessment with
  ``case``, ``user`` and ``reason``; casework.rewards cancels a reward not yet settled.

Both run inside the transaction of the change that triggers them, and an exception in a handler
propagates and rolls that change back: a money rule skipped quietly (a 查处 without its reward
proposal, a falsified case still paid) is worse than a refused step. So the signal is sent with
``send``, never ``send_robust``, and the step hooks are a plain registry whose blockers answer
and whose effects run in order.
"""

from django.dispatch import Signal

from .machine import Hooks

STEP_HOOKS = Hooks()

case_falsified = Signal()  # sender=Case; case, user, reason


def announce_falsified(case, user, reason: str) -> None:
    """Tell the apps that registered what follows a falsified case (in the caller's
    transaction; a receiver's failure propagates)."""
    case_falsified.send(sender=type(case), case=case, user=user, reason=reason)
