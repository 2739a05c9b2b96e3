"""The rewards hook into the case core from their ready(): the proposal at 查处 runs in the
step's transaction, and when it fails the step is refused and nothing of it stays (a money rule
is never skipped quietly)."""

import pytest

from casework import audit, services
from casework.hooks import STEP_HOOKS
from casework.models import AuditEntry, Case, State
from casework.rewards import case_hooks
from casework.rewards.models import Reward

from .helpers import file_doc


def test_the_rewards_app_registered_its_hooks():
    assert case_hooks.propose_reward in STEP_HOOKS.effects("penalize")
    assert case_hooks.propose_reward in STEP_HOOKS.effects("transfer")
    assert STEP_HOOKS.effects("find_unfounded") == ()
    assert [c.check for c in STEP_HOOKS.blockers("reward")] == [case_hooks.reward_paid]
    assert [c.check for c in STEP_HOOKS.blockers("archive")] == [case_hooks.no_reward_pending]


def test_a_failed_proposal_refuses_the_penalty_step(investigating_case, cast, monkeypatch):
    file_doc(investigating_case, cast["investigator"], "penalty_decision")
    entries = AuditEntry.objects.count()
    real = audit.record

    def failing(actor, action, *args, **kwargs):
        if action == "reward.proposed":
            raise RuntimeError("disk full")
        return real(actor, action, *args, **kwargs)

    monkeypatch.setattr(audit, "record", failing)
    with pytest.raises(RuntimeError):
        services.penalize(investigating_case.pk, cast["supervisor"], "罚款")
    case = Case.objects.get(pk=investigating_case.pk)
    assert (case.state, case.closed_at, case.penalized_at, case.outcome) == (
        State.INVESTIGATING,
        None,
        None,
        "",
    )
    assert not Reward.objects.exists()
    assert AuditEntry.objects.count() == entries  # no transition, no proposal
