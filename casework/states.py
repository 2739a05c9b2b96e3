"""The states of a case (案件) and the permissions its steps need."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class State(models.TextChoices):
    ACCEPTED = "accepted", _("Accepted (受理)")
    INVESTIGATING = "investigating", _("Investigating (调查)")
    PENALIZED = "penalized", _("Penalized (查处)")
    REWARDED = "rewarded", _("Rewarded (奖励)")
    ARCHIVED = "archived", _("Closed and archived (结案归档)")
    UNFOUNDED = "unfounded", _("Unfounded (查无实据)")
    TRANSFERRED = "transferred", _("Transferred to police (移送)")


OPEN = (State.ACCEPTED, State.INVESTIGATING)
DECIDED = (State.PENALIZED, State.UNFOUNDED, State.TRANSFERRED)

PERM_TRIAGE = "casework.triage_report"
PERM_ASSIGN = "casework.assign_case"
PERM_INVESTIGATE = "casework.investigate_case"
PERM_DECIDE = "casework.decide_case"
PERM_EXTEND = "casework.extend_deadline"
PERM_ARCHIVE = "casework.archive_case"
PERM_PAY_REWARD = "rewards.pay_reward"  # the 奖励 step is taken by the reward payment
