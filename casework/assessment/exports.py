"""The assessment as CSV and XLSX: the same objects assessment_report prints as JSON."""

import csv
import io

from openpyxl import Workbook

COLUMNS = (
    "rank",
    "township",
    "name",
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
)


def _cell(value):
    """Text a spreadsheet would run as a formula is quoted; numbers stay numbers."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


def _deductions(row) -> str:
    return "; ".join(f"{d['rule']}:{d['case'] or '-'}:{d['points']}" for d in row["deductions"])


def _values(row) -> list:
    out = []
    for key in COLUMNS:
        if key == "deductions":
            out.append(_deductions(row))
        elif key in ("bottom_band", "quota_set"):
            out.append(1 if row.get(key, True) else 0)
        else:
            out.append(_cell(row[key]))
    return out


def to_csv(rows: list[dict]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow(_values(row))
    return buf.getvalue()


def to_xlsx(rows: list[dict], title: str = "assessment") -> bytes:
    """Three sheets: the scores, every deduction, every missing document."""
    wb = Workbook()
    sheet = wb.active
    sheet.title = title[:31]
    sheet.append(list(COLUMNS))
    for row in rows:
        sheet.append(_values(row))
    deductions = wb.create_sheet("deductions")
    deductions.append(["township", "name", "rule", "case", "points"])
    for row in rows:
        for d in row["deductions"]:
            deductions.append(
                [row["township"], _cell(row["name"]), d["rule"], d["case"], d["points"]]
            )
    missing = wb.create_sheet("missing_documents")
    missing.append(["township", "name", "case", "document"])
    for row in rows:
        for m in row.get("missing", []):
            missing.append([row["township"], _cell(row["name"]), m["case"], _cell(m["document"])])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
