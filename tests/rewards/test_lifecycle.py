"""The reward machine through its services: proposed → approved → claimed → paid, with the
side paths cancelled and lapsed; four eyes, step-up codes, the claim window, the case's 奖励."""

import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django_otp.plugins.otp_totp.models import TOTPDevice

from casework import audit, services
from casework.models import AuditEntry, Case, CaseDocument, State
from casework.rewards import services as rewards
from casework.rewards import stepup
from casework.rewards.models import Reward, RewardPayment, StepUp
from casework.rewards.public import working_days_left
from org import roles

from .helpers import (
    approve,
    code_for,
    device_for,
    fresh_code,
    investigate,
    pay,
    reward_of,
    step_up,
    waive,
)

pytestmark = pytest.mark.django_db


def fresh(reward) -> Reward:
    return Reward.objects.get(pk=reward.pk)


def actions(reward):
    return list(
        AuditEntry.objects.filter(object_type="rewards.reward", object_id=str(reward.pk))
        .order_by("id")
        .values_list("action", flat=True)
    )


@pytest.fixture
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def freeze(monkeypatch):
    def _freeze(moment: datetime):
        monkeypatch.setattr(timezone, "now", lambda: moment)

    return _freeze


# --- proposal ---------------------------------------------------------------------------------


def test_penalty_proposes_the_reward_in_the_same_step(proposed, cast):
    reward, _receipt = proposed
    assert reward.state == "proposed"
    assert reward.amount == Decimal("3000.00")
    assert reward.outcome == "penalized"
    assert reward.claim_window_days == 30
    assert [item["reasons"] for item in reward.selection] == [["chosen"]]
    entry = AuditEntry.objects.get(action="reward.proposed", object_id=str(reward.pk))
    assert entry.actor == cast["supervisor"]
    assert entry.data["amount"] == "3000.00"
    # Idempotent: asking again returns the same reward and writes nothing.
    n = AuditEntry.objects.count()
    assert rewards.propose(reward.case_id) == reward
    assert rewards.propose(reward.case_id, cast["supervisor"]) == reward
    assert Reward.objects.count() == 1
    assert AuditEntry.objects.count() == n


def test_a_failed_penalty_step_proposes_nothing(investigating_case, cast, monkeypatch):
    from .helpers import file_doc

    file_doc(investigating_case, cast["investigator"], "penalty_decision")
    real = audit.record

    def failing(actor, action, *args, **kwargs):
        if action == "case.transition":
            raise RuntimeError("disk full")
        return real(actor, action, *args, **kwargs)

    monkeypatch.setattr(audit, "record", failing)
    with pytest.raises(RuntimeError):
        services.penalize(investigating_case.pk, cast["supervisor"], "罚款")
    assert not Reward.objects.exists()
    assert not AuditEntry.objects.filter(action="reward.proposed").exists()
    assert Case.objects.get(pk=investigating_case.pk).state == State.INVESTIGATING


def test_transfer_proposes_at_the_transfer_amount_and_keeps_it(township, cast, units):
    """移送 proposes the reward; if the police return the case and it is penalized, the case keeps
    the reward it has (a case earns one reward)."""
    from casework.rewards.models import RewardPolicy, RewardTier

    from .helpers import file_doc, filed

    policy = RewardPolicy.objects.get(county__isnull=True)
    RewardTier.objects.create(policy=policy, outcome="transferred", amount=Decimal("8000.00"))
    report, _receipt = filed(township)
    case = investigate(report, cast, units)
    services.transfer(case.pk, cast["supervisor"], "县公安局", date(2026, 3, 2))
    reward = reward_of(case)
    assert (reward.outcome, reward.amount) == ("transferred", Decimal("8000.00"))
    file_doc(case, cast["investigator"], "penalty_decision")
    services.penalize(case.pk, cast["supervisor"], "罚款", expected_state="transferred")
    assert Reward.objects.filter(case=case).count() == 1
    assert fresh(reward).amount == Decimal("8000.00")


def test_propose_by_hand_needs_the_permission_and_the_scope(proposed, cast, units):
    from org.scope import OutOfScope

    from .helpers import make_xs_supervisor

    reward, _r = proposed
    with pytest.raises(services.NotAllowed):
        rewards.propose(reward.case_id, cast["finance"])
    with pytest.raises(OutOfScope):
        rewards.propose(reward.case_id, make_xs_supervisor(units))


# --- approval: four eyes and step-up ------------------------------------------------------------


def test_approval_offers_the_reward_and_files_the_form(proposed, cast, freeze):
    reward, _receipt = proposed
    moment = datetime(2026, 9, 30, 2, 0, tzinfo=UTC)  # 10:00 in Beijing
    freeze(moment)
    step_up(cast["leader"], reward)
    rewards.approve(reward.pk, cast["leader"])
    stored = fresh(reward)
    assert stored.state == "approved"
    assert (stored.proposed_by, stored.approved_by) == (cast["supervisor"], cast["leader"])
    assert stored.approved_at == moment
    # 30 working days after 2026-09-30, across the National Day holidays (1–7 Oct) and counting
    # the make-up working Saturday 10 Oct: 8,9,10,12–16 (8), 19–23 (13), 26–30 (18),
    # 2–6 Nov (23), 9–13 (28), 16, 17 (30).
    assert stored.claim_due == date(2026, 11, 17)
    assert working_days_left(stored.claim_due, date(2026, 9, 30)) == 30
    assert working_days_left(stored.claim_due, date(2026, 11, 16)) == 1
    assert working_days_left(stored.claim_due, date(2026, 11, 17)) == 0
    form = CaseDocument.objects.get(case_id=reward.case_id, doc_type__code="reward_approval")
    assert form.generated
    assert actions(reward)[-1] == "reward.approved"


def test_approval_needs_a_fresh_step_up(proposed, cast, english, settings):
    reward, _r = proposed
    with pytest.raises(stepup.StepUpRequired):
        rewards.approve(reward.pk, cast["leader"])
    assert fresh(reward).state == "proposed"
    # A step-up older than the window does not count.
    grant = step_up(cast["leader"], reward)
    StepUp.objects.filter(pk=grant.pk).update(
        verified_at=timezone.now() - timedelta(minutes=settings.TIPLINE_REWARD_STEP_UP_MINUTES + 1)
    )
    with pytest.raises(stepup.StepUpRequired):
        rewards.approve(reward.pk, cast["leader"])
    # One for another reward does not count either.
    assert fresh(reward).state == "proposed"
    assert not CaseDocument.objects.filter(doc_type__code="reward_approval").exists()


def test_stale_and_reused_codes_are_refused(proposed, cast, english):
    reward, _r = proposed
    supervisor = cast["leader"]  # the supervisor proposed it (查处): another approves
    device = device_for(supervisor)
    stale = code_for(device, at=time.time() - 120)  # four time steps ago: outside the tolerance
    current = code_for(device)
    assert stale != current
    with pytest.raises(services.ServiceError, match="not valid"):
        rewards.approve(reward.pk, supervisor, otp_code=stale)
    assert fresh(reward).state == "proposed"
    assert actions(reward)[-1] == "reward.step_up_failed"
    # (django-otp backs off after a failure; lift that, it is not what this test is about)
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_timestamp=None)
    # The current code works once ...
    rewards.approve(reward.pk, supervisor, otp_code=current)
    assert fresh(reward).state == "approved"
    # ... and is refused when entered again (django-otp remembers the last time step used).
    n = StepUp.objects.count()
    with pytest.raises(services.ServiceError, match="not valid"):
        stepup.verify(supervisor, reward.pk, current)
    assert StepUp.objects.count() == n


def test_investigator_of_the_case_may_not_approve(township, cast, units, english):
    """Four eyes: a supervisor who investigated the case cannot approve its reward."""
    from .helpers import file_doc, filed

    report, _r = filed(township)
    case = services.open_case(report.pk, cast["clerk"])
    other = _second_supervisor(units)
    services.assign(case.pk, other, unit_id=units["zs_fp"].pk, investigator=cast["supervisor"])
    services.start_investigation(case.pk, cast["supervisor"])
    file_doc(case, cast["supervisor"], "penalty_decision")
    services.penalize(case.pk, cast["leader"], "罚款")
    reward = reward_of(case)
    n = AuditEntry.objects.count()
    with pytest.raises(services.NotAllowed, match="investigator"):
        rewards.approve(reward.pk, cast["supervisor"], otp_code=fresh_code(cast["supervisor"]))
    # Refused before the code was spent: no step-up was even recorded.
    assert AuditEntry.objects.count() == n
    assert fresh(reward).state == "proposed"
    approve(reward, other)
    assert fresh(reward).state == "approved"


def _second_supervisor(units):
    from tests.casework.conftest import make_staff

    return make_staff("supervisor2", roles.SUPERVISOR, units["county_fp"])


def test_roles_without_the_permission_cannot_approve_or_pay(proposed, cast):
    reward, _r = proposed
    for who in ("investigator", "clerk", "finance", "auditor"):
        with pytest.raises(services.NotAllowed):
            rewards.approve(reward.pk, cast[who])
    for who in ("supervisor", "auditor"):
        with pytest.raises(services.NotAllowed):
            rewards.pay(reward.pk, cast[who], voucher_number="X", paid_on=timezone.localdate())
    assert fresh(reward).state == "proposed"


# --- payment ------------------------------------------------------------------------------------


def test_payment_moves_the_case_to_rewarded_and_files_the_voucher(claimed, cast):
    reward, _receipt = claimed
    payment = pay(reward, cast["finance"], voucher_number=" PZ-2026-015 ")
    assert payment.already_paid is False
    assert (payment.amount, payment.voucher_number, payment.method) == (
        Decimal("3000.00"),
        "PZ-2026-015",
        "bank",
    )
    stored = fresh(reward)
    assert stored.state == "paid"
    case = Case.objects.get(pk=reward.case_id)
    assert case.state == State.REWARDED
    last = AuditEntry.objects.filter(action="case.transition", object_id=str(case.pk)).last()
    assert (last.data["transition"], last.actor) == ("reward", cast["finance"])
    assert CaseDocument.objects.filter(case=case, doc_type__code="payment_voucher").count() == 1
    assert actions(reward)[-1] == "reward.paid"
    ok, message = audit.verify()
    assert ok, message


def test_paying_again_returns_the_first_payment_and_changes_nothing(claimed, cast):
    reward, _receipt = claimed
    first = pay(reward, cast["finance"], voucher_number="PZ-1")
    n = AuditEntry.objects.count()
    again = rewards.pay(reward.pk, cast["finance"], voucher_number="PZ-2", paid_on=date(2026, 1, 5))
    assert again.already_paid is True
    assert (again.pk, again.voucher_number) == (first.pk, "PZ-1")
    assert RewardPayment.objects.count() == 1
    assert AuditEntry.objects.count() == n


def test_the_database_allows_one_payment_per_reward(claimed, cast):
    reward, _receipt = claimed
    pay(reward, cast["finance"])
    with pytest.raises(IntegrityError), transaction.atomic():
        RewardPayment.objects.create(
            reward_id=reward.pk,
            amount=Decimal("3000.00"),
            method="bank",
            voucher_number="dup",
            paid_on=timezone.localdate(),
            paid_by=cast["finance"],
        )
    assert RewardPayment.objects.count() == 1


def test_the_approver_may_not_pay(claimed, cast, units, english):
    """Four eyes: someone holding both roles approves, so someone else must pay."""
    from django.contrib.auth.models import Group

    reward, _r = claimed
    approver = reward.approved_by
    approver.groups.add(Group.objects.get(name=roles.FINANCE))
    approver = type(approver).objects.get(pk=approver.pk)
    step_up(approver, reward)
    with pytest.raises(services.NotAllowed, match="approved the reward may not pay"):
        rewards.pay(reward.pk, approver, voucher_number="PZ", paid_on=timezone.localdate())
    assert fresh(reward).state == "claimed"
    assert not RewardPayment.objects.exists()
    pay(reward, cast["finance"])
    assert fresh(reward).state == "paid"


def test_payment_needs_a_step_up_a_voucher_and_a_real_date(claimed, cast):
    reward, _r = claimed
    finance = cast["finance"]
    with pytest.raises(stepup.StepUpRequired):
        rewards.pay(reward.pk, finance, voucher_number="PZ", paid_on=timezone.localdate())
    step_up(finance, reward)
    with pytest.raises(services.ServiceError):
        rewards.pay(reward.pk, finance, voucher_number="  ", paid_on=timezone.localdate())
    with pytest.raises(services.ServiceError):
        rewards.pay(
            reward.pk,
            finance,
            voucher_number="PZ",
            paid_on=timezone.localdate() + timedelta(days=1),
        )
    assert fresh(reward).state == "claimed"
    assert not RewardPayment.objects.exists()


def test_in_person_payment_checks_and_spends_the_code(approved, cast, english):
    reward, receipt = approved
    code = rewards.claim(reward.pk, receipt, method="in_person").claim_code
    finance = cast["finance"]
    step_up(finance, reward)
    # Without the code checked the step is blocked by its declared condition.
    with pytest.raises(services.ServiceError, match="claim code"):
        rewards.pay(reward.pk, finance, voucher_number="PZ", paid_on=timezone.localdate())
    with pytest.raises(services.ServiceError, match="does not match"):
        rewards.pay(
            reward.pk,
            finance,
            voucher_number="PZ",
            paid_on=timezone.localdate(),
            claim_code="wrongwrongwr",
        )
    assert fresh(reward).claim_record.code_failures == 1  # counted although refused
    payment = rewards.pay(
        reward.pk,
        finance,
        voucher_number="PZ",
        paid_on=timezone.localdate(),
        claim_code=code.upper()[:4] + "-" + code[4:],
    )
    assert payment.method == "in_person"
    record = fresh(reward).claim_record
    assert record.code_spent_at is not None and record.code_hash == ""


def test_wrong_codes_lock_the_claim_until_claimed_again(approved, cast, english):
    reward, receipt = approved
    rewards.claim(reward.pk, receipt, method="in_person")
    step_up(cast["finance"], reward)
    for _ in range(5):
        with pytest.raises(services.ServiceError, match="does not match"):
            rewards.check_claim_code(reward.pk, cast["finance"], "aaaaaaaaaaaa")
    with pytest.raises(services.ServiceError, match="Too many wrong codes"):
        rewards.check_claim_code(reward.pk, cast["finance"], "aaaaaaaaaaaa")
    seen = rewards.claim_version(fresh(reward).claim_record)  # the change form's claim
    code = rewards.claim(reward.pk, receipt, method="in_person", replaces=seen).claim_code
    rewards.check_claim_code(reward.pk, cast["finance"], code)
    assert fresh(reward).claim_record.code_checked_at is not None


# --- side paths -------------------------------------------------------------------------------


def test_cancellation_after_a_falsified_finding(claimed, cast, english):
    reward, receipt = claimed
    rewards.mark_report(reward.report_id, cast["clerk"], falsified=True, note="经复核系虚假举报")
    # Marking does not touch a reward already proposed: the supervisor decides.
    assert fresh(reward).state == "claimed"
    with pytest.raises(services.ServiceError):
        rewards.cancel(reward.pk, cast["supervisor"], "  ")
    with pytest.raises(services.NotAllowed):
        rewards.cancel(reward.pk, cast["finance"], "虚假举报")
    rewards.cancel(reward.pk, cast["supervisor"], "经复核，举报系虚假举报")
    stored = fresh(reward)
    assert (stored.state, stored.cancelled_by) == ("cancelled", cast["supervisor"])
    entry = AuditEntry.objects.get(action="reward.cancelled", object_id=str(reward.pk))
    assert entry.data == {"source": "claimed", "reason": "经复核，举报系虚假举报"}
    step_up(cast["finance"], reward)
    with pytest.raises(services.ServiceError, match="cancelled"):
        rewards.pay(reward.pk, cast["finance"], voucher_number="P", paid_on=timezone.localdate())
    with pytest.raises(services.ServiceError, match="cancelled"):
        rewards.claim(reward.pk, receipt, method="in_person")
    with pytest.raises(services.ServiceError, match="cancelled"):
        rewards.cancel(reward.pk, cast["supervisor"], "again")


def test_a_paid_reward_cannot_be_cancelled(claimed, cast, english):
    reward, _r = claimed
    pay(reward, cast["finance"])
    with pytest.raises(services.ServiceError, match="already been paid"):
        rewards.cancel(reward.pk, cast["supervisor"], "弄虚作假")
    assert fresh(reward).state == "paid"


def test_lapse_after_the_claim_window(proposed, cast, freeze, english):
    reward, receipt = proposed
    freeze(datetime(2026, 9, 30, 2, 0, tzinfo=UTC))
    approve(reward, cast["leader"])
    assert fresh(reward).claim_due == date(2026, 11, 17)
    assert rewards.lapse_overdue(today=date(2026, 11, 17)) == 0  # the last day still counts
    assert fresh(reward).state == "approved"
    freeze(datetime(2026, 11, 17, 15, 0, tzinfo=UTC))  # 23:00 on the 17th in Beijing
    rewards.claim(reward.pk, receipt, method="in_person")  # still in time
    assert fresh(reward).state == "claimed"
    # Claimed rewards never lapse: finance owes the payment.
    assert rewards.lapse_overdue(today=date(2026, 12, 1)) == 0


def test_lapse_overdue_lapses_only_unclaimed_overdue_rewards(proposed, cast, freeze, english):
    reward, receipt = proposed
    freeze(datetime(2026, 9, 30, 2, 0, tzinfo=UTC))
    approve(reward, cast["leader"])
    freeze(datetime(2026, 11, 18, 2, 0, tzinfo=UTC))
    with pytest.raises(services.ServiceError, match="claim period ended on 2026-11-17"):
        rewards.claim(reward.pk, receipt, method="in_person")
    assert rewards.lapse_overdue(today=date(2026, 11, 18)) == 1
    stored = fresh(reward)
    assert stored.state == "lapsed" and stored.lapsed_at is not None
    entry = AuditEntry.objects.get(action="reward.lapsed", object_id=str(reward.pk))
    assert entry.actor is None
    assert rewards.lapse_overdue(today=date(2026, 11, 19)) == 0  # once
    with pytest.raises(services.ServiceError, match="lapsed"):
        rewards.claim(reward.pk, receipt, method="in_person")


def test_the_lapse_task_runs_the_job(proposed, cast):
    from casework.rewards.tasks import lapse_overdue_rewards

    reward, _r = proposed
    approve(reward, cast["leader"])
    Reward.objects.filter(pk=reward.pk).update(claim_due=timezone.localdate() - timedelta(days=1))
    assert lapse_overdue_rewards.apply().get() == 1  # in-process, with or without a broker
    assert fresh(reward).state == "lapsed"


# --- archive waits for the reward -------------------------------------------------------------


def test_archive_waits_while_the_reward_is_pending(proposed, cast, english):
    from tests.casework.test_workflow import BASE_DOCS, file_docs

    reward, receipt = proposed
    case = Case.objects.get(pk=reward.case_id)
    file_docs(case, cast["investigator"], *BASE_DOCS, "service_receipt", "closing_report")
    for step in ("approve", "claim"):
        with pytest.raises(services.ServiceError, match="reward is still proposed"):
            services.archive(case.pk, cast["supervisor"])
        if step == "approve":
            approve(reward, cast["leader"])
        else:
            rewards.claim(reward.pk, receipt, method="in_person")
    with pytest.raises(services.ServiceError, match="reward is still proposed"):
        services.archive(case.pk, cast["supervisor"])
    waive(case, cast)
    assert services.archive(case.pk, cast["supervisor"]).state == State.ARCHIVED


def test_the_reward_machine_as_declared():
    import io
    import re

    from django.core.management import call_command

    from casework.rewards.states import RewardState

    out = io.StringIO()
    call_command("graph_transitions", "rewards.Reward", stdout=out)
    edges = set(
        re.findall(
            r'"rewards\.[^."]+\.state\.(\w+)" -> "rewards\.[^."]+\.state\.(\w+)" '
            r"\[label=(\w+)\]",
            out.getvalue(),
        )
    )
    assert edges == {
        ("proposed", "approved", "approve"),
        ("approved", "claimed", "claim"),
        ("claimed", "paid", "pay"),
        ("proposed", "cancelled", "cancel"),
        ("approved", "cancelled", "cancel"),
        ("claimed", "cancelled", "cancel"),
        ("approved", "lapsed", "lapse"),
    }
    assert {s for edge in edges for s in edge[:2]} == set(RewardState.values)


def test_the_state_cannot_be_set_directly(proposed):
    reward, _r = proposed
    loaded = fresh(reward)
    with pytest.raises(AttributeError):
        loaded.state = "paid"
    assert fresh(reward).state == "proposed"
