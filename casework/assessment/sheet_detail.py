"""A township's whole sheet as its page shows it: section by section, each item with its
maximum, the year's points (from the official row: the frozen snapshot when frozen), where they
come from (系统计算 / 督查录入 with who and when) and each round's entry with its evidence; then
every bonus and deduction. Four queries whatever the number of entries."""

from django.db.models import Prefetch
from django.utils.translation import gettext as _

from org.people import display_name

from . import sheet
from .models import InspectionEntry, InspectionRound, SheetAdjustment, SheetEvidence

ROUND_LABELS = dict(InspectionRound.choices)


def _evidence(rows) -> list[dict]:
    return [
        {"pk": ev.pk, "name": f"{ev.extension.upper()} · {ev.size // 1024 + 1} KB"} for ev in rows
    ]


def _entries(township, year) -> dict[str, list[InspectionEntry]]:
    out: dict[str, list[InspectionEntry]] = {}
    rows = (
        InspectionEntry.objects.filter(township=township, item__year=year)
        .select_related("item", "entered_by")
        .prefetch_related(
            Prefetch("evidence", queryset=SheetEvidence.objects.order_by("uploaded_at"))
        )
    )
    for row in sorted(rows, key=lambda e: sheet.ROUND_ORDER[e.round]):
        out.setdefault(row.item.code, []).append(row)
    return out


def sections(row: dict, township, year: int) -> list[dict]:
    """[{"name", "max", "points", "items": [...]}] in the template's order."""
    entries = _entries(township, year)
    scoring_of = {code: rows[0].item.scoring for code, rows in entries.items()}
    out: list[dict] = []
    for item in row.get("items", []):
        rounds = entries.get(item["code"], [])
        how = scoring_of.get(item["code"], sheet.LATEST)
        counting = sheet.counting_round(
            how, [sheet.Entry(e.item.code, e.round, e.points) for e in rounds]
        )
        line = {
            **item,
            "automatic": item["source"] == sheet.AUTO,
            "summed": how == sheet.ROUNDS,
            "rounds": [
                {
                    "round": e.round,
                    "label": ROUND_LABELS.get(e.round, e.round),
                    "points": e.points,
                    "note": e.note,
                    "by": display_name(e.entered_by),
                    "at": e.entered_at,
                    "counts": counting is None or counting == e.round,
                    "evidence": _evidence(e.evidence.all()),
                }
                for e in rounds
            ],
        }
        if not out or out[-1]["name"] != item["section"]:
            out.append({"name": item["section"], "max": 0, "points": 0, "items": []})
        out[-1]["items"].append(line)
        out[-1]["max"] += item["max"]
        out[-1]["points"] += item["points"] or 0
    return out


def adjustments(row: dict, township, year: int) -> list[dict]:
    """The entered adjustments (with date, note, who, evidence) and the computed deductions
    (with their case), each with its rule in the rulebook's words and its signed points."""
    out = []
    entered = (
        SheetAdjustment.objects.filter(township=township, year=year)
        .select_related("entered_by", "withdrawn_by")
        .prefetch_related(
            Prefetch("evidence", queryset=SheetEvidence.objects.order_by("uploaded_at"))
        )
        .order_by("date", "pk")
    )
    for adj in entered:
        kind = sheet.KINDS[adj.kind]
        out.append(
            {
                "rule": adj.kind,
                "place": kind.rule,
                "label": kind.label,
                "points": kind.points,
                "band": kind.band,
                "automatic": False,
                "date": adj.date,
                "note": adj.note,
                "by": display_name(adj.entered_by),
                "at": adj.entered_at,
                "evidence": _evidence(adj.evidence.all()),
                "pk": adj.pk,
                "withdrawn": adj.withdrawn_at is not None,
                "withdrawn_by": display_name(adj.withdrawn_by) if adj.withdrawn_by_id else "",
                "withdrawn_at": adj.withdrawn_at,
                "withdrawn_reason": adj.withdrawn_reason,
            }
        )
    places = {"repeat": "第二十四条 4", "falsified": "第二十四条 5", "shortfall": "第二十四条 6"}
    for d in row.get("deductions", []):
        out.append(
            {
                "rule": d["rule"],
                "place": places.get(d["rule"], ""),
                "label": sheet.label(d["rule"]),
                "points": -d["points"],
                "band": False,
                "automatic": True,
                "case": d["case"],
                "note": _("Computed by the system"),
            }
        )
    return out
