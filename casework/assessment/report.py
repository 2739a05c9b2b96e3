"""A county's assessment of one year: live figures, or the frozen ones with what changed since.

Rows are the JSON objects assessment_report prints (scoring.TownshipScore.as_json), so the page,
the exports, the command and the frozen snapshot all show the same figures.

The pages read ``cached``: the same Assessment, kept in the shared cache under the version
tokens of every input it was computed from (versions.py), and computed again once a write has
renewed any of them. Figures are never older than the last write a user or a test can see.
"""

import copy
import logging
from dataclasses import dataclass, field, replace

from django.conf import settings
from django.core.cache import cache

from org.models import County, Township

from . import inputs, scoring, sheet, versions
from .models import AssessmentFreeze

logger = logging.getLogger(__name__)

# A cached assessment lives at most this long, even if no write renews its versions (the
# figures' own bound if a write could not reach the cache: versions.py).
CACHE_SECONDS = 3600
# Part of every cached entry's key: change it when the rows' shape or rules change, so a
# deployment never reads what the code before it cached.
FORMAT = 1

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
    """Every township's whole sheet, ranked (eight queries: six for the cases, two for the
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
        None
        if live_only
        else AssessmentFreeze.objects.filter(county=county, year=year)
        .select_related("frozen_by")
        .first()
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


# --- cached for the pages ---------------------------------------------------------------------


def _figures_key(county_id: int, year: int) -> str:
    return f"assessment:figures:{FORMAT}:{county_id}:{year}"


def _settings() -> tuple:
    """What the figures read besides the database."""
    return (settings.TIPLINE_REPEAT_WINDOW_DAYS, settings.TIME_ZONE)


def _lean(result: Assessment) -> Assessment:
    """What is kept: not the county (the reader has it), nor the snapshot a second time (the
    frozen rows are the snapshot's)."""
    freeze = result.freeze
    if freeze is not None:
        freeze = copy.copy(freeze)
        freeze.snapshot = None
    return replace(result, county=None, freeze=freeze)


def _cached(county: County, year: int) -> Assessment | None:
    """The cached assessment if none of its versions changed since: two cache round trips and
    no query."""
    head = [versions.EPOCH, versions.county_key(county.pk)]
    key = _figures_key(county.pk, year)
    found = cache.get_many([*head, key])
    entry = found.get(key)
    if entry is None or entry["settings"] != _settings():
        return None
    if any(found.get(k) is None or found[k] != entry["versions"].get(k) for k in head):
        return None
    townships = [k for k in entry["versions"] if k not in head]
    now = cache.get_many(townships)
    if any(now.get(k) is None or now[k] != entry["versions"][k] for k in townships):
        return None
    return replace(entry["assessment"], county=county)


def cached(county: County, year: int) -> Assessment:
    """assessment(county, year), from the cache while none of its inputs changed (exact: every
    write renews a version it was computed under, versions.py)."""
    try:
        hit = _cached(county, year)
    except Exception:  # the cache is down: compute (and do not try to keep it)
        logger.warning("assessment cache unreachable", exc_info=True)
        return assessment(county, year)
    if hit is not None:
        return hit
    # The versions are read before the figures: a write that commits meanwhile renews them
    # after its commit, so what is computed here is kept under values that are already old.
    ids = Township.objects.filter(county=county).values_list("pk", flat=True)
    keys = [versions.EPOCH, versions.county_key(county.pk), *map(versions.township_key, ids)]
    try:
        tokens = versions.current(keys)
    except Exception:
        logger.warning("assessment cache unreachable", exc_info=True)
        return assessment(county, year)
    result = assessment(county, year)
    entry = {"settings": _settings(), "versions": tokens, "assessment": _lean(result)}
    try:
        cache.set(_figures_key(county.pk, year), entry, timeout=CACHE_SECONDS)
    except Exception:
        logger.warning("assessment cache unreachable", exc_info=True)
    return result
