"""seed_demo adds rewards in every state, made through the services, and says which demo receipt
has a reward to claim."""

import io
import re

import pytest
from django.core.management import call_command

from casework import audit
from casework.rewards import claims
from casework.rewards.models import Reward, RewardClaim
from casework.rewards.public import reporter_view
from casework.rewards.states import RewardState
from tipline import services as intake

pytestmark = [pytest.mark.django_db, pytest.mark.slow]  # seeds the whole demo county


def test_seed_demo_has_rewards_in_every_state():
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    text = out.getvalue()
    assert set(Reward.objects.values_list("state", flat=True)) == set(RewardState.values)
    waiting = RewardClaim.objects.filter(reward__state=RewardState.CLAIMED)
    assert set(waiting.values_list("method", flat=True)) == {"bank", "in_person"}
    # The printed receipt opens a report whose reward can be claimed now.
    receipt = re.search(r"reward to claim on /receipt/: (\d{16})", text).group(1)
    view = reporter_view(intake.find_by_receipt(receipt))
    assert view is not None and view["claimable"]
    # The printed claim code is the one finance will be shown at the counter.
    code = re.search(r"in-person reward awaiting payment: ([\w-]+)", text).group(1)
    in_person = waiting.get(method="in_person")
    assert claims.code_matches(code, in_person.code_hash)
    ok, message = audit.verify()
    assert ok, message


def test_every_demo_reward_names_its_proposer_and_another_person_may_approve_it():
    """Four eyes in the demo: each reward records who proposed it, and for each one still
    proposed a second person with the approval permission (the leader, 分管领导) is neither its
    proposer nor its case's investigator, so it can be approved."""
    from django.contrib.auth import get_user_model

    from casework.rewards import steps
    from casework.rewards.states import PERM_APPROVE

    call_command("seed_demo", stdout=io.StringIO())
    rewards = list(Reward.objects.select_related("case", "proposed_by", "approved_by"))
    assert len(rewards) >= 6
    assert all(r.proposed_by is not None for r in rewards)
    assert all(r.approved_by_id != r.proposed_by_id for r in rewards if r.approved_by_id)
    leader = get_user_model().objects.get(username="leader")
    assert leader.has_perm(PERM_APPROVE) and leader.get_full_name()
    pending = [r for r in rewards if r.state == RewardState.PROPOSED]
    assert pending
    approvers = [u for u in get_user_model().objects.all() if u.has_perm(PERM_APPROVE)]
    for reward in pending:
        able = [u for u in approvers if steps.APPROVE.refusal(reward, u) is None]
        assert [u for u in able if not u.is_superuser], reward
