"""The states of a reward, the outcomes a policy prices, and the permissions of each step."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class RewardState(models.TextChoices):
    PROPOSED = "proposed", _("Proposed, awaiting approval")
    APPROVED = "approved", _("Approved, offered to the reporter")
    CLAIMED = "claimed", _("Claimed, awaiting payment")
    PAID = "paid", _("Paid")
    CANCELLED = "cancelled", _("Cancelled")
    LAPSED = "lapsed", _("Lapsed (not claimed in time)")


# A case cannot be archived while its reward is in one of these states.
PENDING = (RewardState.PROPOSED, RewardState.APPROVED, RewardState.CLAIMED)


class Outcome(models.TextChoices):
    PENALIZED = "penalized", _("Administrative penalty (查处)")
    TRANSFERRED = "transferred", _("Transferred to police as a crime (移送)")


class Method(models.TextChoices):
    BANK = "bank", _("Bank transfer to an account in the reporter's name")
    IN_PERSON = "in_person", _("In person, against a one-time claim code")


PERM_VIEW = "rewards.view_reward"
PERM_APPROVE = "rewards.approve_reward"
PERM_CANCEL = "rewards.cancel_reward"
PERM_PAY = "rewards.pay_reward"
PERM_LEDGER = "rewards.view_ledger"
PERM_MARK = "rewards.mark_report"
# Proposing by hand (when the automatic proposal found nobody and a mark was corrected since).
PERM_PROPOSE = "casework.decide_case"
