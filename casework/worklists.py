"""Each role's work, counted for the staff home: what awaits this person, with a link to it.

Counts are one query each over the user's townships (casework.access), whatever the number of
cases. Conditions that steps declare are read from the declarations, not repeated here.
"""

from django.db.models import Count, Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import ngettext

from tipline.models import Report

from . import access, steps
from .models import AuditEntry, CaseDocument, IdentityRequest
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


def _awaiting_decision() -> Q:
    """Investigating cases where every document 查处 needs is filed: a supervisor decides."""
    codes = [
        c.check.document_code
        for c in steps.PENALIZE.conditions
        if hasattr(c.check, "document_code")
    ]
    ready = Q(state=State.INVESTIGATING)
    for code in codes:
        filed = CaseDocument.objects.filter(case=OuterRef("pk"), doc_type__code=code)
        ready &= Q(Exists(filed))
    return ready


def _count(**conditions) -> dict:
    return {name: Count("pk", filter=q) for name, q in conditions.items()}


def case_counts(user, cases) -> dict:
    """Every case count the home page shows this user, in one query over their cases."""
    today = timezone.localdate()
    wanted = {"open": ~Q(state=State.ARCHIVED)}
    if user.has_perm(PERM_ASSIGN):
        wanted["unassigned"] = Q(state=State.ACCEPTED, investigator__isnull=True)
    if user.has_perm(PERM_INVESTIGATE) and not user.has_perm(PERM_DECIDE):
        mine = Q(investigator=user, state__in=(State.ACCEPTED, State.INVESTIGATING))
        wanted["mine"] = mine
        wanted["mine_overdue"] = mine & Q(decision_due__lt=today)
    if user.has_perm(PERM_DECIDE):
        told = Q(closed_at__isnull=False, feedback_given_at__isnull=True)
        wanted["awaiting_decision"] = _awaiting_decision()
        wanted["feedback"] = told
        wanted["feedback_overdue"] = told & Q(feedback_due__lt=today)
    if user.has_perm(PERM_ARCHIVE):
        to_archive = Q(state__in=DECIDED) | Q(state=State.REWARDED)
        wanted["to_archive"] = to_archive
        wanted["to_archive_overdue"] = to_archive & Q(archive_due__lt=today)
    return cases.order_by().aggregate(**_count(**wanted))


def for_user(user, counts=None) -> list[dict]:
    """The worklist; `counts` is case_counts(user, …) when the caller has it already."""
    today = timezone.localdate()
    counts = counts if counts is not None else case_counts(user, access.cases_for(user))
    items = []
    case_list = reverse("staff:cases")
    if user.has_perm(PERM_TRIAGE):
        new = (
            access.reports_for(user)
            .order_by()
            .aggregate(
                **_count(
                    n=Q(status=Report.Status.RECEIVED),
                    overdue=Q(status=Report.Status.RECEIVED, acceptance_due__lt=today),
                )
            )
        )
        n = new["n"]
        items.append(
            _item(
                "work-new-reports",
                n,
                ngettext("new report awaiting review", "new reports awaiting review", n),
                reverse("staff:queue"),
                new["overdue"],
            )
        )
    if user.has_perm(PERM_ASSIGN):
        n = counts["unassigned"]
        items.append(
            _item(
                "work-unassigned",
                n,
                ngettext("case awaiting assignment", "cases awaiting assignment", n),
                f"{case_list}?state={State.ACCEPTED}",
            )
        )
    if user.has_perm(PERM_INVESTIGATE) and not user.has_perm(PERM_DECIDE):
        n = counts["mine"]
        items.append(
            _item(
                "work-my-cases",
                n,
                ngettext("open case assigned to you", "open cases assigned to you", n),
                case_list,
                counts["mine_overdue"],
            )
        )
    if user.has_perm(PERM_DECIDE):
        n = counts["awaiting_decision"]
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
        n = counts["feedback"]
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
                counts["feedback_overdue"],
            )
        )
    if user.has_perm(PERM_ARCHIVE):
        n = counts["to_archive"]
        items.append(
            _item(
                "work-to-archive",
                n,
                ngettext("decided case not yet archived", "decided cases not yet archived", n),
                f"{case_list}?state=all",
                counts["to_archive_overdue"],
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
