"""The casework cast, plus what rewards need: receipts kept, authenticator codes, a case at 查处
with its reward proposed — all made through the services the app uses."""

import pytest

from casework.rewards import services as rewards
from casework.rewards.models import Reward
from tests.casework.conftest import (  # noqa: F401 — fixtures
    case,
    cast,
    investigating_case,
    login,
    make_staff,
    new_report,
    report,
    units,
    verified_client,
)

from .helpers import ACCOUNT, BANK, NAME, PHONE, approve, filed, investigate, penalize, reward_of


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.TIPLINE_RECEIPT_ARGON2 = {"memory_cost": 8, "iterations": 1, "lanes": 1}


@pytest.fixture
def filed_report(township):
    return filed(township, reporter_name=NAME, reporter_phone=PHONE)


@pytest.fixture
def proposed(filed_report, cast, units):  # noqa: F811 — fixtures imported above
    """A case at 查处 whose reward is proposed for its only report: (reward, receipt)."""
    filed_one, receipt = filed_report
    c = penalize(investigate(filed_one, cast, units), cast)
    return reward_of(c), receipt


@pytest.fixture
def approved(proposed, cast):  # noqa: F811
    reward, receipt = proposed
    return approve(reward, cast["leader"]), receipt


@pytest.fixture
def claimed(approved):
    reward, receipt = approved
    rewards.claim(reward.pk, receipt, **BANK, account_number=ACCOUNT)
    return Reward.objects.get(pk=reward.pk), receipt
