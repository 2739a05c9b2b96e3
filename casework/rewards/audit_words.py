"""How the audit page names rewards and their values (registered into casework.audit_display
from the app's ready(): the audit page reads no rewards model itself)."""

from django.utils.translation import gettext as _

from .. import audit_display
from .models import Reward
from .states import Method, RewardState


def _load(ids) -> dict:
    return audit_display.by_pk(
        Reward.objects.select_related("case").only(
            "id", "state", "case__id", "case__number", "case__state"
        ),
        ids,
        audit_display.as_int,
    )


def _reward(pk, reward) -> str:
    if reward is None:
        return _("reward #%(id)s") % {"id": pk}
    return _("the reward of case %(number)s") % {"number": reward.case.number}


def _ledger(year, _unused) -> str:
    return _("rewards ledger %(year)s") % {"year": year}


def register() -> None:
    audit_display.register_object("rewards.reward", _reward, load=_load)
    audit_display.register_object("rewards.ledger", _ledger)
    audit_display.register_choices(("source", "target", "outcome"), RewardState)
    audit_display.register_choices(("method",), Method)
