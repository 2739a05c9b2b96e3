"""Who may do what to a case besides its steps (assign, extend, file, feedback), and when.

Each rule returns None when the action is allowed, else a Refusal with the message to show.
Services raise it; the case page offers an action only when its rule returns None, so the page
never shows a button the service would refuse (steps have their own declarations in steps.py).
"""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from .states import (
    OPEN,
    PERM_ASSIGN,
    PERM_DECIDE,
    PERM_EXTEND,
    PERM_INVESTIGATE,
    PERM_TRIAGE,
    State,
)


@dataclass(frozen=True)
class Refusal:
    message: str
    forbidden: bool = False  # the role lacks the permission (403), rather than a rule (message)


NOT_ALLOWED = Refusal(_("You are not allowed to do this."), forbidden=True)


def assign(user, case) -> Refusal | None:
    if not user.has_perm(PERM_ASSIGN):
        return NOT_ALLOWED
    if case.state not in OPEN:
        return Refusal(_("Only open cases can be assigned."))
    return None


def extend(user, case) -> Refusal | None:
    if not user.has_perm(PERM_EXTEND):
        return NOT_ALLOWED
    if case.extended_at:
        return Refusal(_("This case's deadline has already been extended once."))
    if case.state not in OPEN:
        return Refusal(_("Only open cases can be extended."))
    return None


def file_document(user, case) -> Refusal | None:
    if not user.has_perm(PERM_INVESTIGATE):
        return NOT_ALLOWED
    if case.state == State.ARCHIVED:
        return Refusal(_("An archived case file cannot be changed."))
    return None


def give_feedback(user, case) -> Refusal | None:
    if not user.has_perm(PERM_DECIDE):
        return NOT_ALLOWED
    if not case.closed_at:
        return Refusal(_("Feedback is given once the case has an outcome."))
    return None


def message_reporter(user) -> Refusal | None:
    """Clerks ask the reporter for missing facts before accepting; investigators ask during the
    investigation."""
    if not (user.has_perm(PERM_TRIAGE) or user.has_perm(PERM_INVESTIGATE)):
        return NOT_ALLOWED
    return None
