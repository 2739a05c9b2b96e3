"""A county's assessment of one year: live figures, or the frozen ones with what changed since.

Rows are the JSON objects assessment_report prints (scoring.TownshipScore.as_json), so the page,
the exports, the command and the frozen snapshot all show the same figures.
"""

from dataclasses import dataclass, field

from org.models import County

from . import inputs, scoring, sheet
from .models import AssessmentFreeze

# The figures compared between a frozen snapshot and today's.
COMPARED = (
    "rank",
    "quota",
    "quota_set",
    "handled",
    "decided",
    "decided_on_time",
    "missing_documents",
    "quota_points",
    "on_time_points",
    "file_points",
    "section_total",
    "repeat_deduction",
    "falsified_deduction",
    "shortfall_deduction",
    "reporting_system_points",
    "net",
    "bottom_band",
    "deductions",
    "missing",
    "items",
    "adjustments",
    "total",
)


def live(county: County, year: int) -> list[scoring.TownshipScore]:
    """Every township's whole sheet, ranked (nine queries: six for the cases, three for the
    sheet)."""
    items, entries, kinds = inputs.sheet_inputs(county, year)
    return scoring.ranked(
        [
            sheet.apply(scoring.compute(i), items, entries[i.township], kinds[i.township])
            for i in inputs.county_inputs(county, year)
        ]
    )


def live_rows(county: County, year: int) -> list[dict]:
    return [score.as_json() for score in live(county, year)]


@dataclass
class Assessment:
    county: County
    year: int
    rows: list[dict]  # official figures: the snapshot when frozen, else today's
    freeze: AssessmentFreeze | None = None
    live: list[dict] = field(default_factory=list)
    # township code → {key: today's value} where today's figures differ from the snapshot
    differences: dict[str, dict] = field(default_factory=dict)
    added: list[dict] = field(default_factory=list)  # townships the snapshot does not have

    @property
    def frozen(self) -> bool:
        return self.freeze is not None

    def only(self, codes) -> "Assessment":
        """The same assessment restricted to the given townships (what a user may see)."""
        codes = set(codes)
        return Assessment(
            county=self.county,
            year=self.year,
            rows=[r for r in self.rows if r["township"] in codes],
            freeze=self.freeze,
            live=[r for r in self.live if r["township"] in codes],
            differences={k: v for k, v in self.differences.items() if k in codes},
            added=[r for r in self.added if r["township"] in codes],
        )


def differences(frozen: list[dict], today: list[dict]) -> tuple[dict, list[dict]]:
    by_code = {row["township"]: row for row in today}
    changed = {}
    for row in frozen:
        now = by_code.pop(row["township"], None)
        if now is None:
            continue
        diff = {key: now.get(key) for key in COMPARED if row.get(key) != now.get(key)}
        if diff:
            changed[row["township"]] = diff
    return changed, list(by_code.values())


def assessment(county: County, year: int, *, live_only: bool = False) -> Assessment:
    """The official figures of the county-year: the frozen snapshot if there is one (compared
    with today's), else today's."""
    today = live_rows(county, year)
    freeze = (
        None if live_only else AssessmentFreeze.objects.filter(county=county, year=year).first()
    )
    if freeze is None:
        return Assessment(county, year, today, live=today)
    # Snapshots frozen before quota_set existed were frozen with every quota set; those frozen
    # before the whole sheet had only the computed part, whose total was the net.
    frozen = [
        {"quota_set": True, "items": [], "adjustments": [], "total": row["net"], **row}
        for row in freeze.snapshot
    ]
    changed, added = differences(frozen, today)
    return Assessment(county, year, frozen, freeze, live=today, differences=changed, added=added)
