"""The score of one township for one year: a pure function of plain figures.

The figures come from a fixed number of aggregate queries (inputs.py); everything here works on
small dataclasses, so each rule can be pinned with hand-computed numbers without a database.
Points are Decimal; the section total is rounded half-up to two decimals, nothing else is.
Deductions are positive numbers of points taken off: net = section + reporting system − deductions.
"""

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.utils import timezone

from ..casefile import POINTS_PER_MISSING

# 第五章 第二十二条: 案件查处 200 = 完成任务 60 + 按期完成 40 + 一案一卷、案卷规范 100.
QUOTA_POINTS = Decimal(60)
ON_TIME_POINTS = Decimal(40)
FILE_POINTS = Decimal(100)
# 第六章 第二十四条 4–6.
REPEAT_TWICE = Decimal(20)
REPEAT_THREE_TIMES = Decimal(30)
FALSIFIED = Decimal(50)
SHORTFALL_PER_POINT = Decimal(20)
# 第四章 第十九条: 有奖举报制度落实, reporting box and phone.
REPORTING_SYSTEM = Decimal(5)

CENT = Decimal("0.01")

REPEAT, FALSIFIED_RULE, SHORTFALL = "repeat", "falsified", "shortfall"


# --- repeat reports ---------------------------------------------------------------------------


def repeat_count(received: list[datetime], window: timedelta) -> int:
    """The largest number of reports such that the last came at most ``window`` after the first.

    Pass the reports of one case received in one year (years never combine)."""
    times = sorted(received)
    best, first = 0, 0
    for last, at in enumerate(times):
        while at - times[first] > window:
            first += 1
        best = max(best, last - first + 1)
    return best


def repeat_window(received: list[datetime], window: timedelta) -> list[datetime]:
    """The reports of the largest window (the earliest such window), for showing the history."""
    times = sorted(received)
    best, first, span = 0, 0, (0, 0)
    for last, at in enumerate(times):
        while at - times[first] > window:
            first += 1
        if last - first + 1 > best:
            best, span = last - first + 1, (first, last)
    return times[span[0] : span[1] + 1] if times else []


def repeat_points(count: int) -> Decimal:
    """Reported twice within the window: 20; three times or more: 30."""
    if count >= 3:
        return REPEAT_THREE_TIMES
    if count == 2:
        return REPEAT_TWICE
    return Decimal(0)


def by_local_year(received: list[datetime]) -> dict[int, list[datetime]]:
    years: dict[int, list[datetime]] = {}
    for at in received:
        years.setdefault(timezone.localtime(at).year, []).append(at)
    return years


# --- one township ---------------------------------------------------------------------------


@dataclass(frozen=True)
class MissingDocument:
    case: str  # case number
    document: str  # document type name
    case_id: int | None = None


@dataclass(frozen=True)
class Deduction:
    rule: str  # "repeat" | "falsified" | "shortfall"
    case: str | None  # case number; None for the quota shortfall
    points: Decimal
    case_id: int | None = None
    count: int | None = None  # the repeat count behind a repeat deduction

    def as_json(self) -> dict:
        return {"rule": self.rule, "case": self.case, "points": number(self.points)}


@dataclass(frozen=True)
class CaseRepeat:
    case: str
    count: int  # repeat count of the case in the year
    case_id: int | None = None


@dataclass(frozen=True)
class FalsifiedCase:
    case: str
    case_id: int | None = None


@dataclass(frozen=True)
class TownshipInputs:
    """Everything the rules read about one township in one year."""

    township: str  # code
    name: str
    quota: int = 0
    handled: int = 0  # reached 查处 or 移送 in the year
    decided: int = 0  # reached 查处, 查无实据 or 移送 in the year
    decided_on_time: int = 0  # of those, decided on or before their decision deadline
    missing: tuple[MissingDocument, ...] = ()  # required documents missing, file by file
    repeats: tuple[CaseRepeat, ...] = ()
    falsified: tuple[FalsifiedCase, ...] = ()
    reporting_phone: str = ""
    reporting_mailbox: str = ""
    quota_set: bool = True
    county: str = ""


@dataclass(frozen=True)
class SheetLine:
    """One item of the 1000-point sheet (sheet.py): points None while nobody has entered it."""

    code: str
    section: str
    title: str
    max: Decimal
    points: Decimal | None
    source: str  # "auto" | "inspection"

    def as_json(self) -> dict:
        return {
            "code": self.code,
            "section": self.section,
            "title": self.title,
            "max": number(self.max),
            "points": None if self.points is None else number(self.points),
            "source": self.source,
        }


@dataclass(frozen=True)
class Adjustment:
    """A bonus (positive) or deduction (negative) of 奖励惩处, or a 后三类 finding (0)."""

    rule: str
    points: Decimal
    source: str  # "auto" | "inspection"

    def as_json(self) -> dict:
        return {"rule": self.rule, "points": number(self.points), "source": self.source}


@dataclass(frozen=True)
class TownshipScore:
    township: str
    name: str
    quota: int
    handled: int
    decided: int
    decided_on_time: int
    missing_documents: int
    quota_points: Decimal
    on_time_points: Decimal
    file_points: Decimal
    section_total: Decimal
    repeat_deduction: Decimal
    falsified_deduction: Decimal
    shortfall_deduction: Decimal
    reporting_system_points: Decimal
    net: Decimal
    bottom_band: bool
    deductions: tuple[Deduction, ...]
    missing: tuple[MissingDocument, ...] = ()
    quota_set: bool = True
    county: str = ""
    rank: int | None = None  # None: not ranked (no quota set for the year)
    # The whole sheet (sheet.apply): every item, the adjustments and their total. A score
    # computed without the sheet has the net as its total.
    items: tuple[SheetLine, ...] = ()
    adjustments: tuple[Adjustment, ...] = ()
    total: Decimal | None = None

    @property
    def total_deduction(self) -> Decimal:
        return self.repeat_deduction + self.falsified_deduction + self.shortfall_deduction

    def as_json(self) -> dict:
        """The object assessment_report prints (keys other tools read; numbers as numbers)."""
        return {
            "county": self.county,
            "rank": self.rank,
            "township": self.township,
            "name": self.name,
            "quota": self.quota,
            "quota_set": self.quota_set,
            "handled": self.handled,
            "decided": self.decided,
            "decided_on_time": self.decided_on_time,
            "missing_documents": self.missing_documents,
            "quota_points": number(self.quota_points),
            "on_time_points": number(self.on_time_points),
            "file_points": number(self.file_points),
            "section_total": number(self.section_total),
            "repeat_deduction": number(self.repeat_deduction),
            "falsified_deduction": number(self.falsified_deduction),
            "shortfall_deduction": number(self.shortfall_deduction),
            "reporting_system_points": number(self.reporting_system_points),
            "net": number(self.net),
            "bottom_band": self.bottom_band,
            "deductions": [d.as_json() for d in self.deductions],
            "missing": [{"case": m.case, "document": m.document} for m in self.missing],
            "items": [i.as_json() for i in self.items],
            "adjustments": [a.as_json() for a in self.adjustments],
            "total": number(self.sheet_total),
        }

    @property
    def sheet_total(self) -> Decimal:
        return self.net if self.total is None else self.total


def number(value: Decimal) -> int | float:
    """A JSON number: whole values as integers, the rest as the nearest float."""
    if value == value.to_integral_value():
        return int(value)
    return float(value)


def quota_points(quota: int, handled: int) -> Decimal:
    """完成任务: 60 × min(1, handled ÷ quota); a quota of 0 gives 60."""
    if quota <= 0 or handled >= quota:
        return QUOTA_POINTS
    return QUOTA_POINTS * handled / quota


def on_time_points(quota: int, decided: int, on_time: int) -> Decimal:
    """按期完成: 40 × on time ÷ decided; nothing decided gives 40 with a quota of 0, else 0."""
    if decided == 0:
        return ON_TIME_POINTS if quota <= 0 else Decimal(0)
    return ON_TIME_POINTS * on_time / decided


def file_points(missing: int) -> Decimal:
    """一案一卷: 100 − 20 per missing required document, not below 0."""
    return max(Decimal(0), FILE_POINTS - POINTS_PER_MISSING * missing)


def shortfall_points(quota: int, handled: int) -> Decimal:
    """−20 per whole percentage point below the quota: 20 × ⌊100 × (quota − handled) ÷ quota⌋."""
    if quota <= 0 or handled >= quota:
        return Decimal(0)
    return SHORTFALL_PER_POINT * (100 * (quota - handled) // quota)


def reporting_system_points(phone: str, mailbox: str) -> Decimal:
    """有奖举报制度落实: 5 with both a reporting phone and a mailbox, 2.5 with one, 0 without."""
    have = bool(phone.strip()) + bool(mailbox.strip())
    return REPORTING_SYSTEM * have / 2


def bottom_band(quota: int, handled: int) -> bool:
    """后三类: fewer cases handled than 50% of the quota (exactly 50% is not)."""
    return quota > 0 and 2 * handled < quota


def compute(inp: TownshipInputs) -> TownshipScore:
    q_points = quota_points(inp.quota, inp.handled)
    t_points = on_time_points(inp.quota, inp.decided, inp.decided_on_time)
    f_points = file_points(len(inp.missing))
    section = (q_points + t_points + f_points).quantize(CENT, rounding=ROUND_HALF_UP)

    deductions = []
    for rep in sorted(inp.repeats, key=lambda r: r.case):
        points = repeat_points(rep.count)
        if points:  # at most one repeat deduction per case and year
            deductions.append(Deduction(REPEAT, rep.case, points, rep.case_id, rep.count))
    for fal in sorted(inp.falsified, key=lambda f: f.case):
        deductions.append(Deduction(FALSIFIED_RULE, fal.case, FALSIFIED, fal.case_id))
    shortfall = shortfall_points(inp.quota, inp.handled)
    if shortfall:
        deductions.append(Deduction(SHORTFALL, None, shortfall))

    def total(rule):
        return sum((d.points for d in deductions if d.rule == rule), Decimal(0))

    repeat, falsified = total(REPEAT), total(FALSIFIED_RULE)
    reporting = reporting_system_points(inp.reporting_phone, inp.reporting_mailbox)
    return TownshipScore(
        township=inp.township,
        name=inp.name,
        quota=inp.quota,
        handled=inp.handled,
        decided=inp.decided,
        decided_on_time=inp.decided_on_time,
        missing_documents=len(inp.missing),
        quota_points=q_points,
        on_time_points=t_points,
        file_points=f_points,
        section_total=section,
        repeat_deduction=repeat,
        falsified_deduction=falsified,
        shortfall_deduction=shortfall,
        reporting_system_points=reporting,
        net=section + reporting - repeat - falsified - shortfall,
        bottom_band=bottom_band(inp.quota, inp.handled),
        deductions=tuple(deductions),
        missing=tuple(inp.missing),
        quota_set=inp.quota_set,
        county=inp.county,
    )


def ranked(scores: list[TownshipScore]) -> list[TownshipScore]:
    """The county's ranking. A township in the bottom band (后三类) is put there directly: every
    township outside the band first, by total, then the band, by total, below all of them. Equal
    totals share a rank (1, 2, 2, 4), then by township code. A township whose quota the county
    has not set for the year is not ranked (rank None): it comes after the ranked ones, by code.
    Before any inspection entry a township's total is its net, so the ranking is by net."""
    ordered = sorted(
        (s for s in scores if s.quota_set),
        key=lambda s: (s.bottom_band, -s.sheet_total, s.township),
    )
    out, rank = [], 0
    for i, score in enumerate(ordered):
        before = ordered[i - 1] if i else None
        if before is None or (score.bottom_band, score.sheet_total) != (
            before.bottom_band,
            before.sheet_total,
        ):
            rank = i + 1
        out.append(replace(score, rank=rank))
    unset = sorted((s for s in scores if not s.quota_set), key=lambda s: s.township)
    return out + [replace(score, rank=None) for score in unset]
