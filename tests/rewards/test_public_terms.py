"""The public start page states what the reward policy in force says (the standard amount and,
where tiers or a cap make amounts differ, the highest), not a fixed amount from a setting."""

import re
from datetime import date
from decimal import Decimal

import pytest
from django.conf import settings
from django.test import Client

from casework.rewards.models import RewardPolicy, RewardTier
from org.models import County, Township

pytestmark = pytest.mark.django_db


def terms(client=None) -> list[str]:
    html = (client or Client()).get("/").content.decode()
    found = re.search(r'<ul id="reward-terms">(.*?)</ul>', html, re.S)
    assert found, "no reward terms on the start page"
    return [re.sub(r"\s+", " ", li).strip() for li in re.findall(r"<li>(.*?)</li>", found.group(1))]


def policy(county, amount, cap=None, tiers=()):
    p = RewardPolicy.objects.create(
        county=county, effective_from=date(2020, 1, 1), default_amount=Decimal(amount), cap=cap
    )
    for category, outcome, tier in tiers:
        RewardTier.objects.create(
            policy=p, category=category, outcome=outcome, amount=Decimal(tier)
        )
    return p


def test_no_fixed_amount_setting_is_left():
    assert not hasattr(settings, "TIPLINE_REWARD_AMOUNT")


def test_without_a_policy_the_built_in_3000(township):
    assert terms() == ["3000元。"]


def test_a_county_policy_with_tiers_and_a_cap_states_the_standard_and_the_highest(township):
    # default 2000; a transferred sex-determination case 10000, capped at 8000: at most 8000
    policy(
        township.county,
        "2000.00",
        cap=Decimal("8000.00"),
        tiers=[("sex_determination", "transferred", "10000.00")],
    )
    assert terms() == ["一般奖励2000元，最高8000元，依案件类别和处理结果而定。"]


def test_lower_tiers_only_say_up_to_the_standard(township):
    # default 3000; drug sales 1000: nobody gets more than 3000, some get less
    policy(township.county, "3000.00", tiers=[("abortion_drug_sale", "penalized", "1000.00")])
    assert terms() == ["最高3000元，依案件类别和处理结果而定。"]


def test_the_policy_in_force_today_and_each_county_by_name_when_they_differ(township):
    policy(township.county, "2500.50")
    RewardPolicy.objects.create(
        county=township.county, effective_from=date(2100, 1, 1), default_amount=Decimal("9999")
    )  # not in force yet
    other = County.objects.create(code="east", name="东县")
    Township.objects.create(county=other, code="dongcun", name="东村镇")
    policy(None, "5000.00")  # the default, for a county without its own
    assert terms() == ["示范县: 2500.50元。", "东县: 5000元。"]
