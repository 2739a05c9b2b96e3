"""Reward services check jurisdiction themselves, whoever calls them: a 西山镇 user holding the
right permission is refused on a 中水镇 reward (OutOfScope) and nothing changes; the same call by
the county's staff succeeds."""

import inspect

import pytest
from django.utils import timezone

from casework.rewards import services as rewards
from casework.rewards import stepup
from org import roles
from org.scope import OutOfScope
from tests.casework.conftest import make_staff

from ..casework.test_access_matrix import everything
from .helpers import fresh_code, step_up

pytestmark = pytest.mark.django_db


@pytest.fixture
def xs(units):
    return {
        "supervisor": make_staff("xs_supervisor", roles.SUPERVISOR, units["xs_fp"]),
        "finance": make_staff("xs_finance", roles.FINANCE, units["xs_fp"]),
        "clerk": make_staff("xs_clerk2", roles.CLERK, units["xs_fp"]),
    }


def calls(reward, claimed_reward):
    today = timezone.localdate()
    return {
        "propose": ("supervisor", lambda u: rewards.propose(reward.case_id, u)),
        "approve": ("supervisor", lambda u: rewards.approve(reward.pk, u, otp_code=fresh_code(u))),
        "cancel": ("supervisor", lambda u: rewards.cancel(reward.pk, u, "举报人系当事人")),
        "mark_report": (
            "clerk",
            lambda u: rewards.mark_report(reward.report_id, u, falsified=True),
        ),
        "verify": ("finance", lambda u: stepup.verify(u, claimed_reward.pk, fresh_code(u))),
        "payee_details": ("finance", lambda u: rewards.payee_details(claimed_reward.pk, u)),
        "check_claim_code": (
            "finance",
            lambda u: rewards.check_claim_code(claimed_reward.pk, u, "abcdabcdabcd"),
        ),
        "pay": (
            "finance",
            lambda u: rewards.pay(
                claimed_reward.pk, u, voucher_number="PZ", paid_on=today, otp_code=fresh_code(u)
            ),
        ),
    }


NAMES = [
    "propose",
    "approve",
    "cancel",
    "mark_report",
    "verify",
    "payee_details",
    "check_claim_code",
    "pay",
]


@pytest.mark.parametrize("name", NAMES)
def test_outsider_with_the_permission_is_refused_and_nothing_changes(
    name, proposed, township, cast, units, xs
):
    from .helpers import approve, filed, investigate, penalize, reward_of

    reward, _r = proposed
    report, receipt = filed(township)
    other = reward_of(penalize(investigate(report, cast, units), cast))
    approve(other, cast["leader"])
    rewards.claim(other.pk, receipt, method="in_person")
    role, call = calls(reward, other)[name]
    fresh_code(xs[role])  # the outsider's authenticator exists before the snapshot
    before = everything()
    with pytest.raises(OutOfScope):
        call(xs[role])
    assert everything() == before


def test_the_county_staff_pass_where_outsiders_are_refused(claimed, cast):
    reward, _r = claimed
    step_up(cast["finance"], reward)
    assert rewards.payee_details(reward.pk, cast["finance"])["method"] == "bank"


def test_every_reward_service_acting_for_a_user_is_listed():
    listed = set(NAMES) | {"pay"}
    for module in (rewards, stepup):
        for name, func in inspect.getmembers(module, inspect.isfunction):
            if func.__module__ != module.__name__ or name.startswith("_"):
                continue
            if "user" in inspect.signature(func).parameters and name not in (
                "is_fresh",
                "require",
                "propose_for",
            ):
                assert name in listed, f"{module.__name__}.{name} acts for a user: test its scope"
