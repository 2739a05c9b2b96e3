"""Repeat reports: which existing cases a new report may repeat, and a case's repeat history.

Suggestions read indexed candidates only, never every report: cases whose reports carry the same
subject phone (the blind index on Report.subject_phone_index), and the township's most recent
open cases (Case's township/state index), at most MAX_CANDIDATES of them. Only their reports are
compared, by normalised name and address (rapidfuzz), so the work per report stays bounded
however many reports the system holds. Only reports the clerk links count towards repeats.
"""

import re
import unicodedata
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rapidfuzz import fuzz

from tipline.models import Report

from .. import panels
from ..models import Case
from ..states import State
from . import inputs, scoring
from .forms import FalsifyForm, RepeatReasonForm
from .models import CaseFalsification, RepeatDismissal
from .services import PERM_FALSIFY

# Points out of 100 that each reason adds to a suggestion's score.
PHONE, NAME, ADDRESS, CATEGORY = 40, 30, 20, 10
SIMILAR = 80  # a name or address this similar (0–100, after normalising) counts as a match
MAX_CANDIDATES = 100  # recent open cases of the township compared with a new report
MAX_SUGGESTIONS = 5


# Everything but letters and numbers (Unicode categories L* and N*): \w is exactly those plus
# "_". One regex pass instead of a Python loop over characters: suggestions normalise every
# candidate's name and address, so this is most of their cost.
_NOT_LETTER_OR_NUMBER = re.compile(r"[\W_]+")


def normalise(text: str) -> str:
    """Comparable form: full-width → half-width (NFKC), case folded, without spaces and
    punctuation (Ｂ超室 · 王氏 → b超室王氏)."""
    text = unicodedata.normalize("NFKC", text or "").casefold()
    return _NOT_LETTER_OR_NUMBER.sub("", text)


def similarity(a: str, b: str) -> int:
    """0–100 similarity of two normalised texts; 0 when either is empty."""
    if not a or not b:
        return 0
    return round(fuzz.WRatio(a, b))


@dataclass(frozen=True)
class Reason:
    kind: str  # phone | name | address | category
    label: str
    points: int
    similarity: int | None = None


@dataclass(frozen=True)
class Suggestion:
    case: Case
    score: int  # 0–100
    reasons: tuple[Reason, ...]
    last_report_at: object


@dataclass(frozen=True)
class _Subject:
    """What a report says of the reported person, ready to compare."""

    phone_index: str
    name: str
    address: str

    @classmethod
    def of(cls, phone_index, name, address):
        return cls(phone_index or "", normalise(name), normalise(address))


def _reasons(subject: _Subject, other: _Subject) -> list[Reason]:
    reasons = []
    if subject.phone_index and subject.phone_index == other.phone_index:
        reasons.append(Reason("phone", str(_("same phone of the reported person")), PHONE))
    name = similarity(subject.name, other.name)
    if name >= SIMILAR:
        reasons.append(
            Reason("name", str(_("similar name")), round(NAME * name / 100), similarity=name)
        )
    address = similarity(subject.address, other.address)
    if address >= SIMILAR:
        reasons.append(
            Reason("address", str(_("similar address")), round(ADDRESS * address / 100), address)
        )
    return reasons


def suggest(report: Report, limit: int = MAX_SUGGESTIONS) -> list[Suggestion]:
    """Open cases of the report's township that it may repeat, most recently reported first."""
    open_cases = Case.objects.filter(township_id=report.township_id).exclude(state=State.ARCHIVED)
    ids = set()
    if report.subject_phone_index:
        ids.update(
            Report.objects.filter(
                subject_phone_index=report.subject_phone_index,
                township_id=report.township_id,
                case__isnull=False,
            )
            .exclude(pk=report.pk)
            .values_list("case_id", flat=True)[:MAX_CANDIDATES]
        )
    since = report.received_at - timedelta(days=settings.TIPLINE_REPEAT_SUGGESTION_DAYS)
    ids.update(
        open_cases.filter(accepted_at__gte=since)
        .order_by("-accepted_at")
        .values_list("pk", flat=True)[:MAX_CANDIDATES]
    )
    ids -= set(RepeatDismissal.objects.filter(report=report).values_list("case_id", flat=True))
    if report.case_id:
        ids.discard(report.case_id)
    if not ids:
        return []
    cases = {case.pk: case for case in open_cases.filter(pk__in=ids)}
    best: dict[int, tuple[int, list[Reason]]] = {}
    last: dict[int, object] = {}
    subject = _Subject.of(report.subject_phone_index, report.subject_name, report.subject_address)
    others = (
        Report.objects.filter(case_id__in=cases)
        .exclude(pk=report.pk)
        .values_list(
            "case_id", "received_at", "subject_phone_index", "subject_name", "subject_address"
        )
    )
    for case_id, received_at, *described in others:
        last[case_id] = max(last.get(case_id, received_at), received_at)
        reasons = _reasons(subject, _Subject.of(*described))
        score = sum(r.points for r in reasons)
        if reasons and score > best.get(case_id, (0, []))[0]:
            best[case_id] = (score, reasons)
    out = []
    for case_id, (score, reasons) in best.items():
        case = cases[case_id]
        if case.category == report.category:
            reasons = [*reasons, Reason("category", str(_("same category")), CATEGORY)]
            score += CATEGORY
        out.append(Suggestion(case, min(score, 100), tuple(reasons), last[case_id]))
    out.sort(key=lambda s: (s.last_report_at, s.score), reverse=True)
    return out[:limit]


# --- the case page ----------------------------------------------------------------------------


def case_history(case: Case) -> list[dict]:
    """Per year, newest first: the case's linked reports, its repeat count and the deduction."""
    received = list(Report.objects.filter(case=case).values_list("received_at", flat=True))
    window = inputs.repeat_window()
    years = []
    for year, times in sorted(scoring.by_local_year(received).items(), reverse=True):
        count = scoring.repeat_count(times, window)
        years.append(
            {
                "year": year,
                "reports": sorted(times),
                "count": count,
                "window": scoring.repeat_window(times, window) if count >= 2 else [],
                "points": scoring.repeat_points(count),
            }
        )
    return years


def case_panel(case: Case, user) -> dict:
    """What the case page shows of the assessment: repeat history, falsification, the form."""
    falsification = (
        CaseFalsification.objects.filter(case=case).select_related("document", "marked_by").first()
    )
    return {
        "repeats": case_history(case),
        "window_days": settings.TIPLINE_REPEAT_WINDOW_DAYS,
        "falsification": falsification,
        "falsified_year": timezone.localtime(falsification.marked_at).year
        if falsification
        else None,
        "falsify_form": FalsifyForm()
        if falsification is None and user.has_perm(PERM_FALSIFY)
        else None,
    }


def report_panel(report: Report, user) -> dict:
    """What the report page shows: suggestions while the report awaits triage."""
    if report.status != Report.Status.RECEIVED:
        return {"suggestions": []}
    return {"suggestions": suggest(report)}


def register() -> None:
    panels.register(panels.CASE, "assessment", case_panel)
    panels.register(panels.REPORT, "repeat", report_panel)
    panels.register(panels.REPORT, "repeat_form", lambda report, user: RepeatReasonForm())
