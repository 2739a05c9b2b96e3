"""The reporter's side of a reward: what the receipt page and the status API show.

Registered into tipline.extensions from the app's ready(), so the public intake never imports
casework. A reporter sees their reward only once it is approved (a proposal may still be refused)
and only on the report that earned it; never the payee details they gave.
"""

from datetime import date, timedelta

from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from org import deadlines
from org.models import County
from tipline import extensions

from ..states import State
from . import policy
from .forms import ClaimForm
from .models import Reward, RewardTier
from .services import claim_version
from .states import RewardState

REWARDABLE = (State.PENALIZED, State.TRANSFERRED)  # the steps that propose a reward

API_SCHEMA = {
    "type": "object",
    "nullable": True,
    "description": "The reward this report earned, once approved; null otherwise.",
    "required": ["state", "amount", "currency", "claim_deadline", "working_days_left"],
    "properties": {
        "state": {
            "type": "string",
            "enum": [
                RewardState.APPROVED,
                RewardState.CLAIMED,
                RewardState.PAID,
                RewardState.CANCELLED,
                RewardState.LAPSED,
            ],
        },
        "amount": {
            "type": "string",
            "pattern": r"^[0-9]+\.[0-9]{2}$",
            "description": "CNY, two decimal places, as a string (never a float).",
        },
        "currency": {"type": "string", "enum": ["CNY"]},
        "claim_deadline": {
            "type": "string",
            "format": "date",
            "description": "Claim on the receipt page by this day (inclusive).",
        },
        "working_days_left": {
            "type": "integer",
            "nullable": True,
            "description": "Working days left to claim after today; null unless claimable.",
        },
        "method": {"type": "string", "nullable": True, "enum": ["bank", "in_person", None]},
        "paid_on": {"type": "string", "format": "date", "nullable": True},
    },
}


def working_days_left(due: date, today: date | None = None) -> int:
    """Working days after today up to and including the deadline (0 on the last day)."""
    today = today or timezone.localdate()
    day, count = today, 0
    while day < due:
        day += timedelta(days=1)
        if deadlines.is_workday(day):
            count += 1
    return count


def visible_reward(report) -> Reward | None:
    return (
        Reward.objects.filter(report=report, approved_at__isnull=False)
        .select_related("claim_record", "payment")
        .first()
    )


def payment_info(county) -> dict:
    """What the county tells a reporter about being paid: within how many working days of a
    bank claim, and the finance window's address and hours (empty when not set)."""
    return {
        "payment_days": county.reward_payment_working_days if county else None,
        "window_address": county.finance_window_address if county else "",
        "window_hours": county.finance_window_hours if county else "",
    }


def reporter_view(report, today: date | None = None) -> dict | None:
    reward = visible_reward(report)
    if reward is None:
        return None
    today = today or timezone.localdate()
    claimable = reward.state == RewardState.APPROVED and reward.claim_due >= today
    changeable = reward.state == RewardState.CLAIMED
    record = getattr(reward, "claim_record", None)
    payment = getattr(reward, "payment", None)
    return {
        "reward": reward,
        "state": reward.state,
        "amount": f"{reward.amount:.2f}",
        "claim_deadline": reward.claim_due,
        "working_days_left": working_days_left(reward.claim_due, today) if claimable else None,
        "claimable": claimable,
        "changeable": changeable,
        "method": record.method if record is not None else None,
        "claimed_at": (record.changed_at or record.claimed_at) if record is not None else None,
        "paid_on": payment.paid_on if payment is not None else None,
        **payment_info(report.township.county),
    }


def api_value(report) -> dict | None:
    view = reporter_view(report)
    if view is None:
        return None
    return {
        "state": view["state"],
        "amount": view["amount"],
        "currency": "CNY",
        "claim_deadline": view["claim_deadline"].isoformat(),
        "working_days_left": view["working_days_left"],
        "method": view["method"],
        "paid_on": view["paid_on"].isoformat() if view["paid_on"] else None,
    }


def render_section(request, report, receipt, form=None, view=None) -> str:
    view = view or reporter_view(report)
    if view is None:
        return ""
    if form is None:
        form = ClaimForm(
            initial={
                "receipt": receipt,
                "method": view["method"],
                "replaces": claim_version(getattr(view["reward"], "claim_record", None)),
            }
        )
    return render_to_string(
        "rewards/receipt_section.html",
        {"r": view, "form": form, "receipt": receipt},
        request=request,
    )


def next_steps(report) -> list[str]:
    """The reward's line in "what happens next": where to claim it and by when (the section
    below says how), or that it will appear once approved."""
    if not report.case_id:  # a reward is a case's: a report in no case (just filed) has none
        return []
    view = reporter_view(report)
    if view is None:
        if report.case_id and report.case.state in REWARDABLE:
            return [
                _(
                    "If a reward is approved for your report, it appears on this page with how "
                    "to claim it."
                )
            ]
        return []
    if view["claimable"]:
        return [
            _("You are offered a reward of %(amount)s yuan: claim it below by %(date)s.")
            % {"amount": view["amount"], "date": view["claim_deadline"].isoformat()}
        ]
    return []


def terms_of(rules, tiers) -> tuple:
    """(standard amount, highest amount, whether amounts differ) of a policy: the standard is
    its default amount, the highest the largest of it and its tiers, both within the cap."""
    cap = rules.cap

    def capped(amount):
        return min(amount, cap) if cap is not None else amount

    amounts = {capped(rules.default_amount), *(capped(t.amount) for t in tiers)}
    standard = capped(rules.default_amount)
    return standard, max(amounts), len(amounts) > 1


def reward_terms() -> list[extensions.RewardTerms]:
    """What the policy in force today promises in each county with an active township; one
    statement for all when every county's terms agree."""
    today = timezone.localdate()
    counties = list(County.objects.filter(townships__active=True).distinct().order_by("code"))
    found = []
    for county in counties:
        rules = policy.in_force(county.pk, today)
        tiers = list(RewardTier.objects.filter(policy=rules)) if rules.pk else []
        found.append((county.name, *terms_of(rules, tiers)))
    if not found:
        rules = policy.in_force(None, today)
        tiers = list(RewardTier.objects.filter(policy=rules)) if rules.pk else []
        found.append(("", *terms_of(rules, tiers)))
    if len({f[1:] for f in found}) == 1:
        found = [("", *found[0][1:])]
    return [extensions.RewardTerms(*f) for f in found]


def register() -> None:
    extensions.register_public_form(ClaimForm)
    extensions.register_status_section("reward", render_section)
    extensions.register_next_steps("reward", next_steps)
    extensions.register_reward_terms("reward", reward_terms)
    extensions.register_status_field(
        extensions.StatusField(name="reward", value=api_value, schema=API_SCHEMA)
    )
