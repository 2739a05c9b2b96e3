"""Four eyes on every reward: whoever proposed it (by taking 查处 or 移送, or by proposing it
again by hand) may not approve it, superusers included; a second entitled person may. The
reward page names proposer, approver and payer by full name."""

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from casework import services
from casework.models import AuditEntry, CaseDocument
from casework.rewards import services as rewards
from casework.rewards.models import Reward
from org.models import StaffProfile

from .helpers import (
    ACCOUNT,
    BANK,
    approve,
    file_doc,
    filed,
    fresh_code,
    investigate,
    pay,
    penalize,
    reward_of,
    step_up,
)

pytestmark = pytest.mark.django_db


def fresh(reward):
    return Reward.objects.get(pk=reward.pk)


def approvals():
    return AuditEntry.objects.filter(action="reward.approved").count()


def test_the_proposer_is_refused_and_a_second_supervisor_approves(proposed, cast, english):
    reward, _receipt = proposed
    assert fresh(reward).proposed_by == cast["supervisor"]  # he took 查处
    step_up(cast["supervisor"], reward)
    before = AuditEntry.objects.count()
    with pytest.raises(rewards.ServiceError, match="proposed the reward may not approve"):
        rewards.approve(reward.pk, cast["supervisor"])
    stored = fresh(reward)
    assert (stored.state, stored.approved_by, stored.approved_at) == ("proposed", None, None)
    assert AuditEntry.objects.count() == before and approvals() == 0
    assert not CaseDocument.objects.filter(doc_type__code="reward_approval").exists()

    approve(reward, cast["leader"])
    stored = fresh(reward)
    assert (stored.state, stored.approved_by) == ("approved", cast["leader"])
    assert approvals() == 1


def test_the_refusal_comes_before_a_code_is_spent(proposed, cast, english):
    reward, _receipt = proposed
    before = AuditEntry.objects.count()
    with pytest.raises(rewards.ServiceError, match="proposed"):
        rewards.approve(reward.pk, cast["supervisor"], otp_code=fresh_code(cast["supervisor"]))
    assert AuditEntry.objects.count() == before  # no step-up recorded either
    assert fresh(reward).state == "proposed"


def test_the_message_is_in_chinese(proposed, cast):
    reward, _receipt = proposed
    step_up(cast["supervisor"], reward)
    with pytest.raises(rewards.ServiceError) as refused:
        rewards.approve(reward.pk, cast["supervisor"])
    assert "提出该奖励的人不得审批" in str(refused.value)


def test_a_superuser_who_proposed_may_not_approve_either(township, cast, units, english):
    boss = get_user_model().objects.create_superuser("boss", "boss@example.invalid", "pw-boss")
    StaffProfile.objects.create(user=boss, unit=units["county_fp"])
    report, _receipt = filed(township)
    case = investigate(report, cast, units)
    file_doc(case, cast["investigator"], "penalty_decision")
    services.penalize(case.pk, boss, "罚款三万元")
    reward = reward_of(case)
    assert reward.proposed_by == boss
    step_up(boss, reward)
    with pytest.raises(rewards.ServiceError, match="proposed"):
        rewards.approve(reward.pk, boss)
    assert fresh(reward).state == "proposed" and approvals() == 0
    approve(reward, cast["supervisor"])  # did not propose, did not investigate
    assert fresh(reward).approved_by == cast["supervisor"]


def test_the_step_that_transfers_proposes_and_its_taker_may_not_approve(
    township, cast, units, english
):
    report, _receipt = filed(township)
    case = investigate(report, cast, units)
    services.transfer(case.pk, cast["leader"], "县公安局刑侦大队", timezone.localdate())
    reward = reward_of(case)
    assert reward.proposed_by == cast["leader"]
    step_up(cast["leader"], reward)
    with pytest.raises(rewards.ServiceError, match="proposed"):
        rewards.approve(reward.pk, cast["leader"])
    approve(reward, cast["supervisor"])
    assert fresh(reward).state == "approved"


def test_a_supervisor_who_proposes_by_hand_is_the_proposer(township, cast, units, english):
    report, _receipt = filed(township)
    rewards.mark_report(report.pk, cast["clerk"], falsified=True)
    case = penalize(investigate(report, cast, units), cast)  # nothing eligible: no reward
    assert not Reward.objects.exists()
    rewards.mark_report(report.pk, cast["clerk"], falsified=False)
    reward = rewards.propose(case.pk, cast["leader"])
    assert reward.proposed_by == cast["leader"]
    step_up(cast["leader"], reward)
    with pytest.raises(rewards.ServiceError, match="proposed"):
        rewards.approve(reward.pk, cast["leader"])
    approve(reward, cast["supervisor"])  # who took 查处 did not propose this one
    assert fresh(reward).approved_by == cast["supervisor"]


def test_the_page_names_proposer_approver_and_payer(proposed, cast, login):
    reward, receipt = proposed
    for user, (family, given) in (
        (cast["supervisor"], ("刘", "建国")),
        (cast["leader"], ("郑", "海")),
        (cast["finance"], ("杨", "帆")),
    ):
        user.last_name, user.first_name = family, given
        user.save(update_fields=["last_name", "first_name"])
    approve(reward, cast["leader"])
    rewards.claim(reward.pk, receipt, **BANK, account_number=ACCOUNT)
    pay(reward, cast["finance"])
    html = login(cast["auditor"]).get(f"/staff/rewards/{reward.pk}/").content.decode()

    def field(name):
        part = html[html.index(f'id="{name}"') :]
        return part[: part.index("</dd>")]

    assert "刘建国" in field("reward-proposed")
    assert "郑海" in field("reward-approved")
    assert "杨帆" in field("reward-payment")
    for username in ("supervisor", "leader", "finance"):
        assert f"> {username}" not in html and f"· {username}<" not in html


def test_old_rewards_get_their_proposer_from_the_audit_log(proposed, cast):
    """The migration's backfill: a reward proposed before the field existed takes the actor of
    its reward.proposed audit entry."""
    from importlib import import_module

    from django.apps import apps

    migration = import_module("casework.rewards.migrations.0004_reward_proposed_by")
    reward, _receipt = proposed
    Reward.objects.filter(pk=reward.pk).update(proposed_by=None)
    migration.proposers_from_the_audit_log(apps, None)
    assert fresh(reward).proposed_by == cast["supervisor"]


@pytest.fixture
def english():
    from django.utils import translation

    with translation.override("en"):
        yield
