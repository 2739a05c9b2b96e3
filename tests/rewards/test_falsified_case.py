"""A case marked falsified (弄虚作假) earns no reward: the marking cancels a pending reward in its
own transaction; a paid reward stays paid (the marking records why it should not have been)."""

import pytest

from casework.assessment import services as assessment
from casework.errors import NotAllowed
from casework.models import AuditEntry
from casework.rewards.models import Reward
from tipline.attachments import sanitize

from .helpers import pay, png_bytes

pytestmark = pytest.mark.django_db

REASON = "县督查组核查属实"


def finding():
    return sanitize(png_bytes(), max_bytes=1024 * 1024)


@pytest.mark.parametrize("stage", ["proposed", "approved", "claimed"])
def test_marking_falsified_cancels_a_pending_reward(request, cast, stage):
    reward, _receipt = request.getfixturevalue(stage)
    assert reward.state == stage

    assessment.mark_falsified(reward.case_id, cast["supervisor"], REASON, finding())

    reward = Reward.objects.get(pk=reward.pk)
    assert reward.state == "cancelled"
    assert reward.cancel_reason == f"案件经查实存在弄虚作假：{REASON}"
    entry = AuditEntry.objects.filter(action="reward.cancelled").get()
    assert (entry.actor, entry.data["source"]) == (cast["supervisor"], stage)
    marked = AuditEntry.objects.filter(action="case.falsified").get()
    assert marked.pk < entry.pk  # one transaction: the marking, then the cancellation


def test_a_paid_reward_stays_paid(claimed, cast):
    reward, _receipt = claimed
    pay(reward, cast["finance"])

    assessment.mark_falsified(reward.case_id, cast["supervisor"], REASON, finding())

    assert Reward.objects.get(pk=reward.pk).state == "paid"
    assert not AuditEntry.objects.filter(action="reward.cancelled").exists()


def test_a_marker_who_may_not_cancel_rewards_changes_nothing(proposed, cast, units):
    """Marking needs the right to cancel the reward too: otherwise neither happens."""
    from django.contrib.auth.models import Permission

    from org import roles

    from .conftest import make_staff

    reward, _receipt = proposed
    marker = make_staff("inspector", roles.INVESTIGATOR, units["county_fp"])
    marker.user_permissions.add(Permission.objects.get(codename="mark_falsified"))
    marker = type(marker).objects.get(pk=marker.pk)
    audit_before = AuditEntry.objects.count()

    with pytest.raises(NotAllowed):
        assessment.mark_falsified(reward.case_id, marker, REASON, finding())

    assert Reward.objects.get(pk=reward.pk).state == "proposed"
    assert AuditEntry.objects.count() == audit_before
