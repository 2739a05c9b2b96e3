"""Paying twice must be impossible, not just unlikely (PostgreSQL only: real row locks).

Eight threads, each with its own connection and transaction, released together at one claimed
reward: exactly one payment, one audit entry for it, one move of the case to 奖励; the other
seven are told it is already paid (they get the first payment back, flagged) and change nothing.
The same for the reporter's claim posted eight times at once: one claim, one code that pays.
"""

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from casework import audit
from casework.models import AuditEntry, Case, CaseDocument
from casework.rewards import services as rewards
from casework.rewards.models import Reward, RewardClaim, RewardPayment
from notifications import delivery
from notifications.models import Delivery, Event

from ..threads import race
from .helpers import pay, step_up
from .test_claims import claim_form, shown_code

pytestmark = [
    pytest.mark.skipif(
        "postgresql" not in settings.DATABASES["default"]["ENGINE"],
        reason="row locks (SELECT … FOR UPDATE) need PostgreSQL; SQLite serialises all writers",
    ),
    pytest.mark.django_db(transaction=True),
]

THREADS = 8


def test_eight_concurrent_payments_make_one(claimed, cast):
    reward, _receipt = claimed
    step_up(cast["finance"], reward)
    today = timezone.localdate()

    def pay(i):
        user = get_user_model().objects.get(pk=cast["finance"].pk)  # one instance per thread
        return lambda: rewards.pay(reward.pk, user, voucher_number=f"PZ-{i}", paid_on=today)

    outcomes = race(*[pay(i) for i in range(THREADS)])
    errors = [exc for _result, exc in outcomes if exc is not None]
    assert errors == []
    payments = [result for result, _exc in outcomes]
    first = [p for p in payments if not p.already_paid]
    told = [p for p in payments if p.already_paid]
    assert len(first) == 1 and len(told) == THREADS - 1
    assert {p.voucher_number for p in told} == {first[0].voucher_number}

    assert RewardPayment.objects.count() == 1
    assert Reward.objects.get(pk=reward.pk).state == "paid"
    assert AuditEntry.objects.filter(action="reward.paid").count() == 1
    case = Case.objects.get(pk=reward.case_id)
    assert case.state == "rewarded"
    assert (
        AuditEntry.objects.filter(
            action="case.transition", object_id=str(case.pk), data__transition="reward"
        ).count()
        == 1
    )
    assert CaseDocument.objects.filter(case=case, doc_type__code="payment_voucher").count() == 1
    ok, message = audit.verify()
    assert ok, message
    call_command("verify_audit")


def test_pay_and_cancel_race_one_wins(claimed, cast):
    """Whichever locks the reward first wins; the other is refused and changes nothing."""
    reward, _receipt = claimed
    step_up(cast["finance"], reward)
    fin, sup = cast["finance"].pk, cast["supervisor"].pk
    outcomes = race(
        lambda: rewards.pay(
            reward.pk,
            get_user_model().objects.get(pk=fin),
            voucher_number="PZ-1",
            paid_on=timezone.localdate(),
        ),
        lambda: rewards.cancel(reward.pk, get_user_model().objects.get(pk=sup), "举报人系当事人"),
    )
    winners = [r for r, exc in outcomes if exc is None]
    losers = [exc for r, exc in outcomes if exc is not None]
    assert len(winners) == 1 and len(losers) == 1
    assert isinstance(losers[0], rewards.ServiceError), repr(losers[0])
    stored = Reward.objects.get(pk=reward.pk)
    assert stored.state in ("paid", "cancelled")
    assert RewardPayment.objects.count() == (1 if stored.state == "paid" else 0)
    assert AuditEntry.objects.filter(action__in=["reward.paid", "reward.cancelled"]).count() == 1
    assert Case.objects.get(pk=reward.case_id).state == (
        "rewarded" if stored.state == "paid" else "penalized"
    )
    assert audit.verify()[0]


# --- the reporter's claim, posted eight times at once --------------------------------------

CLAIM = "/receipt/claim/"


def _post_together(data, n=THREADS):
    """n posts of the same data, each from its own client and connection, released together."""
    outcomes = race(*[lambda: Client().post(CLAIM, data) for _ in range(n)])
    assert [exc for _r, exc in outcomes if exc is not None] == []
    return [response for response, _exc in outcomes]


def _one_claim_was_made(reward, cast):
    """One claim row, one claim audit entry, one reward.claimed event, one notice to finance."""
    assert RewardClaim.objects.filter(reward=reward).count() == 1
    entries = AuditEntry.objects.filter(object_id=str(reward.pk))
    assert entries.filter(action="reward.claimed").count() == 1
    assert entries.filter(action="reward.claim_changed").count() == 0
    assert Event.objects.filter(kind="reward.claimed").count() == 1
    delivery.sweep()
    notices = Delivery.objects.filter(event__kind="reward.claimed")
    assert notices.filter(recipient=cast["finance"], channel="inbox").count() == 1
    pairs = list(notices.values_list("recipient_id", "channel"))
    assert len(pairs) == len(set(pairs))  # one notice per person and channel


@pytest.mark.parametrize("with_token", [True, False], ids=["same-form", "no-token"])
def test_eight_concurrent_claims_make_one_and_its_code_pays(
    approved, cast, client, with_token, eager_tasks
):
    reward, receipt = approved
    form = claim_form(client, receipt) if with_token else {"receipt": receipt}
    responses = _post_together({**form, "method": "in_person"})
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [409] * (THREADS - 1), statuses
    for response in responses:
        if response.status_code == 409:
            html = response.content.decode()
            assert "已申领" in html and 'id="claim-code"' not in html
    _one_claim_was_made(reward, cast)
    codes = [shown_code(r) for r in responses if r.status_code == 200]
    assert len(codes) == 1  # every code shown opens the payment
    payment = pay(reward, cast["finance"], claim_code=codes[0])
    assert payment.method == "in_person" and not payment.already_paid
    assert Reward.objects.get(pk=reward.pk).state == "paid"
    assert audit.verify()[0]


def test_eight_concurrent_changes_of_one_claim_make_one(approved, cast, client):
    """Eight posts of one change form (a double tap on "change"): one change, one new code."""
    reward, receipt = approved
    rewards.claim(reward.pk, receipt, method="in_person")
    responses = _post_together({**claim_form(client, receipt), "method": "in_person"})
    assert sorted(r.status_code for r in responses) == [200] + [409] * (THREADS - 1)
    (code,) = [shown_code(r) for r in responses if r.status_code == 200]
    entries = AuditEntry.objects.filter(object_id=str(reward.pk))
    assert entries.filter(action="reward.claim_changed").count() == 1
    assert Event.objects.filter(kind="reward.claimed").count() == 2  # the claim, the change
    pay(reward, cast["finance"], claim_code=code)
    assert Reward.objects.get(pk=reward.pk).state == "paid"
