"""The reward policy in force on a date: the county's own, else the default (no county), else
the built-in default (3000.00 CNY for every category and outcome, 30 working days to claim)."""

from datetime import date

from django.db.models import F

from .models import DEFAULT_AMOUNT, DEFAULT_CLAIM_WINDOW, RewardPolicy

BUILT_IN = RewardPolicy(
    default_amount=DEFAULT_AMOUNT, claim_window_days=DEFAULT_CLAIM_WINDOW, note="built-in"
)


def in_force(county_id, on: date) -> RewardPolicy:
    """Policies never change rewards already proposed: the amount is copied onto the reward."""
    candidates = (
        RewardPolicy.objects.filter(effective_from__lte=on)
        .filter(county_id=county_id)
        .order_by("-effective_from")
    )
    found = candidates.first() or (
        RewardPolicy.objects.filter(effective_from__lte=on, county__isnull=True)
        .order_by(F("effective_from").desc())
        .first()
    )
    return found or BUILT_IN
