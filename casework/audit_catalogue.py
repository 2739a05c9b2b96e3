"""Every action the audit log may record, with what it means.

``audit.record`` refuses a name that is not here, so reports that query the log (the audit
page, the assessment, the rewards ledger) can rely on the names. Each description is what the
audit page and its export show beside the dotted name.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from org.people import display_name

from .steps import STEPS


class Action(models.TextChoices):
    # staff sign-in
    STAFF_LOGIN = "staff.login", _("Signed in with a password")
    STAFF_LOGIN_FAILED = "staff.login_failed", _("Failed sign-in (wrong name or password)")
    STAFF_OTP_ENROLLED = "staff.otp_enrolled", _("Enrolled an authenticator app")
    STAFF_OTP_VERIFIED = "staff.otp_verified", _("Passed the second-factor check")
    STAFF_OTP_FAILED = "staff.otp_failed", _("Failed the second-factor check")
    STAFF_LOGOUT = "staff.logout", _("Signed out")
    STAFF_LOGIN_THROTTLED = (
        "staff.login_throttled",
        _("An account's password attempts reached the limit (recorded once per window)"),
    )
    STAFF_OTP_THROTTLED = (
        "staff.otp_throttled",
        _("An account's second-factor codes reached the limit (recorded once per window)"),
    )
    STAFF_OTP_RESET = (
        "staff.otp_reset",
        _("An administrator removed a user's second factor so that they enrol again"),
    )
    # triage
    REPORT_REGISTERED = "report.registered", _("Registered a tip taken by phone, mail or visit")
    REPORT_REJECTED = "report.rejected", _("Did not accept a report (不予受理)")
    REPORT_LINKED = "report.linked", _("Added a repeat report to an existing case")
    REPORT_MESSAGE_SENT = "report.message_sent", _("Sent a message to the reporter")
    ATTACHMENT_VIEWED = "attachment.viewed", _("Opened a reporter's evidence file")
    # cases
    CASE_OPENED = "case.opened", _("Accepted a report and opened a case (受理)")
    CASE_ASSIGNED = "case.assigned", _("Assigned a case to a unit and investigator")
    CASE_REASSIGNED = "case.reassigned", _("Changed a case's unit or investigator")
    CASE_EXTENDED = "case.extended", _("Extended a case's decision deadline")
    CASE_TRANSITION = "case.transition", _("Moved a case to its next step")
    CASE_FEEDBACK = "case.feedback", _("Told the reporters the outcome")
    DOCUMENT_UPLOADED = "document.uploaded", _("Filed a document into a case file")
    DOCUMENT_GENERATED = "document.generated", _("Generated a document into a case file")
    DOCUMENT_VIEWED = "document.viewed", _("Opened a case-file document")
    # reporter identity
    IDENTITY_REQUESTED = "identity.requested", _("Asked to see a reporter's identity")
    IDENTITY_APPROVED = "identity.approved", _("Approved a request to see a reporter's identity")
    IDENTITY_REFUSED = "identity.refused", _("Refused a request to see a reporter's identity")
    IDENTITY_VIEWED = "identity.viewed", _("Saw a reporter's identity")
    IDENTITY_SHREDDED = (
        "identity.shredded",
        _("Destroyed the reporters' identities and payee details of an archived case (retention)"),
    )
    RETENTION_REPORTS_DELETED = (
        "retention.reports_deleted",
        _("Deleted rejected reports past their retention period, with their evidence"),
    )
    # the log itself
    AUDIT_EXPORTED = "audit.exported", _("Exported the audit log")
    # assessment (考核): repeat reports, falsified cases, quotas, frozen years
    REPEAT_DISMISSED = (
        "repeat.dismissed",
        _("Judged that a report does not repeat a suggested case"),
    )
    REPEAT_OVERRIDDEN = (
        "repeat.overridden",
        _(
            "Opened a new case for a report the system suggested as a repeat of an open case, "
            "with the reason"
        ),
    )
    CASE_FALSIFIED = "case.falsified", _("Marked a case as falsified (弄虚作假) after verification")
    QUOTA_SET = "assessment.quota_set", _("Set a township's yearly case quota (县定任务)")
    ASSESSMENT_FROZEN = "assessment.frozen", _("Froze a year of the township assessment (考核)")
    ASSESSMENT_EXPORTED = "assessment.exported", _("Exported the township assessment (考核)")
    SHEET_SEEDED = (
        "assessment.sheet_seeded",
        _("Created a county's 1000-point sheet of a year from the rulebook"),
    )
    SHEET_ITEM_CHANGED = (
        "assessment.sheet_item_changed",
        _("Changed an item of the 1000-point sheet (rule, maximum or scoring)"),
    )
    INSPECTION_ENTERED = (
        "assessment.inspection_entered",
        _("Entered or corrected a township's inspection points (督查录入)"),
    )
    ADJUSTMENT_ENTERED = (
        "assessment.adjustment_entered",
        _("Entered a bonus, deduction or bottom-band finding of a township (奖励惩处)"),
    )
    ADJUSTMENT_WITHDRAWN = (
        "assessment.adjustment_withdrawn",
        _("Withdrew a bonus, deduction or bottom-band finding entered by mistake"),
    )
    SHEET_EVIDENCE_VIEWED = (
        "assessment.evidence_viewed",
        _("Opened an inspection record of the assessment"),
    )
    # rewards (casework/rewards)
    REWARD_PROPOSED = "reward.proposed", _("Proposed a reward for the first eligible report")
    REWARD_NOT_PROPOSED = (
        "reward.not_proposed",
        _("Found no report of a case eligible for a reward"),
    )
    REWARD_APPROVED = "reward.approved", _("Approved a reward (offered to the reporter)")
    REWARD_CLAIMED = "reward.claimed", _("The reporter claimed a reward")
    REWARD_CLAIM_CHANGED = "reward.claim_changed", _("The reporter changed their reward claim")
    REWARD_CLAIM_CODE_CHECKED = (
        "reward.claim_code_checked",
        _("Checked a claim code at the counter"),
    )
    REWARD_CLAIM_CODE_FAILED = "reward.claim_code_failed", _("A wrong claim code was entered")
    REWARD_PAID = "reward.paid", _("Paid a reward")
    REWARD_CANCELLED = "reward.cancelled", _("Cancelled a reward")
    REWARD_LAPSED = "reward.lapsed", _("A reward lapsed (not claimed in time)")
    REWARD_STEP_UP = "reward.step_up", _("Re-entered an authenticator code for a reward")
    REWARD_STEP_UP_FAILED = "reward.step_up_failed", _("Entered a wrong authenticator code")
    REWARD_PAYEE_VIEWED = "reward.payee_viewed", _("Saw the payee details of a reward claim")
    REWARD_MARKS_CHANGED = "reward.marks_changed", _("Changed a report's reward eligibility marks")
    REWARD_LEDGER_EXPORTED = "reward.ledger_exported", _("Exported the rewards ledger")
    REWARD_POLICY_CHANGED = "reward.policy_changed", _("Changed the reward policy")
    # notifications
    NOTIFICATION_RETRIED = "notification.retried", _("Sent a failed notification again")
    NOTIFICATION_REPORTER_TEXTED = (
        "notification.reporter_texted",
        _("The system decrypted a reporter's mobile number to text them that there is news"),
    )


def describe(action: str) -> str:
    """The description of a recorded action (entries keep their name even if one is retired)."""
    try:
        return str(Action(action).label)
    except ValueError:
        return action


def sentence(entry, actor: str | None = None) -> str:
    """One line of a case history or the audit page: who did what, in words ("张三 开始调查").

    ``actor`` is the person's display name (found by the caller for a whole page); entries the
    system or a reporter made have no actor, and their description says who acted."""
    if actor is None:
        actor = display_name(entry.actor) if entry.actor_id else ""
    if entry.action == Action.CASE_TRANSITION:
        step = STEPS.get((entry.data or {}).get("transition", ""))
        if step is not None:
            return str(step.history) % {"actor": actor or _("the system")}
    if not actor:
        return describe(entry.action)
    return str(_("%(actor)s %(did)s")) % {"actor": actor, "did": _predicate(entry.action)}


def _predicate(action: str) -> str:
    """The description as what the actor did ("Signed in" → "signed in" after a name)."""
    text = describe(action)
    return text[:1].lower() + text[1:] if text[:1].isascii() else text
