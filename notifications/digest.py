"""The daily digest: per staff member, what is due this week, in one e-mail (not one per case).

Beat records one digest event per staff member and day (``manage.py send_digest`` does the
same); the notice lists references and dates only.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from casework.models import Case
from casework.states import OPEN, PERM_ASSIGN, PERM_DECIDE, PERM_INVESTIGATE, PERM_TRIAGE
from org.scope import townships_for
from tipline.models import Report

from . import outbox
from .channels import staff_channels
from .deadline_scan import RULES
from .models import Preferences
from .outbox import EMAIL, Kind, Recipient
from .references import case_reference, report_reference

KIND = "digest.daily"


@dataclass(frozen=True)
class Item:
    deadline: str  # the rule's name
    reference: str
    due: date


def week_end(today: date) -> date:
    return today + timedelta(days=6 - today.weekday())  # the coming Sunday


def items_for(user, today: date) -> list[Item]:
    """What this person must see to this week: reports to accept (clerks), their cases
    (investigators), every case of their townships (supervisors), unassigned cases (clerks)."""
    townships = townships_for(user)
    end = week_end(today)
    items = []
    if user.has_perm(PERM_TRIAGE):
        reports = Report.objects.filter(
            township__in=townships, status=Report.Status.RECEIVED, acceptance_due__lte=end
        )
        items += [Item("acceptance", report_reference(r), r.acceptance_due) for r in reports]
    cases = Case.objects.filter(township__in=townships, next_due__lte=end)
    if user.has_perm(PERM_DECIDE):
        pass
    elif user.has_perm(PERM_INVESTIGATE):
        cases = cases.filter(investigator=user)
    elif user.has_perm(PERM_ASSIGN):
        cases = cases.filter(investigator__isnull=True, state__in=OPEN)
    else:
        cases = cases.none()
    for case in cases:
        if case.state in OPEN:
            which = "decision"
        elif case.feedback_due == case.next_due and not case.feedback_given_at:
            which = "feedback"
        else:
            which = "archive"
        items.append(Item(which, case_reference(case), case.next_due))
    return sorted(items, key=lambda i: (i.due, i.reference))


def _day(event) -> date:
    return date.fromisoformat(event.data["date"])


def _user(event):
    return get_user_model().objects.filter(pk=event.object_id).first()


def _recipients(event):
    user = _user(event)
    return [Recipient(user=user)] if user is not None else []


def _relevant(event) -> bool:
    user = _user(event)
    return user is not None and bool(items_for(user, _day(event)))


def _context(event) -> dict:
    today = _day(event)
    lines = []
    for item in items_for(_user(event), today):
        late = _(" (overdue)") if item.due < today else ""
        label = RULES[item.deadline].label if item.deadline in RULES else item.deadline
        line = _("%(due)s%(late)s: %(deadline)s of %(reference)s") % {
            "due": item.due.isoformat(),
            "late": late,
            "deadline": label,
            "reference": item.reference,
        }
        lines.append(f"- {line}")
    return {"items": "\n".join(lines), "date": today.isoformat(), "link": reverse("staff:home")}


def register_kind() -> None:
    outbox.register(
        Kind(
            name=KIND,
            label=gettext_lazy("Daily digest of what is due this week"),
            subject=gettext_lazy("What is due this week (%(date)s)"),
            body=gettext_lazy("Due by the end of this week in your townships:\n%(items)s"),
            recipients=_recipients,
            channels=(EMAIL,),
            inbox=False,
            relevant=_relevant,
            context=_context,
        )
    )


def record_digests(today: date | None = None) -> int:
    """One digest event per staff member with something due this week (once a day)."""
    today = today or timezone.localdate()
    kind = outbox.get(KIND)
    users = get_user_model().objects.filter(is_active=True, staff_profile__isnull=False)
    prefs = {p.user_id: p for p in Preferences.objects.filter(user__in=users)}
    recorded = 0
    with translation.override(settings.LANGUAGE_CODE):
        for user in users.exclude(email=""):
            if EMAIL not in staff_channels(kind, user, prefs.get(user.pk)):
                continue
            if not items_for(user, today):
                continue
            with transaction.atomic():
                event = outbox.record(
                    KIND, user, township_id=None, key=f"digest:{today}:{user.pk}", date=today
                )
            recorded += event is not None
    return recorded
