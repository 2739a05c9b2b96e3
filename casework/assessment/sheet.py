"""The county's whole 1000-point sheet (千分制, 第三条–第二十五条): its default template, the fixed
points of the entered bonuses and deductions, and how a township's items, adjustments and total
are put together from plain figures (no database: each rule is pinned with hand-computed
numbers in tests/assessment/test_sheet.py).

How the rounds combine into the year (the rulebook sums the inspections' findings into the year,
第三条): an item scored ``latest`` counts the entry of the latest round (年终 after 第四季度 after
第二季度; an earlier round's entry stays on the sheet, shown as superseded); an item scored
``rounds`` (第六条, 5 points per quarter) adds up its rounds' entries, which together may not
exceed the item's maximum. An item nobody has entered yet has no points (null, counted as 0).
"""

from dataclasses import dataclass, replace
from decimal import Decimal

from . import scoring

# How an item is scored (SheetItem.scoring).
LATEST, ROUNDS, CASES, REPORTING = "latest", "rounds", "cases", "reporting"
AUTOMATIC = (CASES, REPORTING)
AUTO, INSPECTION = "auto", "inspection"  # the contract's sources

# Inspection rounds (第三条: 第二、第四季度督查暗访), latest last.
Q2, Q4, YEAR = "q2", "q4", "year"
ROUND_ORDER = {Q2: 1, Q4: 2, YEAR: 3}

LEADERSHIP, PUBLICITY, SYSTEMS, CASEWORK = "领导重视", "宣传教育", "制度落实", "案件查处"


@dataclass(frozen=True)
class ItemSpec:
    code: str
    section: str
    title: str
    max: Decimal
    scoring: str = LATEST


def _item(code, section, title, points, how=LATEST) -> ItemSpec:
    return ItemSpec(code, section, title, Decimal(points), how)


# The rulebook's items with their maxima: 90 + 60 + 650 + 200 = 1000.
DEFAULT_TEMPLATE = (
    _item("art04", LEADERSHIP, "第四条 成立高规格性别比综合治理领导小组，设立专项治理办公室", 10),
    _item("art05", LEADERSHIP, "第五条 建立责任目标管理体系（逐级签订目标责任书）", 40),
    _item("art06", LEADERSHIP, "第六条 定期召开联席会议（每季度 5 分）", 20, ROUNDS),
    _item("art07", LEADERSHIP, "第七条 建立利益导向机制", 10),
    _item("art08", LEADERSHIP, "第八条 独生女儿户奖励费增加 5 元的标准落实到位", 10),
    _item("art09", PUBLICITY, "第九条 媒体宣传", 20),
    _item("art10", PUBLICITY, "第十条 信息采用", 20),
    _item("art11", PUBLICITY, "第十一条 文化宣传", 5),
    _item("art12", PUBLICITY, "第十二条 入户宣传", 5),
    _item("art13", PUBLICITY, "第十三条 人员培训", 10),
    _item("art14", SYSTEMS, "第十四条 孕情跟踪服务制度落实", 80),
    _item("art15", SYSTEMS, "第十五条 凭证引产制度落实", 10),
    _item("art16", SYSTEMS, "第十六条 孕情监测和访视制度（第二、第四季度入户核实）", 400),
    _item("art17", SYSTEMS, "第十七条 B 超管理制度落实", 15),
    _item("art18", SYSTEMS, "第十八条 统计监测制度落实", 10),
    _item("art19", SYSTEMS, "第十九条 有奖举报制度落实（举报箱、举报电话）", 5, REPORTING),
    _item("art20", SYSTEMS, "第二十条 终止妊娠药品管理制度落实", 10),
    _item("art21", SYSTEMS, "第二十一条 信息通报制度落实（每月 10 分）", 120),
    _item(
        "art22",
        CASEWORK,
        "第二十二条 打击“两非”案件（完成任务 60、按期完成 40、一案一卷 100）",
        200,
        CASES,
    ),
)


# --- bonuses and deductions entered by inspectors (第二十四条 1–3, 第二十五条 1–2) ---------------


@dataclass(frozen=True)
class Kind:
    code: str
    rule: str  # the rulebook's place
    label: str  # in the rulebook's words
    points: Decimal  # bonus positive, deduction negative; 0 for the band
    band: bool = False  # puts the township in 后三类


def _kind(code, rule, label, points, band=False) -> Kind:
    return Kind(code, rule, label, Decimal(points), band)


KINDS = {
    k.code: k
    for k in (
        _kind("city_notice", "第二十四条 1", "性别比报表上报不及时，被市通报", -30),
        _kind("commendation_national", "第二十四条 2", "获国家级表彰奖励", 80),
        _kind("commendation_province", "第二十四条 2", "获省级表彰奖励", 50),
        _kind("commendation_city", "第二十四条 2", "获市级表彰奖励", 20),
        _kind("commendation_county", "第二十四条 2", "获县级表彰奖励", 10),
        _kind("site_meeting_national", "第二十四条 3", "在当地召开国家级现场会", 80),
        _kind("site_meeting_province", "第二十四条 3", "在当地召开省级现场会", 50),
        _kind("site_meeting_city", "第二十四条 3", "在当地召开市级现场会", 20),
        _kind("speech_national", "第二十四条 3", "在国家级会议上交流发言", 50),
        _kind("speech_province", "第二十四条 3", "在省级会议上交流发言", 30),
        _kind("speech_city", "第二十四条 3", "在市级会议上交流发言", 10),
        _kind(
            "band_notice", "第二十五条 1", "被省级以上机关通报或市以上媒体曝光（后三类）", 0, True
        ),
        _kind(
            "band_unrectified",
            "第二十五条 2",
            "受到省、市级通报批评逾期仍不整改（后三类）",
            0,
            True,
        ),
    )
}
# The computed deductions (第二十四条 4–6), in the same words.
COMPUTED_LABELS = {
    scoring.REPEAT: "重复举报",
    scoring.FALSIFIED_RULE: "弄虚作假",
    scoring.SHORTFALL: "未完成县定任务",
}


def label(rule: str) -> str:
    """The rulebook's words for an adjustment's rule code."""
    kind = KINDS.get(rule)
    return kind.label if kind else COMPUTED_LABELS.get(rule, rule)


# --- one township's sheet ----------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One round's entry of one item (the figures the sheet needs)."""

    code: str
    round: str
    points: Decimal


def counted(scoring_: str, entries: list[Entry]) -> Decimal | None:
    """The year's points of an entered item: the latest round's, or the rounds' sum."""
    if not entries:
        return None
    if scoring_ == ROUNDS:
        return sum((e.points for e in entries), Decimal(0))
    return max(entries, key=lambda e: ROUND_ORDER[e.round]).points


def counting_round(scoring_: str, entries: list[Entry]) -> str | None:
    """Which round counts for a ``latest`` item (None: all of them, or none entered)."""
    if scoring_ == ROUNDS or not entries:
        return None
    return max(entries, key=lambda e: ROUND_ORDER[e.round]).round


def apply(
    score: scoring.TownshipScore,
    template,
    entries: list[Entry] = (),
    kinds: list[str] = (),
) -> scoring.TownshipScore:
    """The township's whole sheet: every item of the template (computed or entered), the entered
    adjustments (by kind code) and the computed deductions, the total and the band."""
    by_code: dict[str, list[Entry]] = {}
    for e in entries:
        by_code.setdefault(e.code, []).append(e)
    items = []
    for spec in template:
        if spec.scoring == CASES:
            points, source = score.section_total, AUTO
        elif spec.scoring == REPORTING:
            points, source = score.reporting_system_points, AUTO
        else:
            points, source = counted(spec.scoring, by_code.get(spec.code, [])), INSPECTION
        items.append(
            scoring.SheetLine(spec.code, spec.section, spec.title, spec.max, points, source)
        )
    adjustments = [
        scoring.Adjustment(KINDS[k].code, KINDS[k].points, INSPECTION)
        for k in sorted(kinds, key=list(KINDS).index)
    ]
    adjustments += [scoring.Adjustment(d.rule, -d.points, AUTO) for d in score.deductions]
    total = sum((i.points or Decimal(0) for i in items), Decimal(0))
    total += sum((a.points for a in adjustments), Decimal(0))
    band = score.bottom_band or any(KINDS[k].band for k in kinds)
    return replace(
        score, items=tuple(items), adjustments=tuple(adjustments), total=total, bottom_band=band
    )


def template_max(template) -> Decimal:
    return sum((spec.max for spec in template), Decimal(0))
