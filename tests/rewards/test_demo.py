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

pytestmark = pytest.mark.django_db


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
