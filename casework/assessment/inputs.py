"""The figures of a county-year, read with a fixed number of aggregate queries.

Whatever the number of cases: one query for the townships (with their quota), one for the
required document types, one aggregate over the cases (handled, decided, on time), one for the
decided cases that miss a required document (each type an EXISTS test), one for the reports of
cases reported more than once in the year, one for the falsified cases. scoring.compute turns
them into scores.

Definitions (the year is a calendar year in the site's time zone):
- handled: ``penalized_at`` in the year, or ``transferred_on`` in the year (a case transferred one
  year and penalized the next counts in both years, as the rule reads);
- decided: ``closed_at`` in the year (the first of 查处, 查无实据, 移送 sets it, once, so a case
  penalized after its transfer is decided once); later states (奖励, 结案归档) keep it;
- on time: the local date of ``closed_at`` on or before ``decision_due`` (extension included);
- missing documents: for each case decided in the year, each required document type that applies
  to it (casework/casefile.py, DocumentType.applies_to) with no document filed, as of now;
- repeat count: the case's linked reports received in the year (scoring.repeat_count);
- falsified: marked falsified in the year.
"""

from collections import defaultdict
from datetime import date, datetime, timedelta
from functools import reduce
from operator import or_

from django.conf import settings
from django.db.models import Count, F, OuterRef, Q, Subquery
from django.utils import timezone

from org.models import County, Township
from tipline.models import Report

from .. import casefile
from ..models import Case, DocumentType
from . import scoring, sheet
from .models import (
    CaseFalsification,
    SheetAdjustment,
    SheetItem,
    TownshipQuota,
)


def year_bounds(year: int) -> tuple[datetime, datetime]:
    tz = timezone.get_default_timezone()
    return datetime(year, 1, 1, tzinfo=tz), datetime(year + 1, 1, 1, tzinfo=tz)


def repeat_window() -> timedelta:
    return timedelta(days=settings.TIPLINE_REPEAT_WINDOW_DAYS)


def missing_documents(cases, doc_types) -> list[tuple[dict, list[DocumentType]]]:
    """(case row, its missing required types) for each case of ``cases`` missing any: one query."""
    if not doc_types:
        return []
    annotations = casefile.missing_annotations(doc_types)
    rows = (
        cases.annotate(**annotations)
        .filter(reduce(or_, (Q(**{name: True}) for name in annotations)))
        .values("pk", "number", "township_id", *annotations)
        .order_by("number")
    )
    return [(row, [t for t in doc_types if row[f"missing_{t.pk}"]]) for row in rows]


def county_inputs(county: County, year: int) -> list[scoring.TownshipInputs]:
    """The inputs of every township of the county for the year (six queries)."""
    start, end = year_bounds(year)
    first_day, last_day = date(year, 1, 1), date(year, 12, 31)
    in_year = {
        "penalized": Q(penalized_at__gte=start, penalized_at__lt=end),
        "transferred": Q(transferred_on__gte=first_day, transferred_on__lte=last_day),
        "closed": Q(closed_at__gte=start, closed_at__lt=end),
    }

    townships = list(
        Township.objects.filter(county=county)
        .annotate(
            year_quota=Subquery(
                TownshipQuota.objects.filter(township=OuterRef("pk"), year=year).values("quota")[:1]
            )
        )
        .order_by("code")
    )
    doc_types = list(DocumentType.objects.filter(required=True).order_by("order", "code"))

    cases = Case.objects.filter(township__county=county)
    counts = {
        row["township_id"]: row
        for row in cases.filter(in_year["penalized"] | in_year["transferred"] | in_year["closed"])
        .values("township_id")
        .order_by("township_id")
        .annotate(
            handled=Count("pk", filter=in_year["penalized"] | in_year["transferred"]),
            decided=Count("pk", filter=in_year["closed"]),
            on_time=Count(
                "pk", filter=in_year["closed"] & Q(closed_at__date__lte=F("decision_due"))
            ),
        )
    }

    missing = defaultdict(list)
    for row, types in missing_documents(cases.filter(in_year["closed"]), doc_types):
        for t in types:
            missing[row["township_id"]].append(
                scoring.MissingDocument(row["number"], t.name, row["pk"])
            )

    repeats = defaultdict(list)
    for case_id, number, township_id, times in _repeat_rows(county, start, end):
        count = scoring.repeat_count(times, repeat_window())
        repeats[township_id].append(scoring.CaseRepeat(number, count, case_id))

    falsified = defaultdict(list)
    for case_id, number, township_id in (
        CaseFalsification.objects.filter(
            case__township__county=county, marked_at__gte=start, marked_at__lt=end
        )
        .values_list("case_id", "case__number", "case__township_id")
        .order_by("case__number")
    ):
        falsified[township_id].append(scoring.FalsifiedCase(number, case_id))

    out = []
    for ts in townships:
        row = counts.get(ts.pk, {})
        out.append(
            scoring.TownshipInputs(
                township=ts.code,
                name=ts.name,
                quota=ts.year_quota or 0,
                quota_set=ts.year_quota is not None,
                handled=row.get("handled", 0),
                decided=row.get("decided", 0),
                decided_on_time=row.get("on_time", 0),
                missing=tuple(missing[ts.pk]),
                repeats=tuple(repeats[ts.pk]),
                falsified=tuple(falsified[ts.pk]),
                reporting_phone=ts.reporting_phone,
                reporting_mailbox=ts.reporting_mailbox,
                county=county.code,
            )
        )
    return out


def _repeat_rows(county, start, end):
    """(case id, number, township id, [received_at, …]) of each case of the county with two or
    more linked reports received in the year: one query, cases reported once are left out."""
    linked = Report.objects.filter(
        case__township__county=county, received_at__gte=start, received_at__lt=end
    )
    several = (linked.values("case_id").order_by().annotate(n=Count("pk")).filter(n__gte=2)).values(
        "case_id"
    )
    grouped: dict[int, tuple] = {}
    for case_id, number, township_id, received_at in (
        linked.filter(case_id__in=several)
        .values_list("case_id", "case__number", "case__township_id", "received_at")
        .order_by("case_id", "received_at")
    ):
        grouped.setdefault(case_id, (case_id, number, township_id, []))[3].append(received_at)
    return list(grouped.values())


# --- the sheet: template with its inspection entries, entered adjustments (two queries) -------


def template(county: County, year: int) -> list[sheet.ItemSpec]:
    """The county's sheet items of the year, or the rulebook's default when it has none."""
    rows = SheetItem.objects.filter(county=county, year=year).order_by("order", "code")
    return [row.spec() for row in rows] or list(sheet.DEFAULT_TEMPLATE)


def sheet_inputs(county: County, year: int):
    """(template, township code → [sheet.Entry], township code → [adjustment kind codes]): two
    queries, the county's items of the year with their entries (entries belong to an item, so a
    county-year without items has none), and the adjustments."""
    entries = defaultdict(list)
    specs: dict[int, sheet.ItemSpec] = {}
    for pk, code, section, title, maximum, scoring_, township, round_, points in (
        SheetItem.objects.filter(county=county, year=year)
        .order_by("order", "code", "pk")
        .values_list(
            "pk",
            "code",
            "section",
            "title",
            "max_points",
            "scoring",
            "entries__township__code",
            "entries__round",
            "entries__points",
        )
    ):
        if pk not in specs:
            specs[pk] = sheet.ItemSpec(code, section, title, maximum, scoring_)
        if township is not None:
            entries[township].append(sheet.Entry(code, round_, points))
    kinds = defaultdict(list)
    for code, kind in (
        SheetAdjustment.objects.filter(
            township__county=county, year=year, withdrawn_at__isnull=True
        )
        .order_by("date", "pk")
        .values_list("township__code", "kind")
    ):
        kinds[code].append(kind)
    return list(specs.values()) or list(sheet.DEFAULT_TEMPLATE), entries, kinds
