"""Deadline reminders and escalation: ``manage.py scan_deadlines`` and hourly from beat.

Each rule lists the open items whose deadline is near. An item is at one stage a day: "soon"
from TIPLINE_REMINDER_WORKING_DAYS working days before its deadline (counted with the
working-day calendar: holidays skipped, make-up workdays counted), "today" on the day, and
"overdue" after it. Each stage of each deadline is recorded once (the event key holds the
deadline's date, so an extension starts afresh); overdue also escalates to the township's
supervisors, once. Running the scan again sends nothing new.

Extension point: a rule for another deadline is one ``register(DeadlineRule(...))`` (the reward
claim below is one); see the README section on notifications.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from casework.models import Case
from casework.rewards.models import Reward
from casework.rewards.states import RewardState
from casework.states import OPEN, State
from org import deadlines
from org import roles as role
from org.scope import staff_for_township
from tipline.models import Report

from . import outbox
from .models import Event
from .outbox import EMAIL, Kind, Recipient, roles

SOON, TODAY, OVERDUE, ESCALATED = "soon", "today", "overdue", "escalated"
STAGE_KINDS = {
    SOON: "deadline.soon",
    TODAY: "deadline.today",
    OVERDUE: "deadline.overdue",
    ESCALATED: "deadline.escalated",
}


@dataclass(frozen=True)
class DeadlineRule:
    name: str
    label: Promise  # what is due ("acceptance decision"), as the notice names it
    # (horizon) -> (object, due date) of every item still open and due on or before horizon
    items: Callable[[date], Iterable[tuple]]
    # (event) -> the item's due date now, or None once it is met: a reminder for a deadline that
    # was met or moved in the meantime is not sent
    current_due: Callable
    # (event) -> who must act
    assignees: Callable
    notice_working_days: int | None = None  # default TIPLINE_REMINDER_WORKING_DAYS
    kinds: dict = field(default_factory=lambda: dict(STAGE_KINDS))  # stage -> event kind
    data: Callable | None = None  # (object) -> more event data, e.g. {"reports": [...]}
    township: Callable | None = None  # (object) -> township id, if the object has none itself

    @property
    def notice(self) -> int:
        return self.notice_working_days or settings.TIPLINE_REMINDER_WORKING_DAYS


RULES: dict[str, DeadlineRule] = {}


def register(rule: DeadlineRule) -> DeadlineRule:
    RULES[rule.name] = rule
    return rule


def stage(due: date, today: date, notice: int) -> str | None:
    if today > due:
        return OVERDUE
    if today == due:
        return TODAY
    if deadlines.subtract_working_days(due, notice) <= today:
        return SOON
    return None


def scan(today: date | None = None) -> int:
    """Record the reminders due today. Returns how many events were recorded."""
    today = today or timezone.localdate()
    recorded = 0
    for rule in list(RULES.values()):
        horizon = deadlines.add_working_days(today, rule.notice)
        planned = []
        for obj, due in rule.items(horizon):
            current = stage(due, today, rule.notice)
            if current is None:
                continue
            stages = [current] + ([ESCALATED] if current == OVERDUE else [])
            for tag in stages:
                if rule.kinds.get(tag):
                    key = f"deadline:{rule.name}:{obj._meta.label_lower}:{obj.pk}:{due}:{tag}"
                    planned.append((key, rule.kinds[tag], obj, due, tag))
        done = _existing_keys([p[0] for p in planned])
        for key, kind, obj, due, tag in planned:
            if key in done:
                continue
            extra = rule.data(obj) if rule.data else {}
            township_id = rule.township(obj) if rule.township else None
            with transaction.atomic():  # each reminder stands alone: a failure loses no other
                event = outbox.record(
                    kind,
                    obj,
                    township_id=township_id,
                    key=key,
                    deadline=rule.name,
                    due=due,
                    stage=tag,
                    **extra,
                )
            recorded += event is not None
    return recorded


def _existing_keys(keys: list[str]) -> set[str]:
    found = set()
    for start in range(0, len(keys), 500):  # stay under SQLite's parameter limit
        chunk = keys[start : start + 500]
        found.update(Event.objects.filter(key__in=chunk).values_list("key", flat=True))
    return found


# --- the rules of the case workflow --------------------------------------------------------------


def _report(event):
    return Report.objects.filter(pk=event.object_id).select_related("township").first()


def _case(event):
    return Case.objects.filter(pk=event.object_id).select_related("investigator").first()


def _people(users) -> list[Recipient]:
    return [Recipient(user=u) for u in users]


def _investigator_or(*fallback_roles):
    """The case's investigator; while there is none, the roles that can act on it."""

    def assignees(event):
        case = _case(event)
        if case is None:
            return []
        if case.investigator is not None and case.investigator.is_active:
            return [Recipient(user=case.investigator)]
        return _people(staff_for_township(case.township, *fallback_roles))

    return assignees


def _clerks_of_report(event):
    report = _report(event)
    return _people(staff_for_township(report.township, role.CLERK)) if report else []


def _acceptance_items(horizon):
    for report in Report.objects.filter(
        status=Report.Status.RECEIVED, acceptance_due__lte=horizon
    ).only("pk", "township_id", "acceptance_due"):
        yield report, report.acceptance_due


def _acceptance_due(event):
    report = _report(event)
    return report.acceptance_due if report and report.status == Report.Status.RECEIVED else None


def _case_items(field_name, **open_filter):
    def items(horizon):
        qs = Case.objects.filter(**{f"{field_name}__lte": horizon}, **open_filter)
        for case in qs.only("pk", "township_id", field_name, "state"):
            yield case, getattr(case, field_name)

    return items


def _decision_due(event):
    case = _case(event)
    return case.decision_due if case and case.state in OPEN else None


def _feedback_due(event):
    case = _case(event)
    return case.feedback_due if case and not case.feedback_given_at else None


def _archive_due(event):
    case = _case(event)
    return case.archive_due if case and not case.archived_at else None


def register_rules() -> None:
    register(
        DeadlineRule(
            name="acceptance",
            label=_("acceptance decision"),
            items=_acceptance_items,
            current_due=_acceptance_due,
            assignees=_clerks_of_report,
        )
    )
    register(
        DeadlineRule(
            name="decision",
            label=_("case decision"),
            items=_case_items("decision_due", state__in=OPEN),
            current_due=_decision_due,
            assignees=_investigator_or(role.CLERK),
        )
    )
    register(
        DeadlineRule(
            name="feedback",
            label=_("feedback to the reporter"),
            items=_case_items("feedback_due", feedback_given_at__isnull=True),
            current_due=_feedback_due,
            assignees=_investigator_or(role.SUPERVISOR),
        )
    )
    register(
        DeadlineRule(
            name="archive",
            label=_("archiving"),
            items=_case_items("archive_due", archived_at__isnull=True, state__in=_not(State)),
            current_due=_archive_due,
            assignees=_investigator_or(role.SUPERVISOR),
        )
    )
    register(
        DeadlineRule(
            name="reward_claim",
            label=_("reward claim"),
            items=_reward_items,
            current_due=_claim_due,
            assignees=outbox.reporters,
            # The reporter hears once, 5 working days before the reward lapses (nothing on the
            # day or after: the receipt page shows the deadline, and then that it lapsed).
            notice_working_days=5,
            kinds={SOON: "reward.lapsing"},
            data=lambda reward: {"case": reward.case_id, "reports": [str(reward.report_id)]},
        )
    )


def _reward_items(horizon):
    approved = Reward.objects.filter(state=RewardState.APPROVED, claim_due__lte=horizon)
    for reward in approved.only("pk", "township_id", "case_id", "report_id", "claim_due"):
        yield reward, reward.claim_due


def _claim_due(event):
    reward = Reward.objects.filter(pk=event.object_id).first()
    return reward.claim_due if reward and reward.state == RewardState.APPROVED else None


def _not(state_enum) -> list[str]:
    return [s for s in state_enum.values if s != state_enum.ARCHIVED]


# --- the kinds these reminders are recorded as ----------------------------------------------------


def _still_due(event) -> bool:
    rule = RULES.get(event.data.get("deadline", ""))
    if rule is None:
        return False
    due = rule.current_due(event)
    return due is not None and due.isoformat() == event.data.get("due")


def _assignees(event):
    rule = RULES.get(event.data.get("deadline", ""))
    return rule.assignees(event) if rule else []


def register_kinds() -> None:
    register_rules()
    # A reminder's task is done once the deadline is met (or moved): its notice is settled.
    common = {
        "recipients": _assignees,
        "relevant": _still_due,
        "done": outbox.each_event(_still_due),
    }
    outbox.register(
        Kind(
            name="deadline.soon",
            label=_("A deadline of mine in a few working days"),
            subject=_("Due %(due)s: %(deadline)s of %(reference)s"),
            body=_("The %(deadline)s of %(reference)s in %(township)s is due on %(due)s."),
            channels=(),  # the inbox and the daily digest; e-mail on request
            **common,
        )
    )
    outbox.register(
        Kind(
            name="deadline.today",
            label=_("A deadline of mine due today"),
            subject=_("Due today: %(deadline)s of %(reference)s"),
            body=_("The %(deadline)s of %(reference)s in %(township)s is due today (%(due)s)."),
            channels=(EMAIL,),
            **common,
        )
    )
    outbox.register(
        Kind(
            name="deadline.overdue",
            label=_("A deadline of mine that has passed"),
            subject=_("Overdue: %(deadline)s of %(reference)s"),
            body=_(
                "The %(deadline)s of %(reference)s in %(township)s was due on %(due)s and is "
                "overdue. Your supervisors have been told."
            ),
            channels=(EMAIL,),
            **common,
        )
    )
    outbox.register(
        Kind(
            name="deadline.escalated",
            label=_("An overdue deadline in my townships (as supervisor)"),
            subject=_("Overdue in %(township)s: %(deadline)s of %(reference)s"),
            body=_(
                "The %(deadline)s of %(reference)s in %(township)s was due on %(due)s and is "
                "overdue. You are told as a supervisor of %(township)s."
            ),
            recipients=roles(role.SUPERVISOR),
            relevant=_still_due,
            done=outbox.each_event(_still_due),
            channels=(EMAIL,),
        )
    )
