"""The assessment as CSV and XLSX, in Chinese, for the people who read and sign it: the same
rows assessment_report prints as JSON (the machine contract), shown with Chinese headers,
township names, 是/否, the whole 1000-point sheet item by item, and every bonus and deduction
in the rulebook's words ("重复举报 ZHONGSHUI-2026-0004 −20")."""

import csv
import io

from openpyxl import Workbook

from . import sheet

YES, NO = "是", "否"
NOT_ENTERED = "未录入"

# (header, key) of the summary's figures, in the order a county reads them.
SUMMARY = (
    ("排名", "rank"),
    ("乡镇", "name"),
    ("县定任务", "quota"),
    ("已下达任务", "quota_set"),
    ("查处、移送案件数", "handled"),
    ("办结案件数", "decided"),
    ("按期办结数", "decided_on_time"),
    ("缺少文书数", "missing_documents"),
    ("完成任务得分（60）", "quota_points"),
    ("按期完成得分（40）", "on_time_points"),
    ("案卷规范得分（100）", "file_points"),
    ("案件查处小计（200）", "section_total"),
    ("有奖举报制度得分（5）", "reporting_system_points"),
    ("重复举报扣分", "repeat_deduction"),
    ("弄虚作假扣分", "falsified_deduction"),
    ("未完成任务扣分", "shortfall_deduction"),
    ("系统计分净分", "net"),
)
TAIL = (("加分、扣分", "adjustments"), ("后三类", "bottom_band"), ("总分", "total"))
SOURCES = {sheet.AUTO: "系统计算", sheet.INSPECTION: "督查录入"}
PLACES = {"repeat": "第二十四条 4", "falsified": "第二十四条 5", "shortfall": "第二十四条 6"}


def _cell(value):
    """Text a spreadsheet would run as a formula is quoted; numbers stay numbers."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


def _signed(points) -> str:
    if points > 0:
        return f"+{points:g}"
    return f"−{abs(points):g}" if points < 0 else "0"


def adjustment_lines(row) -> list[tuple[str, str, float, str]]:
    """(rulebook place, what in words, signed points, source) of every bonus and deduction:
    the entered ones, then the computed deductions with their case."""
    out = []
    for adj in row.get("adjustments", []):
        if adj["source"] != sheet.INSPECTION:
            continue
        kind = sheet.KINDS.get(adj["rule"])
        out.append((kind.rule if kind else "", sheet.label(adj["rule"]), adj["points"], "督查录入"))
    for d in row["deductions"]:
        what = sheet.label(d["rule"]) + (f" {d['case']}" if d["case"] else "")
        out.append((PLACES.get(d["rule"], ""), what, -d["points"], "系统计算"))
    return out


def _adjustments_text(row) -> str:
    return "；".join(
        f"{what} {_signed(points)}" for _place, what, points, _src in adjustment_lines(row)
    )


def _item_columns(rows) -> list[tuple[str, str]]:
    """(code, header) of every sheet item, in the order of the first township that has it."""
    seen: dict[str, str] = {}
    for row in rows:
        for item in row.get("items", []):
            if item["code"] not in seen:
                seen[item["code"]] = f"{item['title']}（{item['max']:g}）"
    return list(seen.items())


def _summary(rows) -> tuple[list[str], list[list]]:
    items = _item_columns(rows)
    header = [h for h, _k in SUMMARY] + [h for _c, h in items] + [h for h, _k in TAIL]
    out = []
    for row in rows:
        values = []
        for _h, key in SUMMARY:
            value = row.get(key, True) if key == "quota_set" else row[key]
            if key == "quota_set":
                value = YES if value else NO
            elif key == "rank" and value is None:
                value = "未排名"
            values.append(_cell(value))
        points = {i["code"]: i["points"] for i in row.get("items", [])}
        for code, _h in items:
            value = points.get(code)
            values.append(NOT_ENTERED if value is None else value)
        values.append(_cell(_adjustments_text(row)))
        values.append(YES if row["bottom_band"] else NO)
        values.append(row.get("total", row["net"]))
        out.append(values)
    return header, out


def to_csv(rows: list[dict]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf)
    header, values = _summary(rows)
    writer.writerow(header)
    writer.writerows(values)
    return buf.getvalue()


def to_xlsx(rows: list[dict], title: str = "考核汇总") -> bytes:
    """Four sheets: the summary, the whole sheet item by item, every bonus and deduction, every
    missing document."""
    wb = Workbook()
    summary = wb.active
    summary.title = "考核汇总"
    header, values = _summary(rows)
    summary.append(header)
    for line in values:
        summary.append(line)
    items = wb.create_sheet("千分制明细")
    items.append(["乡镇", "部分", "条目", "满分", "得分", "来源"])
    for row in rows:
        for item in row.get("items", []):
            items.append(
                [
                    _cell(row["name"]),
                    _cell(item["section"]),
                    _cell(item["title"]),
                    item["max"],
                    NOT_ENTERED if item["points"] is None else item["points"],
                    SOURCES.get(item["source"], item["source"]),
                ]
            )
    adjustments = wb.create_sheet("加分扣分")
    adjustments.append(["乡镇", "条款", "事项", "分值", "来源"])
    for row in rows:
        for place, what, points, source in adjustment_lines(row):
            adjustments.append([_cell(row["name"]), place, _cell(what), points, source])
    missing = wb.create_sheet("缺少文书")
    missing.append(["乡镇", "案件", "文书"])
    for row in rows:
        for m in row.get("missing", []):
            missing.append([_cell(row["name"]), m["case"], _cell(m["document"])])
    wb.properties.title = title
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
