"""Each role's work, counted for the staff home: what awaits this person, with a link to it.

Counts are one query each over the user's townships (casework.access), whatever the number of
cases. Conditions that steps declare are read from the declarations, not repeated here.
"""

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import ngettext

from tipline.models import Report

from . import access, steps
from .models import AuditEntry, IdentityRequest
from .states import (
    DECIDED,
    PERM_ARCHIVE,
    PERM_ASSIGN,
    PERM_DECIDE,
    PERM_INVESTIGATE,
    PERM_TRIAGE,
    State,
)


def _item(key, n, text, url, overdue=0) -> dict:
    return {"id": key, "n": n, "text": text, "url": url, "overdue": overdue}


def _awaiting_decision(cases):
    """Investigating cases where every document 查处 needs is filed: a supervisor decides."""
    codes = [
        c.check.document_code
        for c in steps.PENALIZE.conditions
        if hasattr(c.check, "document_code")
    ]
    ready = cases.filter(state=State.INVESTIGATING)
    for code in codes:
        ready = ready.filter(documents__doc_type__code=code)
    return ready.distinct()


def for_user(user) -> list[dict]:
    today = timezone.localdate()
    cases = access.cases_for(user)
    items = []
    case_list = reverse("staff:cases")
    if user.has_perm(PERM_TRIAGE):
        new = access.reports_for(user).filter(status=Report.Status.RECEIVED)
        n = new.count()
        items.append(
            _item(
                "work-new-reports",
                n,
                ngettext("new report awaiting review", "new reports awaiting review", n),
                reverse("staff:queue"),
                new.filter(acceptance_due__lt=today).count() if n else 0,
            )
        )
    if user.has_perm(PERM_ASSIGN):
        n = cases.filter(state=State.ACCEPTED, investigator__isnull=True).count()
        items.append(
            _item(
                "work-unassigned",
                n,
                ngettext("case awaiting assignment", "cases awaiting assignment", n),
                f"{case_list}?state={State.ACCEPTED}",
            )
        )
    if user.has_perm(PERM_INVESTIGATE) and not user.has_perm(PERM_DECIDE):
        mine = cases.filter(investigator=user, state__in=(State.ACCEPTED, State.INVESTIGATING))
        n = mine.count()
        items.append(
            _item(
                "work-my-cases",
                n,
                ngettext("open case assigned to you", "open cases assigned to you", n),
                case_list,
                mine.filter(decision_due__lt=today).count() if n else 0,
            )
        )
    if user.has_perm(PERM_DECIDE):
        n = _awaiting_decision(cases).count()
        items.append(
            _item(
                "work-awaiting-decision",
                n,
                ngettext(
                    "case with its penalty decision filed, awaiting your approval (查处)",
                    "cases with their penalty decision filed, awaiting your approval (查处)",
                    n,
                ),
                f"{case_list}?state={State.INVESTIGATING}",
            )
        )
        told = cases.filter(closed_at__isnull=False, feedback_given_at__isnull=True)
        n = told.count()
        items.append(
            _item(
                "work-feedback",
                n,
                ngettext(
                    "decided case whose reporters are not yet told the outcome",
                    "decided cases whose reporters are not yet told the outcome",
                    n,
                ),
                f"{case_list}?state=all",
                told.filter(feedback_due__lt=today).count() if n else 0,
            )
        )
    if user.has_perm(PERM_ARCHIVE):
        n = cases.filter(Q(state__in=DECIDED) | Q(state=State.REWARDED)).count()
        items.append(
            _item(
                "work-to-archive",
                n,
                ngettext("decided case not yet archived", "decided cases not yet archived", n),
                f"{case_list}?state=all",
                cases.filter(
                    Q(state__in=DECIDED) | Q(state=State.REWARDED), archive_due__lt=today
                ).count()
                if n
                else 0,
            )
        )
    if access.is_custodian(user):
        n = IdentityRequest.objects.filter(
            township__in=access.townships_for(user),
            status=IdentityRequest.Status.PENDING,
        ).count()
        items.append(
            _item(
                "work-identity",
                n,
                ngettext(
                    "identity request awaiting your decision",
                    "identity requests awaiting your decision",
                    n,
                ),
                reverse("staff:identity_list"),
            )
        )
    if user.has_perm("casework.view_audit"):
        since = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
        n = AuditEntry.objects.filter(at__gte=since).count()
        items.append(
            _item(
                "work-audit",
                n,
                ngettext("audit entry today", "audit entries today", n),
                reverse("staff:audit"),
            )
        )
    return items
