"""The case (案件) and its state machine: 受理 → 调查 → 查处 → 奖励 → 结案归档, with side paths.

Each transition is declared once in casework/steps.py and bound here; it is never called
directly by views: casework.services.take_step locks the row, checks scope, permission and
conditions, applies the step's effects and writes the audit entry in the same transaction.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField

from org.models import Township, Unit
from tipline.models import Category

from .. import steps
from ..states import OPEN, State
from . import documents

# The cases still at work: not archived, or decided with their reporters not yet told (an
# archived case may still be told). Every home card counts some of these only
# (casework.worklists), so its counts read the partial index case_township_live_idx, not a
# province's archive.
LIVE = ~models.Q(state=State.ARCHIVED) | models.Q(
    closed_at__isnull=False, feedback_given_at__isnull=True
)


class Case(ConcurrentTransitionMixin, models.Model):
    LIVE = LIVE

    number = models.CharField(_("case number"), max_length=40, unique=True)
    township = models.ForeignKey(
        Township, on_delete=models.PROTECT, related_name="cases", verbose_name=_("township")
    )
    category = models.CharField(_("category"), max_length=40, choices=Category.choices)
    title = models.CharField(_("summary"), max_length=200)
    state = FSMField(_("state"), default=State.ACCEPTED, choices=State.choices, protected=True)
    unit = models.ForeignKey(
        Unit,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
        verbose_name=_("unit"),
    )
    investigator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="investigated_cases",
        verbose_name=_("investigator"),
    )
    involves_birth_permit = models.BooleanField(
        _("involves a couple holding a birth permit"), default=False
    )
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="opened_cases",
        verbose_name=_("opened by"),
    )
    accepted_at = models.DateTimeField(_("accepted"), default=timezone.now)
    decision_due = models.DateField(_("decide by"))
    extended_at = models.DateTimeField(_("extended"), null=True, blank=True)
    extension_reason = models.TextField(_("reason for the extension"), blank=True)
    closed_at = models.DateTimeField(_("decided"), null=True, blank=True)
    penalized_at = models.DateTimeField(_("penalized"), null=True, blank=True)
    rewarded_at = models.DateTimeField(_("rewarded"), null=True, blank=True)
    feedback_due = models.DateField(_("tell the reporters by"), null=True, blank=True)
    feedback_given_at = models.DateTimeField(_("reporters told"), null=True, blank=True)
    archive_due = models.DateField(_("archive by"), null=True, blank=True)
    archived_at = models.DateTimeField(_("archived"), null=True, blank=True)
    outcome = models.TextField(_("outcome"), blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="approved_cases",
        verbose_name=_("approved by"),
    )
    transfer_unit = models.CharField(_("receiving unit"), max_length=200, blank=True)
    transferred_on = models.DateField(_("transferred on"), null=True, blank=True)
    next_due = models.DateField(_("next deadline"), null=True, blank=True, db_index=True)
    # Required documents missing from the file (一案一卷), stored so the file-scores page sorts
    # and paginates in SQL; kept current by casework.casefile.refresh_case/refresh_all.
    missing_documents = models.PositiveSmallIntegerField(
        _("missing documents"), default=0, editable=False
    )

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        ordering = [models.F("next_due").asc(nulls_last=True), "id"]
        indexes = [
            # The case list of a township's staff (or of a county, one township at a time), in
            # its order: every state, open ones (state filtered in the scan), one state. The
            # second also serves what (township, state) served: the home page's counts.
            models.Index(fields=["township", "next_due", "id"], name="case_township_list_idx"),
            models.Index(
                fields=["township", "state", "next_due", "id"], name="case_township_state_list_idx"
            ),
            # The open cases (every state but archived: the list's default) of a township, in
            # its order: about a tenth of the cases, so a township's first open cases and a
            # county's count of them read no archived row (a filter on state in the scan above
            # read every case of each township).
            models.Index(
                fields=["township", "next_due", "id"],
                condition=~models.Q(state=State.ARCHIVED),
                name="case_township_open_list_idx",
            ),
            # The file-scores page: incomplete files first, a county (all townships) or one
            # township at a time.
            models.Index(fields=["-missing_documents", "number"], name="case_file_score_idx"),
            models.Index(
                fields=["township", "-missing_documents", "number"],
                name="case_township_file_score_idx",
            ),
            # The case list of one state (e.g. archived), in its order (Meta.ordering:
            # PostgreSQL's ascending order already puts nulls last).
            models.Index(fields=["state", "next_due", "id"], name="case_state_list_idx"),
            # The home page's counts: the live cases of the user's townships (LIVE), with every
            # column the counts read (an index-only scan where the visibility map allows).
            models.Index(
                fields=["township"],
                include=[
                    "state",
                    "investigator",
                    "closed_at",
                    "feedback_given_at",
                    "decision_due",
                    "feedback_due",
                    "archive_due",
                    "id",
                ],
                condition=LIVE,
                name="case_township_live_idx",
            ),
        ]
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

    # --- transitions: declared in casework/steps.py, taken only through services.take_step ---
    start_investigation = steps.START_INVESTIGATION.fsm_transition(state)
    penalize = steps.PENALIZE.fsm_transition(state)
    find_unfounded = steps.FIND_UNFOUNDED.fsm_transition(state)
    transfer = steps.TRANSFER.fsm_transition(state)
    reward = steps.REWARD.fsm_transition(state)
    archive = steps.ARCHIVE.fsm_transition(state)

    def file_complete(self) -> bool:
        """The case file holds every document the checklist requires now (一案一卷)."""
        return not documents.missing_documents(self)

    # --- deadlines ---
    def overdue_flags(self, today=None) -> list[str]:
        today = today or timezone.localdate()
        flags = []
        if self.state in OPEN and self.decision_due < today:
            flags.append("decision")
        if self.feedback_due and not self.feedback_given_at and self.feedback_due < today:
            flags.append("feedback")
        if self.archive_due and self.state != State.ARCHIVED and self.archive_due < today:
            flags.append("archive")
        return flags

    def deadlines(self, today=None) -> list[dict]:
        """The case's deadlines as its page shows them: each with its date, the local date it
        was met on (None while open) and whether it is overdue. The archive deadline is never
        shown before the feedback deadline: a case is archived after the reporters are told."""
        today = today or timezone.localdate()
        flags = self.overdue_flags(today)

        def met(at):
            return timezone.localdate(at) if at else None

        rows = [
            {
                "key": "decision",
                "label": _("Decision"),
                "due": self.decision_due,
                "met_on": met(self.closed_at),
            }
        ]
        if self.feedback_due:
            rows.append(
                {
                    "key": "feedback",
                    "label": _("Tell the reporter the outcome"),
                    "due": self.feedback_due,
                    "met_on": met(self.feedback_given_at),
                }
            )
        if self.archive_due:
            rows.append(
                {
                    "key": "archive",
                    "label": _("Archive"),
                    "due": max(self.archive_due, self.feedback_due or self.archive_due),
                    "met_on": met(self.archived_at),
                }
            )
        for row in rows:
            row["overdue"] = row["key"] in flags
            row["late"] = bool(row["met_on"] and row["met_on"] > row["due"])
        return rows

    def compute_next_due(self):
        """The earliest deadline still open: stored in next_due, which queues sort by."""
        if self.state in OPEN:
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
