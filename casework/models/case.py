"""The case (案件) and its state machine: 受理 → 调查 → 查处 → 奖励 → 结案归档, with side paths.

Transitions are never called directly by views: each has one service function in
casework/services.py that locks the row, checks permission and conditions, and writes the audit
entry in the same transaction.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from org.models import Township, Unit
from tipline.models import Category


class State(models.TextChoices):
    ACCEPTED = "accepted", _("Accepted (受理)")
    INVESTIGATING = "investigating", _("Investigating (调查)")
    PENALIZED = "penalized", _("Penalized (查处)")
    REWARDED = "rewarded", _("Rewarded (奖励)")
    ARCHIVED = "archived", _("Closed and archived (结案归档)")
    UNFOUNDED = "unfounded", _("Unfounded (查无实据)")
    TRANSFERRED = "transferred", _("Transferred to police (移送)")


PERM_INVESTIGATE = "casework.investigate_case"
PERM_DECIDE = "casework.decide_case"
PERM_ARCHIVE = "casework.archive_case"


def has_team(case) -> bool:
    return case.investigator_id is not None and case.unit_id is not None


def has_penalty_document(case) -> bool:
    return case.documents.filter(doc_type__code="penalty_decision").exists()


def has_reward_approval(case) -> bool:
    return case.documents.filter(doc_type__code="reward_approval").exists()


def file_complete(case) -> bool:
    from casework.casefile import missing_documents

    return not missing_documents(case)


class Case(ConcurrentTransitionMixin, models.Model):
    number = models.CharField(_("case number"), max_length=40, unique=True)
    township = models.ForeignKey(Township, on_delete=models.PROTECT, related_name="cases")
    category = models.CharField(_("category"), max_length=40, choices=Category.choices)
    title = models.CharField(_("summary"), max_length=200)
    state = FSMField(_("state"), default=State.ACCEPTED, choices=State.choices, protected=True)
    unit = models.ForeignKey(
        Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="cases"
    )
    investigator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="investigated_cases",
    )
    involves_birth_permit = models.BooleanField(
        _("involves a couple holding a birth permit"), default=False
    )
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="opened_cases"
    )
    accepted_at = models.DateTimeField(default=timezone.now)
    decision_due = models.DateField()
    extended_at = models.DateTimeField(null=True, blank=True)
    extension_reason = models.TextField(blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    penalized_at = models.DateTimeField(null=True, blank=True)
    rewarded_at = models.DateTimeField(null=True, blank=True)
    feedback_due = models.DateField(null=True, blank=True)
    feedback_given_at = models.DateTimeField(null=True, blank=True)
    archive_due = models.DateField(null=True, blank=True)
    archived_at = models.DateTimeField(null=True, blank=True)
    outcome = models.TextField(_("outcome"), blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="approved_cases",
    )
    transfer_unit = models.CharField(_("receiving unit"), max_length=200, blank=True)
    transferred_on = models.DateField(null=True, blank=True)
    next_due = models.DateField(null=True, blank=True, db_index=True)

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        ordering = [models.F("next_due").asc(nulls_last=True), "id"]
        indexes = [models.Index(fields=["township", "state"])]
        permissions = [
            ("triage_report", "Can accept, reject and link reports"),
            ("assign_case", "Can assign cases to a unit and investigator"),
            ("investigate_case", "Can investigate and add documents"),
            ("decide_case", "Can approve outcomes, transfers and rewards"),
            ("extend_deadline", "Can extend a case deadline"),
            ("archive_case", "Can archive a case"),
            ("request_identity", "Can request to see a reporter's identity"),
            ("decide_identity", "Can approve or refuse identity requests"),
            ("view_audit", "Can read the audit log"),
        ]

    def __str__(self):
        return self.number

    # --- transitions (called only from casework.services) ---
    @transition(
        field=state,
        source=State.ACCEPTED,
        target=State.INVESTIGATING,
        permission=PERM_INVESTIGATE,
        conditions=[has_team],
    )
    def start_investigation(self):
        pass

    @transition(
        field=state,
        source=[State.INVESTIGATING, State.TRANSFERRED],
        target=State.PENALIZED,
        permission=PERM_DECIDE,
        conditions=[has_penalty_document],
    )
    def penalize(self):
        pass

    @transition(
        field=state,
        source=State.INVESTIGATING,
        target=State.UNFOUNDED,
        permission=PERM_DECIDE,
    )
    def find_unfounded(self):
        pass

    @transition(
        field=state,
        source=State.INVESTIGATING,
        target=State.TRANSFERRED,
        permission=PERM_DECIDE,
    )
    def transfer(self):
        pass

    @transition(
        field=state,
        source=State.PENALIZED,
        target=State.REWARDED,
        permission=PERM_DECIDE,
        conditions=[has_reward_approval],
    )
    def reward(self):
        pass

    @transition(
        field=state,
        source=[State.PENALIZED, State.REWARDED, State.UNFOUNDED, State.TRANSFERRED],
        target=State.ARCHIVED,
        permission=PERM_ARCHIVE,
        conditions=[file_complete],
    )
    def archive(self):
        pass

    # --- deadlines ---
    def overdue_flags(self, today=None) -> list[str]:
        today = today or timezone.localdate()
        flags = []
        if self.state in (State.ACCEPTED, State.INVESTIGATING) and self.decision_due < today:
            flags.append("decision")
        if self.feedback_due and not self.feedback_given_at and self.feedback_due < today:
            flags.append("feedback")
        if self.archive_due and self.state != State.ARCHIVED and self.archive_due < today:
            flags.append("archive")
        return flags

    def compute_next_due(self):
        """The earliest deadline still open: stored in next_due, which queues sort by."""
        if self.state in (State.ACCEPTED, State.INVESTIGATING):
            return self.decision_due
        open_dates = [
            d
            for d, done in (
                (self.feedback_due, self.feedback_given_at),
                (self.archive_due, self.archived_at),
            )
            if d and not done
        ]
        return min(open_dates) if open_dates else None
