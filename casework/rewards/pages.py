"""What rewards add to casework's own pages: the case page's reward card, the report page's
eligibility marks and each role's count on the staff home."""

from django.db.models import Count, Q
from django.urls import reverse
from django.utils.translation import ngettext

from org.scope import in_townships

from .. import panels
from ..states import State
from . import eligibility
from .forms import MarksForm
from .models import ReportEligibility, Reward
from .states import PERM_APPROVE, PERM_MARK, PERM_PAY, PERM_PROPOSE, PERM_VIEW, RewardState


def case_card(case, user) -> dict:
    reward = Reward.objects.filter(case=case).first()
    card = {"case": case, "reward": reward, "verdicts": [], "can_propose": False}
    # The reward's own page only for those its view lets in (a clerk or an investigator reads
    # the state and amount here, without a link that would answer 403).
    card["can_open"] = reward is not None and user.has_perm(PERM_VIEW)
    if reward is None and case.state in (State.PENALIZED, State.TRANSFERRED):
        # No reward: say why, in the words the proposal would have recorded.
        card["verdicts"] = [
            {"report": v.report, "words": [str(eligibility.REASONS[c]) for c in v.reasons]}
            for v in eligibility.assess(case)
        ]
        card["can_propose"] = user.has_perm(PERM_PROPOSE)
    return card


def marks_form(report, user):
    if not user.has_perm(PERM_MARK):
        return None
    marks = ReportEligibility.objects.filter(report=report).first()
    initial = {}
    if marks is not None:
        initial = {
            name: getattr(marks, name)
            for name in ("reporter_is_staff", "reporter_is_involved", "falsified", "receipt_issued")
        }
        initial["note"] = marks.note
    return MarksForm(initial=initial, report=report, auto_id="id_marks_%s")


def home_counts(user) -> list[dict]:
    """Each role's own count for the staff home: supervisors the proposals awaiting their
    approval, finance the claims awaiting payment."""
    wanted = {}
    if user.has_perm(PERM_APPROVE):
        wanted["proposed"] = Count("pk", filter=Q(state=RewardState.PROPOSED))
    if user.has_perm(PERM_PAY):
        wanted["claimed"] = Count("pk", filter=Q(state=RewardState.CLAIMED))
    if not wanted:
        return []
    # One query for both, over the rewards in the states counted only (index: township, state).
    states = [RewardState.PROPOSED, RewardState.CLAIMED]
    rewards = in_townships(Reward.objects.filter(state__in=states).order_by(), user)
    counts = rewards.aggregate(**wanted)
    out = []
    url = reverse("staff:rewards")
    if user.has_perm(PERM_APPROVE):
        n = counts["proposed"]
        out.append(
            {
                "id": "rewards-proposed",
                "text": ngettext(
                    "%(n)d reward proposal awaiting approval",
                    "%(n)d reward proposals awaiting approval",
                    n,
                )
                % {"n": n},
                "url": f"{url}?state=proposed",
            }
        )
    if user.has_perm(PERM_PAY):
        n = counts["claimed"]
        out.append(
            {
                "id": "rewards-claimed",
                "text": ngettext(
                    "%(n)d claimed reward awaiting payment",
                    "%(n)d claimed rewards awaiting payment",
                    n,
                )
                % {"n": n},
                "url": f"{url}?state=claimed",
            }
        )
    return out


def register() -> None:
    panels.register(panels.CASE, "reward_card", case_card)
    panels.register(panels.REPORT, "marks_form", marks_form)
    panels.register(panels.HOME, "reward_counts", home_counts)
