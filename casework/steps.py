"""Every step of the case machine, declared once.

A step's label, the states it starts from and leads to, its permission, its conditions with the
message shown when one is not met, the values the user must enter, where they are stored, what
the step does to the case's dates, and the sentence the history shows: the model's transitions,
the services, the step form, the case page and the history all read these declarations. Adding a
step means adding one declaration here and one line on the model.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from org import deadlines
from tipline.models import Report

from .hooks import STEP_HOOKS
from .machine import Condition, Hooks
from .machine import Step as MachineStep
from .states import (
    PERM_ARCHIVE,
    PERM_DECIDE,
    PERM_INVESTIGATE,
    PERM_PAY_REWARD,
    State,
)

# Inputs a step may ask for: form field name → the case field it is stored in.
STORED_IN = {
    "outcome": "outcome",
    "receiving_unit": "transfer_unit",
    "transferred_on": "transferred_on",
}


@dataclass(frozen=True)
class Step(MachineStep):
    """A case step: its inputs stored as STORED_IN says, open to what other apps hook to it
    (casework.hooks.STEP_HOOKS: the rewards' proposal, and what holds 奖励 and archiving)."""

    stored_in: dict = field(default_factory=lambda: STORED_IN)
    hooks: Hooks | None = field(default=STEP_HOOKS, compare=False, repr=False)


# --- conditions ---------------------------------------------------------------------------


def has_team(case) -> bool:
    return case.investigator_id is not None and case.unit_id is not None


def has_document(code: str) -> Callable:
    def check(case) -> bool:
        # A page that prefetched the case's documents (with their types) asks them; a service
        # checks the locked row, which has no prefetch, in the database.
        prefetched = getattr(case, "_prefetched_objects_cache", {}).get("documents")
        if prefetched is not None:
            return any(doc.doc_type.code == code for doc in prefetched)
        return case.documents.filter(doc_type__code=code).exists()

    check.__name__ = f"has_{code}"
    check.document_code = code  # lets a list ask the database for cases that meet it
    return check


def file_complete(case) -> bool:
    return case.file_complete()


# --- effects ------------------------------------------------------------------------------


def closing_deadlines(today):
    """(feedback due, archive due) for a case decided today. A case is archived only after the
    reporters were told, so its archive deadline is never before its feedback deadline."""
    feedback = deadlines.due("feedback", today)
    return feedback, max(deadlines.due("archive", today), feedback)


def close(case, user, now) -> None:
    """A decision (查处, 查无实据, 移送) starts the feedback and archive deadlines once."""
    if case.closed_at:
        return
    case.closed_at = now
    case.feedback_due, case.archive_due = closing_deadlines(timezone.localdate(now))


def record_approval(case, user, now) -> None:
    case.penalized_at, case.approved_by = now, user


def record_reward(case, user, now) -> None:
    case.rewarded_at = now


def record_archive(case, user, now) -> None:
    case.archived_at = now
    Report.objects.filter(case=case).update(status=Report.Status.CLOSED)


# --- the steps ------------------------------------------------------------------------------

START_INVESTIGATION = Step(
    name="start_investigation",
    label=_("Start investigation"),
    sources=(State.ACCEPTED,),
    target=State.INVESTIGATING,
    permission=PERM_INVESTIGATE,
    history=_("%(actor)s started the investigation"),
    conditions=(Condition(has_team, _("Assign a unit and an investigator first.")),),
)
PENALIZE = Step(
    name="penalize",
    label=_("Approve penalty (查处)"),
    sources=(State.INVESTIGATING, State.TRANSFERRED),
    target=State.PENALIZED,
    permission=PERM_DECIDE,
    history=_("%(actor)s approved the penalty (查处)"),
    conditions=(
        Condition(
            has_document("penalty_decision"),
            _("File the penalty decision document (处罚决定书/处理文件) first."),
        ),
    ),
    inputs=("outcome",),
    missing_inputs=_("Describe the penalty decided."),
    effects=(close, record_approval),  # casework.rewards hooks its proposal
    decisive=True,
    confirm=_(
        "The case will be closed as penalized (查处), with you as the approving supervisor. "
        "The deadlines to tell the reporter and to archive start today."
    ),
)
FIND_UNFOUNDED = Step(
    name="find_unfounded",
    label=_("Close as unfounded"),
    sources=(State.INVESTIGATING,),
    target=State.UNFOUNDED,
    permission=PERM_DECIDE,
    history=_("%(actor)s closed the case as unfounded (查无实据)"),
    inputs=("outcome",),
    missing_inputs=_("Explain why the report could not be substantiated."),
    effects=(close,),
    decisive=True,
    confirm=_(
        "The case will be closed as unfounded (查无实据). No reward will be paid. The deadlines "
        "to tell the reporter and to archive start today."
    ),
)
TRANSFER = Step(
    name="transfer",
    label=_("Transfer to police"),
    sources=(State.INVESTIGATING,),
    target=State.TRANSFERRED,
    permission=PERM_DECIDE,
    history=_("%(actor)s transferred the case to the police (移送)"),
    inputs=("receiving_unit", "transferred_on"),
    missing_inputs=_("Name the receiving unit and the date of transfer."),
    audited_inputs=("receiving_unit", "transferred_on"),
    effects=(close,),  # casework.rewards hooks its proposal
    decisive=True,
    confirm=_(
        "The case will be recorded as transferred to the police (移送) as a criminal matter. "
        "The deadlines to tell the reporter and to archive start today."
    ),
)
REWARD = Step(
    name="reward",
    label=_("Reward paid (奖励)"),
    sources=(State.PENALIZED, State.TRANSFERRED),
    target=State.REWARDED,
    permission=PERM_PAY_REWARD,
    history=_("%(actor)s paid the reward (奖励)"),
    # casework.rewards hooks a blocker first: the reward is paid
    conditions=(
        Condition(
            has_document("reward_approval"),
            _("File the reward approval form (奖励审批表) first."),
        ),
    ),
    effects=(record_reward,),
    by_hand=False,  # taken by casework.rewards.pay, in the payment's transaction
)
ARCHIVE = Step(
    name="archive",
    label=_("Close and archive"),
    sources=(State.PENALIZED, State.REWARDED, State.UNFOUNDED, State.TRANSFERRED),
    target=State.ARCHIVED,
    permission=PERM_ARCHIVE,
    history=_("%(actor)s closed and archived the case (结案归档)"),
    # casework.rewards hooks a blocker first: no reward still open
    conditions=(
        Condition(
            file_complete, _("The case file is incomplete; file the missing documents first.")
        ),
    ),
    effects=(record_archive,),
    irreversible=True,
    confirm=_("The case file will be sealed: nothing can be filed or changed afterwards."),
)

STEPS: dict[str, Step] = {
    s.name: s for s in (START_INVESTIGATION, PENALIZE, FIND_UNFOUNDED, TRANSFER, REWARD, ARCHIVE)
}


def steps_from(state: str) -> list[Step]:
    return [s for s in STEPS.values() if state in s.sources]


def ready_for_approval(case, user) -> list[Step]:
    """Steps from the case's state whose conditions are all met now and which this user cannot
    take: e.g. the investigator filed the penalty decision, so 查处 awaits a supervisor."""
    return [
        step
        for step in steps_from(case.state)
        if step.conditions and not user.has_perm(step.permission) and step.blocker(case) is None
    ]


def offered(case, user) -> list[tuple[Step, Promise | None]]:
    """The steps this user may take from the case's state, each with what still blocks it
    (None when it can be taken now): the case page shows exactly what the service allows."""
    return [
        (step, step.blocker(case))
        for step in steps_from(case.state)
        if step.by_hand and user.has_perm(step.permission)
    ]


# --- what the case page tells people about the steps ---------------------------------------

# Who takes a step, by its permission: named so a person who cannot take it knows whom to ask.
TAKEN_BY = {
    PERM_INVESTIGATE: _("the investigator"),
    PERM_DECIDE: _("a supervisor"),
    PERM_ARCHIVE: _("a supervisor"),
    PERM_PAY_REWARD: _("finance"),
}


def outlook(case, user) -> list[dict]:
    """Every step from the case's state, with what it still needs and who takes it: what an
    investigator sees after filing a document (a step this user cannot take included)."""
    return [
        {
            "step": step,
            "blocked": step.blocker(case),
            "yours": user.has_perm(step.permission),
            "taken_by": TAKEN_BY.get(step.permission, ""),
        }
        for step in steps_from(case.state)
        if step.by_hand
    ]


def summary(step: Step, case, today=None) -> list[str]:
    """What taking this step will do, in sentences: shown on the confirmation of a decisive
    step, read from the step's own declaration (its confirm text and its effects) and from
    what other apps hooked to it (the reward it will propose)."""
    today = today or timezone.localdate()
    lines = [str(step.confirm)] if step.confirm else []
    if close in step.effects and not case.closed_at:
        feedback, archive = closing_deadlines(today)
        lines.append(
            str(
                _(
                    "The reporters must be told the outcome by %(feedback)s; the case must be "
                    "archived by %(archive)s."
                )
            )
            % {"feedback": feedback.isoformat(), "archive": archive.isoformat()}
        )
    lines += step.notes(case)  # e.g. the reward it will propose (casework.rewards)
    return lines
