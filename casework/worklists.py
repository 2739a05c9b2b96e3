"""Each role's work, counted for the staff home: what awaits this person, with a link to it.

Counts are one query each over the user's townships (casework.access), whatever the number of
cases. Conditions that steps declare are read from the declarations, not repeated here.

Each count reads only the rows its cards can count, named in the query's WHERE so that the
planner can start from a (partial) index holding those rows: the live cases (Case.LIVE; most
cases of a province are archived), the reports awaiting review, the rewards in the two states
counted. The cards stay exact: each card's condition implies the WHERE (tests pin it).
"""

from urllib.parse import urlencode

from django.db.models import Count, Exists, OuterRef, Q, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import ngettext

from tipline.models import Report

from . import access, steps
from .models import AuditEntry, Case, CaseDocument, DocumentType, IdentityRequest
from .states import (
    DECIDED,
    OPEN,
    PERM_ARCHIVE,
    PERM_ASSIGN,
    PERM_DECIDE,
    PERM_INVESTIGATE,
    PERM_TRIAGE,
    State,
)


def _item(key, n, text, url, overdue=0, overdue_url="") -> dict:
    return {
        "id": key,
        "n": n,
        "text": text,
        "url": url,
        "overdue": overdue,
        "overdue_url": overdue_url,
    }


def _awaiting_decision() -> Q:
    """Investigating cases where every document 查处 needs is filed: a supervisor decides."""
    codes = [
        c.check.document_code
        for c in steps.PENALIZE.conditions
        if hasattr(c.check, "document_code")
    ]
    ready = Q(state=State.INVESTIGATING)
    for code in codes:
        # The type's id read once (a subquery of its own), not joined to each case's probe:
        # a province's thousands of investigating cases are each asked (index: case, type).
        doc_type = DocumentType.objects.filter(code=code).values("pk")
        filed = CaseDocument.objects.filter(case=OuterRef("pk"), doc_type=Subquery(doc_type))
        ready &= Q(Exists(filed))
    return ready


def _count(counted="pk", **conditions) -> dict:
    """COUNT(counted) FILTER (…) for each condition: `counted` a column that is never null
    (the same count as COUNT(*), which Django does not filter) and in the index the count
    reads, so that the rows need not be read."""
    return {name: Count(counted, filter=q) for name, q in conditions.items()}


def overdue(today) -> Q:
    """Cases with a deadline passed and its step not taken: Case.overdue_flags() in SQL."""
    return (
        Q(state__in=OPEN, decision_due__lt=today)
        | Q(feedback_due__lt=today, feedback_given_at__isnull=True)
        | (Q(archive_due__lt=today) & ~Q(state=State.ARCHIVED))
    )


def reports_overdue(today) -> Q:
    """Reports still awaiting review past their acceptance deadline."""
    return Q(status=Report.Status.RECEIVED, acceptance_due__lt=today)


def case_work(user, today=None) -> dict[str, tuple[Q, Q | None]]:
    """The case cards this user's home shows, by name: (what the card counts, what its
    "overdue" line counts, or None). The case list filters by the same conditions (?work=),
    so a card and the list it opens count the same cases. Every condition implies Case.LIVE
    (not archived, or decided with the reporters not told: an archived case may still be)."""
    today = today or timezone.localdate()
    work = {}
    if user.has_perm(PERM_ASSIGN):
        work["unassigned"] = (Q(state=State.ACCEPTED, investigator__isnull=True), None)
    if user.has_perm(PERM_INVESTIGATE) and not user.has_perm(PERM_DECIDE):
        mine = Q(investigator=user, state__in=(State.ACCEPTED, State.INVESTIGATING))
        work["mine"] = (mine, mine & Q(decision_due__lt=today))
    if user.has_perm(PERM_DECIDE):
        told = Q(closed_at__isnull=False, feedback_given_at__isnull=True)
        work["awaiting_decision"] = (_awaiting_decision(), None)
        work["feedback"] = (told, told & Q(feedback_due__lt=today))
    if user.has_perm(PERM_ARCHIVE):
        to_archive = Q(state__in=DECIDED) | Q(state=State.REWARDED)
        work["to_archive"] = (to_archive, to_archive & Q(archive_due__lt=today))
    return work


def work_filter(user, name: str, *, overdue_only=False, today=None) -> Q:
    """The condition of the user's card `name` (its overdue part with overdue_only); a name the
    user has no card for matches nothing."""
    today = today or timezone.localdate()
    counted, late = case_work(user, today).get(name, (Q(pk__in=[]), None))
    if not overdue_only:
        return counted
    return late if late is not None else counted & overdue(today)


def case_counts(user, cases) -> dict:
    """Every case count the home page shows this user, in one query over their live cases
    (every count's condition implies Case.LIVE: the partial index case_township_live_idx
    holds them)."""
    wanted = {"open": ~Q(state=State.ARCHIVED)}
    for name, (counted, late) in case_work(user).items():
        wanted[name] = counted
        if late is not None:
            wanted[f"{name}_overdue"] = late
    return cases.filter(Case.LIVE).order_by().aggregate(**_count(**wanted))


def case_list_url(work: str = "", *, overdue_only=False) -> str:
    """The case list filtered to one card's cases (every state: a card counts archived ones
    too where its condition allows)."""
    query = {"state": "all", "work": work} if work else {}
    if overdue_only:
        query["overdue"] = "1"
    url = reverse("staff:cases")
    return f"{url}?{urlencode(query)}" if query else url


def queue_url(*, overdue_only=False) -> str:
    query = {"status": Report.Status.RECEIVED}
    if overdue_only:
        query["overdue"] = "1"
    return f"{reverse('staff:queue')}?{urlencode(query)}"


def for_user(user, counts=None) -> list[dict]:
    """The worklist; `counts` is case_counts(user, …) when the caller has it already."""
    today = timezone.localdate()
    counts = counts if counts is not None else case_counts(user, access.cases_for(user))
    items = []
    if user.has_perm(PERM_TRIAGE):
        new = (
            access.reports_for(user)
            .filter(status=Report.Status.RECEIVED)  # what both counts count: their index
            .order_by()
            .aggregate(
                **_count(
                    "status",  # in the indexes of the queue (township, status, acceptance_due…)
                    n=Q(status=Report.Status.RECEIVED),
                    overdue=reports_overdue(today),
                )
            )
        )
        n = new["n"]
        items.append(
            _item(
                "work-new-reports",
                n,
                ngettext("new report awaiting review", "new reports awaiting review", n),
                queue_url(),
                new["overdue"],
                queue_url(overdue_only=True),
            )
        )
    if user.has_perm(PERM_ASSIGN):
        n = counts["unassigned"]
        items.append(
            _item(
                "work-unassigned",
                n,
                ngettext("case awaiting assignment", "cases awaiting assignment", n),
                case_list_url("unassigned"),
            )
        )
    if user.has_perm(PERM_INVESTIGATE) and not user.has_perm(PERM_DECIDE):
        n = counts["mine"]
        items.append(
            _item(
                "work-my-cases",
                n,
                ngettext("open case assigned to you", "open cases assigned to you", n),
                case_list_url("mine"),
                counts["mine_overdue"],
                case_list_url("mine", overdue_only=True),
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
                case_list_url("awaiting_decision"),
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
                case_list_url("feedback"),
                counts["feedback_overdue"],
                case_list_url("feedback", overdue_only=True),
            )
        )
    if user.has_perm(PERM_ARCHIVE):
        n = counts["to_archive"]
        items.append(
            _item(
                "work-to-archive",
                n,
                ngettext("decided case not yet archived", "decided cases not yet archived", n),
                case_list_url("to_archive"),
                counts["to_archive_overdue"],
                case_list_url("to_archive", overdue_only=True),
            )
        )
    if access.is_custodian(user):
        n = (
            access.in_townships(IdentityRequest.objects.all(), user)
            .filter(status=IdentityRequest.Status.PENDING)
            .count()
        )
        items.append(
            _item(
                "work-identity",
                n,
                ngettext(
                    "identity request awaiting your decision",
                    "identity requests awaiting your decision",
                    n,
                ),
                f"{reverse('staff:identity_list')}?status={IdentityRequest.Status.PENDING}",
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
                f"{reverse('staff:audit')}?since={since.date().isoformat()}",
            )
        )
    return items
