"""The demo county's assessment computed by hand and compared with assessment_report.

seed_demo runs with the clock at 15 June 2026 10:00 (China time); everything it makes happens
then, except the repeat reports it dates back. The figures, by hand:

中水镇 zhongshui — quota 3. The casework demo's cases: 查处 (file lacks 生育证原件, 送达回证,
  结案报告: 3 missing), 奖励 (lacks 结案报告: 1), 结案归档 (complete: 0), 查无实据 (nothing filed:
  5 always-required documents + 结案报告 = 6), 移送 (same: 6), plus an open case and an old one
  still under investigation; and the rewards demo's five cases at 查处 (rewards proposed,
  approved, claimed, cancelled and lapsed), each filed with only the registration form and the
  penalty decision, so each lacks 受理/立案审批表, 询问笔录, 现场检查笔录, 证据材料, 送达回证 and
  结案报告 (6; the 奖励审批表 is required only once rewarded). Handled 9 (8 查处 + 1 移送) ≥ 3 →
  60. Decided 10, all on time → 40. Missing 3 + 1 + 0 + 6 + 6 + 5 × 6 = 46 → 100 − 920 → 0.
  Section 100. The rewarded case (number 0004)
  has a second report 10 days before its first → −20; the penalized case's second report came
  45 days before (outside 30 days) → nothing. Phone and mailbox → 5. Net 100 + 5 − 20 = 85.
西山镇 xishan — quota 4. Three 查处 cases and one 查无实据 decided after its deadline. Handled 3 →
  60 × 3/4 = 45. Decided 4, on time 3 → 40 × 3/4 = 30. One case lacks 送达回证 → 80. Section
  155. Case 0001 reported three times within 5 days → −30; case 0002 falsified → −50; shortfall
  20 × ⌊100 × 1/4⌋ = 500. Net 155 + 5 − 30 − 50 − 500 = −420. Not bottom band (3 ≥ 2).
南湖街道办事处 nanhu — quota 5, two complete 查处 cases. 60 × 2/5 = 24, on time 40, files 100:
  164. Shortfall 20 × ⌊100 × 3/5⌋ = 1200. Bottom band (2 < 2.5). Net 164 + 5 − 1200 = −1031.
北山乡 beishan — no quota set (the county has not issued it: 未下达任务), no cases: figured as
  quota 0, 60 + 40 + 100 = 200; phone but no mailbox → 2.5. Net 202.5, but not ranked.
The inspectors' second-quarter round (demo.ROUND) adds to 中水镇 10 + 35 + 10 + 8 + 10 (领导重视
73) + 12 + 15 + 4 + 5 + 10 (宣传教育 46) + 70 + 10 + 360 + 15 + 8 + 10 + 110 (制度落实 without
第十九条 583) = 702 and a county commendation +10: total 85 + 702 + 10 = 797; to 西山镇 8 + 30 +
5 + 6 + 10 (59) + 8 + 10 + 3 + 5 + 5 (31) + 60 + 5 + 320 + 10 + 6 + 8 + 100 (509) = 599 and a
city notice −30: total −420 + 599 − 30 = 149. 南湖街道 and 北山乡 have no entry: total = net.
Ranks by total: 中水镇 1 (797), 西山镇 2 (149), 南湖街道 3 (−1031, the bottom band); 北山乡
none, last.
"""

import csv
import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from openpyxl import load_workbook

from casework.assessment import sheet

pytestmark = [pytest.mark.django_db, pytest.mark.slow]  # seeds the whole demo county

NO_DEDUCTIONS: list = []

EXPECTED = [
    {
        "rank": 1,
        "township": "zhongshui",
        "name": "中水镇",
        "quota": 3,
        "quota_set": True,
        "handled": 9,
        "decided": 10,
        "decided_on_time": 10,
        "missing_documents": 46,
        "quota_points": 60,
        "on_time_points": 40,
        "file_points": 0,
        "section_total": 100,
        "repeat_deduction": 20,
        "falsified_deduction": 0,
        "shortfall_deduction": 0,
        "reporting_system_points": 5,
        "net": 85,
        "total": 797,
        "bottom_band": False,
        "deductions": [{"rule": "repeat", "case": "ZHONGSHUI-2026-0004", "points": 20}],
    },
    {
        "rank": 2,
        "township": "xishan",
        "name": "西山镇",
        "quota": 4,
        "quota_set": True,
        "handled": 3,
        "decided": 4,
        "decided_on_time": 3,
        "missing_documents": 1,
        "quota_points": 45,
        "on_time_points": 30,
        "file_points": 80,
        "section_total": 155,
        "repeat_deduction": 30,
        "falsified_deduction": 50,
        "shortfall_deduction": 500,
        "reporting_system_points": 5,
        "net": -420,
        "total": 149,
        "bottom_band": False,
        "deductions": [
            {"rule": "repeat", "case": "XISHAN-2026-0001", "points": 30},
            {"rule": "falsified", "case": "XISHAN-2026-0002", "points": 50},
            {"rule": "shortfall", "case": None, "points": 500},
        ],
    },
    {
        "rank": 3,
        "township": "nanhu",
        "name": "南湖街道办事处",
        "quota": 5,
        "quota_set": True,
        "handled": 2,
        "decided": 2,
        "decided_on_time": 2,
        "missing_documents": 0,
        "quota_points": 24,
        "on_time_points": 40,
        "file_points": 100,
        "section_total": 164,
        "repeat_deduction": 0,
        "falsified_deduction": 0,
        "shortfall_deduction": 1200,
        "reporting_system_points": 5,
        "net": -1031,
        "total": -1031,
        "bottom_band": True,
        "deductions": [{"rule": "shortfall", "case": None, "points": 1200}],
    },
    {
        "rank": None,
        "township": "beishan",
        "name": "北山乡",
        "quota": 0,
        "quota_set": False,
        "handled": 0,
        "decided": 0,
        "decided_on_time": 0,
        "missing_documents": 0,
        "quota_points": 60,
        "on_time_points": 40,
        "file_points": 100,
        "section_total": 200,
        "repeat_deduction": 0,
        "falsified_deduction": 0,
        "shortfall_deduction": 0,
        "reporting_system_points": 2.5,
        "net": 202.5,
        "total": 202.5,
        "bottom_band": False,
        "deductions": NO_DEDUCTIONS,
    },
]


@pytest.fixture
def demo(clock):
    clock.set(2026, 6, 15, 10)
    call_command("seed_demo", stdout=io.StringIO())


def command(*args) -> str:
    out = io.StringIO()
    call_command("assessment_report", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_the_demo_county_by_hand(demo):
    rows = json.loads(command("--year", "2026", "--county", "demo", "--format", "json"))
    assert [{k: row[k] for k in EXPECTED[0]} for row in rows] == EXPECTED
    for row in rows:  # numbers are JSON numbers, the band a boolean
        for key in ("quota_points", "section_total", "net", "reporting_system_points"):
            assert isinstance(row[key], int | float) and not isinstance(row[key], bool)
        assert isinstance(row["bottom_band"], bool)
    zs = next(r for r in rows if r["township"] == "zhongshui")
    assert len(zs["missing"]) == 46


def test_csv_and_xlsx_carry_the_same_figures(demo, tmp_path):
    rows = list(csv.DictReader(io.StringIO(command("--year", "2026", "--format", "csv"))))
    assert [(r["乡镇"], float(r["系统计分净分"]), float(r["总分"])) for r in rows] == [
        (e["name"], e["net"], e["total"]) for e in EXPECTED
    ]
    xishan = next(r for r in rows if r["乡镇"] == "西山镇")
    assert xishan["后三类"] == "否" and xishan["已下达任务"] == "是"
    assert xishan["加分、扣分"] == (
        "性别比报表上报不及时，被市通报 −30；重复举报 XISHAN-2026-0001 −30；"
        "弄虚作假 XISHAN-2026-0002 −50；未完成县定任务 −500"
    )
    path = tmp_path / "a.xlsx"
    command("--year", "2026", "--county", "demo", "--format", "xlsx", "--out", str(path))
    book = load_workbook(path)
    header, *values = list(book["考核汇总"].values)
    assert [v[header.index("总分")] for v in values] == [e["total"] for e in EXPECTED]
    adjustments = list(book["加分扣分"].values)[1:]
    assert ("西山镇", "第二十四条 5", "弄虚作假 XISHAN-2026-0002", -50, "系统计算") in adjustments
    assert ("中水镇", "第二十四条 2", "获县级表彰奖励", 10, "督查录入") in adjustments
    items = list(book["千分制明细"].values)[1:]
    assert ("中水镇", "制度落实", sheet.DEFAULT_TEMPLATE[12].title, 400, 360, "督查录入") in items
    assert (
        "南湖街道办事处",
        "领导重视",
        sheet.DEFAULT_TEMPLATE[0].title,
        10,
        "未录入",
        "督查录入",
    ) in items


def test_no_year_data_and_bad_arguments(demo):
    rows = json.loads(command("--year", "2025", "--format", "json"))
    # 2025: no quota set (figured as 0) and no cases: 200 each, plus the reporting system;
    # none is ranked
    assert {r["township"]: (r["net"], r["rank"], r["quota_set"]) for r in rows} == {
        "beishan": (202.5, None, False),
        "nanhu": (205, None, False),
        "xishan": (205, None, False),
        "zhongshui": (205, None, False),
    }
    with pytest.raises(CommandError):
        command("--year", "2026", "--county", "nowhere")
    with pytest.raises(CommandError):
        command("--year", "1999")
