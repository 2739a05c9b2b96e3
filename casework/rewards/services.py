"""Changes to rewards. One function per change: lock, scope, permission, rules, save, audit.

``propose``, ``approve``, ``claim``, ``pay``, ``cancel`` and ``lapse_overdue`` are a contract other
tools call (importable from ``casework.rewards``). Views, admin actions, tasks and commands call
only these. Approving and paying also need a step-up: a current authenticator code re-entered for
that reward (``stepup.verify``, or the ``otp_code`` keyword here, which verifies it first).
"""

from dataclasses import dataclass
from datetime import date

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables

from notifications import outbox
from org import scope
from tipline import receipts, submissions
from tipline import services as intake
from tipline.models import Report, ReporterIdentity
from vault import crypto

from .. import audit
from .. import services as casework
from ..audit_catalogue import Action
from ..errors import NotAllowed, ServiceError
from ..models import Case
from ..states import State
from . import claims, documents, eligibility, policy, steps, stepup
from .models import ReportEligibility, Reward, RewardClaim, RewardPayment
from .states import (
    PERM_APPROVE,
    PERM_CANCEL,
    PERM_MARK,
    PERM_PAY,
    PERM_PROPOSE,
    Method,
    Outcome,
    RewardState,
)

__all__ = [
    "ClaimError",
    "Claimed",
    "approve",
    "cancel",
    "check_claim_code",
    "claim",
    "claim_version",
    "lapse_overdue",
    "mark_report",
    "pay",
    "payee_details",
    "propose",
]


class ClaimError(ServiceError):
    """A claim the reporter must correct; ``field`` names the form field concerned."""

    def __init__(self, message, field=None):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Claimed:
    reward: Reward
    claim_code: str = ""  # in person only: shown once to the reporter, stored only as a hash
    # A repeat (the same form again, or a claim of a reward claimed meanwhile): nothing changed;
    # ``record`` is what the first request left. Its code is never shown again.
    already: bool = False
    record: RewardClaim | None = None


def claim_version(record: RewardClaim | None) -> str:
    """Which claim a change form was shown for: a change applies only to that claim, so a
    repeated change (a reload, a second tab) finds it replaced and changes nothing."""
    if record is None:
        return ""
    return (record.changed_at or record.claimed_at).isoformat()


def _require(user, perm: str) -> None:
    if not user.has_perm(perm):
        raise NotAllowed(_("You are not allowed to do this."))


def _locked(reward_id, user=None) -> Reward:
    reward = (
        Reward.objects.select_for_update(of=("self",))
        .select_related("case", "township")
        .get(pk=reward_id)
    )
    if user is not None:  # scope first: an outsider learns nothing, not even the state
        scope.require(user, reward.township_id)
    return reward


_REFUSED_FROM = {
    RewardState.PAID: lambda: _("This reward has already been paid."),
    RewardState.CANCELLED: lambda: _("This reward was cancelled."),
    RewardState.LAPSED: lambda: _("This reward lapsed: it was not claimed in time."),
}


def _take(reward: Reward, step: steps.RewardStep, user, now) -> str:
    """Take a declared step on the locked reward; return the state it left."""
    if reward.state not in step.sources:
        message = _REFUSED_FROM.get(reward.state)
        raise ServiceError(
            message() if message else _("This is not possible in the reward's current state.")
        )
    if step.permission and not user.has_perm(step.permission):
        raise NotAllowed(_("You are not allowed to do this."))
    refusal = step.refusal(reward, user)
    if refusal:
        raise (NotAllowed if refusal in [g.refused for g in step.guards] else ServiceError)(
            str(refusal)
        )
    source = reward.state
    getattr(reward, step.name)()
    step.apply_effects(reward, user, now)
    reward.save()
    return source


def _remove(paths) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


# --- proposal ---------------------------------------------------------------------------------


def propose(case_id, user=None) -> Reward | None:
    """Propose the case's reward for its first eligible report (idempotent: a case has one
    reward, and a second call returns it). None when no report is eligible (audited with the
    reasons; the case page shows them). Called by the case steps 查处 and 移送 in their own
    transaction; with ``user``, by a supervisor's hand (scope and permission checked)."""
    if user is not None:
        _require(user, PERM_PROPOSE)
    with transaction.atomic():
        case = Case.objects.select_for_update(of=("self",)).get(pk=case_id)
        if user is not None:
            scope.require(user, case.township_id)
        return propose_for(case, user)


def propose_for(case: Case, actor, now=None) -> Reward | None:
    """The proposal itself, on a case the caller has locked (the case step passes the case it
    is moving, whose new state is not saved yet)."""
    existing = Reward.objects.filter(case=case).first()
    if existing is not None:
        return existing
    if case.state not in (State.PENALIZED, State.TRANSFERRED):
        raise ServiceError(
            _("A reward is proposed once the case is penalized (查处) or transferred (移送).")
        )
    now = now or timezone.now()
    verdicts = eligibility.assess(case)
    selection = [v.as_json() for v in verdicts]
    chosen = eligibility.first_eligible(verdicts)
    if chosen is None:
        audit.record(actor, Action.REWARD_NOT_PROPOSED, case, selection=selection)
        return None
    outcome = Outcome.TRANSFERRED if case.state == State.TRANSFERRED else Outcome.PENALIZED
    rules = policy.in_force(case.township.county_id, timezone.localdate(now))
    reward = Reward.objects.create(
        case=case,
        report=chosen.report,
        township_id=case.township_id,
        category=case.category,
        outcome=outcome,
        amount=rules.amount_for(case.category, outcome),
        policy=rules if rules.pk else None,
        claim_window_days=rules.claim_window_days,
        selection=selection,
        proposed_at=now,
        proposed_by=actor,
    )
    audit.record(
        actor,
        Action.REWARD_PROPOSED,
        reward,
        case=case.number,
        amount=reward.amount,
        outcome=outcome,
        policy=reward.policy_id,
        report=str(chosen.report.pk),
    )
    outbox.record("reward.proposed", reward, township_id=case.township_id, case=case.pk)  # notify
    return reward


# --- approval ---------------------------------------------------------------------------------


def _precheck(reward_id, user, step: steps.RewardStep) -> None:
    """The rules of the step, checked before a code is spent on a step that would be refused
    anyway (checked again under the lock)."""
    _require(user, step.permission)
    reward = Reward.objects.select_related("case").get(pk=reward_id)
    scope.require(user, reward.township_id)
    if reward.state == RewardState.PAID and step is steps.PAY:
        return
    if reward.state not in step.sources:
        message = _REFUSED_FROM.get(reward.state)
        raise ServiceError(
            message() if message else _("This is not possible in the reward's current state.")
        )
    for guard in step.guards:
        if not guard.check(reward, user):
            raise NotAllowed(str(guard.refused))


@sensitive_variables("otp_code")
def approve(reward_id, user, *, otp_code: str | None = None) -> Reward:
    """A supervisor approves who neither proposed the reward nor investigated its case (four
    eyes, superusers included; the payer is a third person, checked when paying). The reporter
    is offered the reward from today and the approval form (no identity) is filed into the case
    file."""
    if otp_code is not None:
        _precheck(reward_id, user, steps.APPROVE)
        stepup.verify(user, reward_id, otp_code)
    _require(user, PERM_APPROVE)
    written = []
    try:
        with transaction.atomic():
            reward = _locked(reward_id, user)
            _require(user, PERM_APPROVE)
            if reward.state == RewardState.PROPOSED:
                stepup.require(user, reward)
            now = timezone.now()
            source = _take(reward, steps.APPROVE, user, now)
            documents.file_generated(
                reward.case, user, "reward_approval", documents.approval_form(reward), written
            )
            audit.record(
                user,
                Action.REWARD_APPROVED,
                reward,
                source=source,
                amount=reward.amount,
                claim_due=reward.claim_due,
            )
            outbox.record(  # notify: a text to the reporter who asked for news
                "reward.offered",
                reward,
                township_id=reward.township_id,
                case=reward.case_id,
                reports=[str(reward.report_id)],
            )
    except BaseException:
        _remove(written)
        raise
    return reward


# --- the reporter's claim ---------------------------------------------------------------------


@sensitive_variables()
def _reporter_name(report: Report) -> str:
    """The name given with the report, to compare with the payee name. Decrypted inside this
    service only; never returned, shown or logged."""
    identity = ReporterIdentity.objects.filter(report=report).first()
    return identity.reveal()["name"] if identity else ""


@sensitive_variables()
def claim(
    reward_id,
    receipt: str,
    *,
    method: str,
    payee_name: str = "",
    bank_name: str = "",
    account_number: str = "",
    confirm_check_digit: bool = False,
    replaces: str = "",
    submission: str | None = None,
) -> Claimed:
    """The reporter claims (or changes their claim) by proving they hold the report's receipt.

    Bank transfer: to an account in the name given with the report (when one was given); the
    details are sealed. In person: a one-time claim code, returned once and stored as a hash.

    Idempotent: a claim of a reward already claimed, a change whose ``replaces`` (the
    ``claim_version`` the reporter saw) is no longer the current claim, and a form whose one-time
    token ``submission`` was spent all change nothing and return ``already=True`` with the claim
    as it stands (under the reward's row lock, so parallel repeats are answered the same)."""
    if method not in Method.values:
        raise ClaimError(_("Choose how you want to receive the reward."), "method")
    digits = ""
    if method == Method.BANK:
        payee_name, bank_name = payee_name.strip(), bank_name.strip()
        if not payee_name:
            raise ClaimError(_("Enter the name of the account holder."), "payee_name")
        if not bank_name:
            raise ClaimError(_("Enter the bank and branch of the account."), "bank_name")
        digits = claims.account_digits(account_number)
        if digits is None:
            raise ClaimError(
                _("An account number has 12 to 30 digits (spaces are fine)."), "account_number"
            )
        if claims.needs_luhn_warning(digits) and not confirm_check_digit:
            raise ClaimError(
                _(
                    "This card number's check digit does not match: please compare it with "
                    "your card. If it is correct, tick the box to confirm it."
                ),
                "account_number",
            )
    normal = receipts.normalise(receipt)
    holder = intake.find_by_receipt(normal) if normal else None
    with transaction.atomic():
        try:
            # First, so a parallel post of the same form waits here until this one commits.
            submissions.spend(submission)
            repeated = False
        except submissions.AlreadySubmitted:
            repeated = True
        reward = _locked(reward_id)
        if holder is None or holder.pk != reward.report_id:
            raise ClaimError(_("This receipt does not belong to this reward."), "receipt")
        record = RewardClaim.objects.filter(reward=reward).first()
        if repeated or (
            record is not None
            and reward.state in (RewardState.CLAIMED, RewardState.PAID)
            and replaces != claim_version(record)
        ):
            return Claimed(reward=reward, already=True, record=record)
        if reward.state not in (RewardState.APPROVED, RewardState.CLAIMED):
            message = _REFUSED_FROM.get(reward.state)
            raise ServiceError(message() if message else _("This reward cannot be claimed."))
        now = timezone.now()
        if reward.state == RewardState.APPROVED and reward.claim_due < timezone.localdate(now):
            raise ServiceError(
                _("The claim period ended on %(date)s.") % {"date": reward.claim_due}
            )
        name_checked = False
        if method == Method.BANK:
            given = _reporter_name(reward.report)
            if given:
                if claims.normal_name(given) != claims.normal_name(payee_name):
                    raise ClaimError(
                        _(
                            "The account must be in the name you gave with your report. Enter "
                            "that name exactly."
                        ),
                        "payee_name",
                    )
                name_checked = True
        changing = record is not None
        if record is None:
            record = RewardClaim(reward=reward, claimed_at=now)
        else:
            record.changed_at = now
        record.method = method
        code = ""
        if method == Method.BANK:
            record.set_payee(payee_name=payee_name, bank_name=bank_name, account_number=digits)
            record.account_index = crypto.blind_index("bank_account", digits)
            record.code_hash = ""
        else:
            record.set_payee()
            record.account_index = ""
            code = claims.generate_code()
            record.code_hash = claims.code_hash(code)
        record.name_checked = name_checked
        record.check_digit_overridden = bool(
            digits and claims.needs_luhn_warning(digits) and confirm_check_digit
        )
        record.code_failures, record.code_checked_at, record.code_checked_by = 0, None, None
        record.save()
        if reward.state == RewardState.APPROVED:
            _take(reward, steps.CLAIM, None, now)
        # Never the payee details: only how, and whether the name could be checked.
        audit.record(
            None,
            Action.REWARD_CLAIM_CHANGED if changing else Action.REWARD_CLAIMED,
            reward,
            method=method,
            name_checked=name_checked,
            check_digit_overridden=record.check_digit_overridden,
        )
        outbox.record(  # notify: finance of the county (a changed claim is news to them too)
            "reward.claimed", reward, township_id=reward.township_id, case=reward.case_id
        )
    return Claimed(reward=reward, claim_code=code)


# --- paying -----------------------------------------------------------------------------------


@sensitive_variables("code")
def check_claim_code(reward_id, user, code: str) -> Reward:
    """Finance checks the reporter's claim code at the counter (behind the step-up). Wrong codes
    are counted; after a few the claim must be made again (a new code)."""
    _require(user, PERM_PAY)
    failed = False
    with transaction.atomic():
        reward = _locked(reward_id, user)
        stepup.require(user, reward)
        record = RewardClaim.objects.select_for_update().filter(reward=reward).first()
        if reward.state != RewardState.CLAIMED or record is None:
            raise ServiceError(_("This reward has no claim awaiting payment."))
        if record.method != Method.IN_PERSON:
            raise ServiceError(_("This reward is claimed by bank transfer: there is no code."))
        if record.code_failures >= claims.MAX_CODE_FAILURES:
            raise ServiceError(
                _(
                    "Too many wrong codes for this claim. The reporter must claim again on the "
                    "receipt page to get a new code."
                )
            )
        if claims.code_matches(code, record.code_hash):
            record.code_checked_at, record.code_checked_by = timezone.now(), user
            record.save(update_fields=["code_checked_at", "code_checked_by"])
            audit.record(user, Action.REWARD_CLAIM_CODE_CHECKED, reward)
        else:
            failed = True
            record.code_failures += 1
            record.save(update_fields=["code_failures"])
            audit.record(
                user, Action.REWARD_CLAIM_CODE_FAILED, reward, failures=record.code_failures
            )
    if failed:  # raised after the commit, so the failure is counted
        raise ServiceError(_("The claim code does not match. Ask the reporter to check it."))
    return reward


@sensitive_variables("otp_code", "claim_code")
def pay(
    reward_id,
    user,
    *,
    voucher_number: str,
    paid_on: date,
    otp_code: str | None = None,
    claim_code: str | None = None,
) -> RewardPayment:
    """Finance, not the approver, records the payment: one per reward (idempotent: paying a paid
    reward returns the first payment, flagged ``already_paid``, and changes nothing). The case
    moves to 奖励 and the payment voucher is filed, in the same transaction."""
    _require(user, PERM_PAY)
    voucher_number = (voucher_number or "").strip()
    if not voucher_number or len(voucher_number) > 60:
        raise ServiceError(_("Enter the number of the payment voucher (at most 60 characters)."))
    if not isinstance(paid_on, date) or paid_on > timezone.localdate():
        raise ServiceError(_("Enter the date the payment was made (not in the future)."))
    if otp_code is not None:
        _precheck(reward_id, user, steps.PAY)
        stepup.verify(user, reward_id, otp_code)
    if claim_code and Reward.objects.filter(pk=reward_id, state=RewardState.CLAIMED).exists():
        check_claim_code(reward_id, user, claim_code)
    written = []
    try:
        with transaction.atomic():
            reward = _locked(reward_id, user)
            if reward.state == RewardState.PAID:
                payment = RewardPayment.objects.get(reward=reward)
                payment.already_paid = True
                return payment
            stepup.require(user, reward)
            now = timezone.now()
            source = _take(reward, steps.PAY, user, now)
            record = reward.claim_record
            payment = RewardPayment.objects.create(
                reward=reward,
                amount=reward.amount,
                method=record.method,
                voucher_number=voucher_number,
                paid_on=paid_on,
                paid_by=user,
                recorded_at=now,
            )
            payment.already_paid = False
            if record.method == Method.IN_PERSON:
                record.code_spent_at, record.code_hash = now, ""  # the payment spends the code
                record.save(update_fields=["code_spent_at", "code_hash"])
            audit.record(
                user,
                Action.REWARD_PAID,
                reward,
                source=source,
                amount=payment.amount,
                method=payment.method,
                voucher_number=voucher_number,
                paid_on=paid_on,
            )
            # 奖励: the one path for case transitions, as the paying user.
            case = casework.take_step(reward.case_id, user, "reward")
            reward.case = case
            documents.file_generated(
                case,
                user,
                "payment_voucher",
                documents.payment_voucher(reward, payment),
                written,
            )
    except BaseException:
        _remove(written)
        raise
    return payment


@sensitive_variables()
def payee_details(reward_id, user) -> dict:
    """The payee of a claim awaiting payment, for the payment page only (step-up; audited)."""
    _require(user, PERM_PAY)
    with transaction.atomic():
        reward = _locked(reward_id, user)
        stepup.require(user, reward)
        record = RewardClaim.objects.filter(reward=reward).first()
        if reward.state != RewardState.CLAIMED or record is None:
            raise ServiceError(_("This reward has no claim awaiting payment."))
        values = record.payee() if record.method == Method.BANK else {}
        reused = 0
        if record.account_index:
            reused = (
                RewardClaim.objects.filter(account_index=record.account_index)
                .exclude(pk=record.pk)
                .count()
            )
        audit.record(user, Action.REWARD_PAYEE_VIEWED, reward, method=record.method)
    return {
        **values,
        "method": record.method,
        "name_checked": record.name_checked,
        "check_digit_overridden": record.check_digit_overridden,
        "account_used_elsewhere": reused,
        "code_checked": record.code_checked_at is not None,
    }


# --- side paths -------------------------------------------------------------------------------


def cancel(reward_id, user, reason: str) -> Reward:
    """Cancel with a reason (e.g. the report turned out falsified). A paid reward stays paid."""
    _require(user, PERM_CANCEL)
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError(str(steps.CANCEL.missing_inputs))
    with transaction.atomic():
        reward = _locked(reward_id, user)
        reward.cancel_reason = reason
        source = _take(reward, steps.CANCEL, user, timezone.now())
        record = RewardClaim.objects.filter(reward=reward).first()
        if record is not None and record.code_hash:
            record.code_hash = ""  # a cancelled reward's claim code opens nothing
            record.save(update_fields=["code_hash"])
        audit.record(user, Action.REWARD_CANCELLED, reward, source=source, reason=reason)
    return reward


def lapse_overdue(today: date | None = None) -> int:
    """The daily job: approved rewards not claimed by their deadline lapse. Returns how many.
    Each lapses in its own transaction, re-checked under its lock."""
    today = today or timezone.localdate()
    count = 0
    due = Reward.objects.filter(state=RewardState.APPROVED, claim_due__lt=today)
    for reward_id in due.values_list("pk", flat=True):
        with transaction.atomic():
            reward = _locked(reward_id)
            if reward.state != RewardState.APPROVED or not reward.claim_due < today:
                continue
            _take(reward, steps.LAPSE, None, timezone.now())
            audit.record(None, Action.REWARD_LAPSED, reward, claim_due=reward.claim_due)
            count += 1
    return count


# --- eligibility marks ------------------------------------------------------------------------

MARKS = ("reporter_is_staff", "reporter_is_involved", "falsified", "receipt_issued")


def mark_report(report_id, user, *, note: str | None = None, **marks: bool) -> ReportEligibility:
    """Set what the clerk knows about a report that bears on a reward (only the marks given
    change). Marks on a report whose reward is already proposed do not change it: a supervisor
    cancels it if it must go."""
    _require(user, PERM_MARK)
    unknown = set(marks) - set(MARKS)
    if unknown:
        raise ServiceError(f"unknown marks: {sorted(unknown)}")
    with transaction.atomic():
        report = Report.objects.select_for_update(of=("self",)).get(pk=report_id)
        scope.require(user, report.township_id)
        # The site showed an online report's receipt: there is nothing to hand over (the mark
        # is dropped; setting it is refused).
        online = not eligibility.receipt_handed_by_staff(report)
        if online and marks.pop("receipt_issued", False):
            raise ServiceError(
                _(
                    "The reporter received this report's receipt from the site: only a tip "
                    "entered by staff is marked as handed over."
                )
            )
        record, _created = ReportEligibility.objects.get_or_create(report=report)
        before = {name: getattr(record, name) for name in MARKS}
        for name, value in marks.items():
            setattr(record, name, bool(value))
        if note is not None:
            record.note = note.strip()[:500]
        record.updated_by, record.updated_at = user, timezone.now()
        record.save()
        changed = {n: getattr(record, n) for n in MARKS if getattr(record, n) != before[n]}
        audit.record(user, Action.REWARD_MARKS_CHANGED, report, **changed)
    return record
