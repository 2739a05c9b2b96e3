"""Reward policy, report eligibility marks, rewards and their claims and payments.

Money is Decimal with two places (CNY). A reward keeps the amount of the policy in force when it
was proposed. A payment is one row per reward, enforced by the database (the reward is its
primary key), not only by the service that locks the reward before paying.
"""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_variables
from django_fsm import ConcurrentTransitionMixin, FSMField

from tipline.models import Category
from vault.models import Sealed

from . import steps
from .states import Method, Outcome, RewardState

DEFAULT_AMOUNT = Decimal("3000.00")
DEFAULT_CLAIM_WINDOW = 30  # working days from approval
CENT = Decimal("0.01")


def money(**kwargs):
    return models.DecimalField(
        max_digits=10, decimal_places=2, validators=[MinValueValidator(CENT)], **kwargs
    )


class RewardPolicy(models.Model):
    """Amounts by category and outcome, a cap and the claim window, in force from a date.

    A county's own policies take precedence over the default ones (no county)."""

    county = models.ForeignKey(
        "org.County",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reward_policies",
        verbose_name=_("county"),
        help_text=_("Empty: the default for every county without a policy of its own."),
    )
    effective_from = models.DateField(_("in force from"))
    default_amount = money(verbose_name=_("amount (CNY)"), default=DEFAULT_AMOUNT)
    cap = money(
        verbose_name=_("cap (CNY)"),
        null=True,
        blank=True,
        help_text=_("No reward exceeds this amount. Empty: no cap beyond the amounts."),
    )
    claim_window_days = models.PositiveSmallIntegerField(
        _("claim window (working days)"),
        default=DEFAULT_CLAIM_WINDOW,
        validators=[MinValueValidator(1)],
    )
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("reward policy")
        verbose_name_plural = _("reward policies")
        ordering = ["county__code", "-effective_from"]

    def __str__(self):
        where = self.county.name if self.county_id else _("default")
        return f"{where} · {self.effective_from:%Y-%m-%d}"

    def clean(self):
        clash = RewardPolicy.objects.filter(
            county=self.county, effective_from=self.effective_from
        ).exclude(pk=self.pk)
        if self.effective_from and clash.exists():
            raise ValidationError(
                {"effective_from": _("Another policy of this county starts on this date.")}
            )

    def amount_for(self, category: str, outcome: str, tiers=None) -> Decimal:
        """The tier for this category and outcome, else for any category, else the default;
        never above the cap."""
        tiers = list(self.tiers.all()) if tiers is None and self.pk else (tiers or [])
        amount = self.default_amount
        for wanted in (category, ""):
            match = next((t for t in tiers if t.category == wanted and t.outcome == outcome), None)
            if match is not None:
                amount = match.amount
                break
        if self.cap is not None:
            amount = min(amount, self.cap)
        return amount.quantize(CENT)


class RewardTier(models.Model):
    policy = models.ForeignKey(
        RewardPolicy, on_delete=models.CASCADE, related_name="tiers", verbose_name=_("policy")
    )
    category = models.CharField(
        _("category"),
        max_length=40,
        choices=Category.choices,
        blank=True,
        help_text=_("Empty: every category."),
    )
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices)
    amount = money(verbose_name=_("amount (CNY)"))

    class Meta:
        verbose_name = _("reward amount")
        verbose_name_plural = _("reward amounts")
        constraints = [
            models.UniqueConstraint(
                fields=["policy", "category", "outcome"], name="one_amount_per_category_outcome"
            )
        ]

    def __str__(self):
        return f"{self.get_category_display() or '*'} · {self.get_outcome_display()}"


class ReportEligibility(models.Model):
    """What the clerk knows about a report that bears on a reward (kept here, not in the
    intake, so the public side stays ignorant of rewards)."""

    report = models.OneToOneField(
        "tipline.Report",
        on_delete=models.CASCADE,
        related_name="reward_marks",
        verbose_name=_("report"),
    )
    reporter_is_staff = models.BooleanField(
        _("the reporter is staff of the investigating units"), default=False
    )
    reporter_is_involved = models.BooleanField(
        _("the reporter is an involved party"), default=False
    )
    falsified = models.BooleanField(_("the report was found falsified"), default=False)
    receipt_issued = models.BooleanField(
        _("the receipt was handed to the reporter (tips entered by staff)"), default=False
    )
    note = models.CharField(_("note"), max_length=500, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("changed by"),
    )
    updated_at = models.DateTimeField(_("changed"), default=timezone.now)

    class Meta:
        verbose_name = _("reward eligibility of a report")
        verbose_name_plural = _("reward eligibility of reports")

    def __str__(self):
        return f"eligibility of report {self.report_id}"


class Reward(ConcurrentTransitionMixin, models.Model):
    case = models.OneToOneField(
        "casework.Case",
        on_delete=models.PROTECT,
        related_name="case_reward",
        verbose_name=_("case"),
    )
    # the first eligible report (首报)
    report = models.ForeignKey(
        "tipline.Report",
        on_delete=models.PROTECT,
        related_name="rewards",
        verbose_name=_("report"),
    )
    # the case's, kept here for the ledger
    township = models.ForeignKey(
        "org.Township",
        on_delete=models.PROTECT,
        related_name="rewards",
        verbose_name=_("township"),
    )
    state = FSMField(
        _("state"), default=RewardState.PROPOSED, choices=RewardState.choices, protected=True
    )
    category = models.CharField(_("category"), max_length=40, choices=Category.choices)
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices)
    amount = money(verbose_name=_("amount (CNY)"))
    # empty: the built-in default (no policy row existed)
    policy = models.ForeignKey(
        RewardPolicy,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="rewards",
        verbose_name=_("reward policy"),
    )
    claim_window_days = models.PositiveSmallIntegerField(_("working days to claim"))
    # Why this report was chosen and why each other report of the case was passed over.
    selection = models.JSONField(_("reports considered"), default=list)
    proposed_at = models.DateTimeField(_("proposed"), default=timezone.now, db_index=True)
    # Who took the step that proposed it (查处 or 移送, or a supervisor proposing again): four
    # eyes, the proposer may not approve. Empty only for a proposal made by a script.
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("proposed by"),
    )
    approved_at = models.DateTimeField(_("approved"), null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("approved by"),
    )
    claim_due = models.DateField(_("claim by"), null=True, blank=True, db_index=True)
    claimed_at = models.DateTimeField(_("claimed"), null=True, blank=True)
    paid_at = models.DateTimeField(_("paid"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("cancelled by"),
    )
    cancel_reason = models.TextField(_("reason for cancelling"), blank=True)
    lapsed_at = models.DateTimeField(_("lapsed"), null=True, blank=True)

    class Meta:
        verbose_name = _("reward")
        verbose_name_plural = _("rewards")
        ordering = ["-proposed_at", "id"]
        indexes = [
            models.Index(fields=["township", "state"]),
            # The staff list: each state it puts first, in the list's order (listing.ORDER).
            models.Index(
                fields=["state", "claim_due", "-proposed_at", "-id"], name="reward_list_order"
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="reward_amount_positive")
        ]
        permissions = [
            ("approve_reward", "Can approve reward proposals"),
            ("cancel_reward", "Can cancel rewards"),
            ("pay_reward", "Can pay rewards and see payee details"),
            ("view_ledger", "Can read and export the rewards ledger"),
            ("mark_report", "Can mark a report's reward eligibility"),
        ]

    def __str__(self):
        return f"reward {self.pk} ({self.state})"

    # --- transitions: declared in casework/rewards/steps.py, taken only through the services ---
    approve = steps.APPROVE.fsm_transition(state)
    claim = steps.CLAIM.fsm_transition(state)
    pay = steps.PAY.fsm_transition(state)
    cancel = steps.CANCEL.fsm_transition(state)
    lapse = steps.LAPSE.fsm_transition(state)


class RewardClaim(Sealed):
    """The reporter's claim: payee details sealed like the reporter identity (per-row data key,
    associated data binding table, row and field; blind index on the account number), or the
    hash of a one-time claim code for payment in person."""

    SEALED_FIELDS = ("payee_name", "bank_name", "account_number")
    BLIND_INDEXES = ("account_index",)

    reward = models.OneToOneField(
        Reward, on_delete=models.PROTECT, related_name="claim_record", verbose_name=_("reward")
    )
    method = models.CharField(_("how"), max_length=20, choices=Method.choices)
    payee_name_sealed = models.BinaryField(null=True, editable=False)
    bank_name_sealed = models.BinaryField(null=True, editable=False)
    account_number_sealed = models.BinaryField(null=True, editable=False)
    account_index = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    # The payee name matched the name given with the report (False: no name was given to check).
    name_checked = models.BooleanField(_("payee name checked"), default=False)
    check_digit_overridden = models.BooleanField(_("check digit overridden"), default=False)
    code_hash = models.CharField(max_length=80, blank=True, editable=False)
    code_failures = models.PositiveSmallIntegerField(_("wrong claim codes"), default=0)
    code_checked_at = models.DateTimeField(_("claim code checked"), null=True, blank=True)
    code_checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("claim code checked by"),
    )
    code_spent_at = models.DateTimeField(_("claim code spent"), null=True, blank=True)
    claimed_at = models.DateTimeField(_("claimed"), default=timezone.now)
    changed_at = models.DateTimeField(_("changed"), null=True, blank=True)

    class Meta:
        verbose_name = _("reward claim")
        verbose_name_plural = _("reward claims")

    def __str__(self):
        return f"claim of reward {self.reward_id}"  # never the payee

    @sensitive_variables()
    def set_payee(self, **values: str) -> None:
        self.data_key()  # every row has its data key, even an in-person claim with no payee
        for field in self.SEALED_FIELDS:
            value = values.get(field) or ""
            setattr(self, f"{field}_sealed", self.seal(field, value.encode()) if value else None)

    @sensitive_variables()
    def payee(self) -> dict[str, str]:
        """Decrypt. Only the audited payment page (services.payee_details) calls this."""
        out = {}
        for field in self.SEALED_FIELDS:
            blob = getattr(self, f"{field}_sealed")
            out[field] = self.unseal(field, blob).decode() if blob else ""
        return out


class RewardPayment(models.Model):
    """The payment of a reward: one per reward, by the database's own constraint."""

    reward = models.OneToOneField(
        Reward,
        on_delete=models.PROTECT,
        primary_key=True,
        related_name="payment",
        verbose_name=_("reward"),
    )
    amount = money(verbose_name=_("amount (CNY)"))
    method = models.CharField(_("how"), max_length=20, choices=Method.choices)
    voucher_number = models.CharField(_("voucher number"), max_length=60)
    paid_on = models.DateField(_("paid on"))
    paid_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("paid by"),
    )
    recorded_at = models.DateTimeField(_("recorded"), default=timezone.now)

    class Meta:
        verbose_name = _("reward payment")
        verbose_name_plural = _("reward payments")
        ordering = ["-paid_on"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gt=0), name="reward_payment_amount_positive"
            )
        ]

    def __str__(self):
        return f"payment of reward {self.reward_id}"


class StepUp(models.Model):
    """A current TOTP code re-entered by a user for one reward: approving or paying it, and
    seeing its payee, need one younger than TIPLINE_REWARD_STEP_UP_MINUTES."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("user")
    )
    reward = models.ForeignKey(
        Reward, on_delete=models.CASCADE, related_name="+", verbose_name=_("reward")
    )
    verified_at = models.DateTimeField(_("code re-entered"), default=timezone.now)

    class Meta:
        verbose_name = _("re-entered code for a reward")
        verbose_name_plural = _("re-entered codes for rewards")
        indexes = [models.Index(fields=["user", "reward", "verified_at"])]

    def __str__(self):
        return f"step-up of user {self.user_id} for reward {self.reward_id}"
