"""The whole 1000-point sheet: the default template, how rounds combine, hand-computed totals,
the band, and the refusals (above the maximum, township staff, after freezing), each refused
change leaving nothing behind.

The two townships of the county, each with a quota of 0 set by the county and no cases, so the
computed 案件查处 is 60 + 40 + 100 = 200 (scoring: a quota of 0 gives full points):

中水镇 zhongshui — no reporting channel: 第十九条 0. Entered: 第四条 8 (Q2), 第五条 35 (Q2),
  第六条 10 (Q2) + 5 (Q4) = 15 (per quarter: the rounds add up), 第十六条 300 (Q2) then 350
  (Q4: the latest round counts). Items 8 + 35 + 15 + 350 + 200 + 0 = 608. 市级表彰 +20,
  市通报 −30: total 608 + 20 − 30 = 598.
西山镇 xishan — a reporting phone only: 第十九条 2.5. Entered: 第四条 10, 第二十一条 100 (Q2).
  Items 10 + 100 + 200 + 2.5 = 312.5. 省级会议交流发言 +30: total 342.5.
"""

import json
from decimal import Decimal
from io import StringIO

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.utils import timezone

from casework.assessment import inspections, report, scoring, services, sheet
from casework.assessment.inspections import EntryRefused, ItemInput
from casework.assessment.models import (
    InspectionEntry,
    SheetAdjustment,
    SheetEvidence,
    SheetItem,
)
from casework.errors import NotAllowed, ServiceError
from casework.models import AuditEntry
from org import roles
from org.models import County, Unit
from org.scope import OutOfScope
from vault import storage

from .conftest import clean_png, decide, make_staff

pytestmark = pytest.mark.django_db


# --- rules without a database -----------------------------------------------------------------


def test_the_default_template_adds_up_to_1000():
    assert sheet.template_max(sheet.DEFAULT_TEMPLATE) == 1000
    sections = {}
    for spec in sheet.DEFAULT_TEMPLATE:
        sections[spec.section] = sections.get(spec.section, 0) + spec.max
    assert sections == {"领导重视": 90, "宣传教育": 60, "制度落实": 650, "案件查处": 200}
    automatic = {s.code: s.scoring for s in sheet.DEFAULT_TEMPLATE if s.scoring in sheet.AUTOMATIC}
    assert automatic == {"art19": sheet.REPORTING, "art22": sheet.CASES}


def test_rounds_combine_latest_or_summed():
    q2, q4, year = (sheet.Entry("x", r, Decimal(p)) for r, p in (("q2", 5), ("q4", 8), ("year", 3)))
    assert sheet.counted(sheet.LATEST, []) is None
    assert sheet.counted(sheet.LATEST, [q4, q2]) == 8  # Q4 after Q2, whatever the order given
    assert sheet.counted(sheet.LATEST, [q4, year, q2]) == 3  # the year-end round is the latest
    assert sheet.counting_round(sheet.LATEST, [q2, q4]) == "q4"
    assert sheet.counted(sheet.ROUNDS, [q2, q4]) == 13
    assert sheet.counting_round(sheet.ROUNDS, [q2, q4]) is None


def test_the_band_ranks_below_whatever_its_total():
    def score(code, net, band=False):
        s = scoring.compute(scoring.TownshipInputs(township=code, name=code))
        return sheet.apply(s, sheet.DEFAULT_TEMPLATE, [], ["band_notice"] if band else [])

    high = score("a", 0, band=True)
    low = score("b", 0)
    low = sheet.apply(low, [], [], [])  # no items at all: total 0
    ranked = scoring.ranked([high, low])
    assert [(s.township, s.rank, s.bottom_band) for s in ranked] == [
        ("b", 1, False),
        ("a", 2, True),
    ]
    assert high.sheet_total == 200 > low.sheet_total == 0


# --- the sheet in the database --------------------------------------------------------------


@pytest.fixture
def year():
    return timezone.localdate().year


@pytest.fixture
def people(cast, units):
    admin = make_staff("county_admin", roles.ADMINISTRATOR, units["county_fp"])
    inspector = make_staff("inspector", roles.INSPECTOR, units["county_fp"])
    return {"admin": admin, "inspector": inspector, **cast}


@pytest.fixture
def quotas(people, township, other_township, year):
    for ts in (township, other_township):
        services.set_quota(ts.pk, year, 0, people["admin"])
    other_township.reporting_phone = "0371-1234567"
    other_township.save()


def _enter(people, ts, year, round_, **points):
    values = {code: ItemInput(str(p), note=f"{code} 督查") for code, p in points.items()}
    return inspections.enter_round(ts.pk, year, round_, values, people["inspector"])


def _adjust(people, ts, year, kind):
    return inspections.add_adjustment(
        ts.pk, year, kind, timezone.localdate(), "县督查", [clean_png()], people["inspector"]
    )


def _rows(county, year):
    return {r["township"]: r for r in report.live_rows(county, year)}


def _fill(people, township, other_township, year):
    _enter(people, township, year, "q2", art04=8, art05=35, art06=10, art16=300)
    _enter(people, township, year, "q4", art06=5, art16=350)
    _adjust(people, township, year, "commendation_city")
    _adjust(people, township, year, "city_notice")
    _enter(people, other_township, year, "q2", art04=10, art21=100)
    _adjust(people, other_township, year, "speech_province")


def test_hand_computed_totals_of_two_townships(
    people, county, township, other_township, year, quotas
):
    _fill(people, township, other_township, year)
    rows = _rows(county, year)
    zs, xs = rows["zhongshui"], rows["xishan"]
    points = {i["code"]: i["points"] for i in zs["items"]}
    assert {k: points[k] for k in ("art04", "art05", "art06", "art16", "art19", "art22")} == {
        "art04": 8,
        "art05": 35,
        "art06": 15,
        "art16": 350,
        "art19": 0,
        "art22": 200,
    }
    assert points["art07"] is None  # not yet entered
    assert zs["adjustments"] == [
        {"rule": "city_notice", "points": -30, "source": "inspection"},
        {"rule": "commendation_city", "points": 20, "source": "inspection"},
    ]
    assert zs["total"] == 598
    assert {i["code"]: i["points"] for i in xs["items"] if i["points"] is not None} == {
        "art04": 10,
        "art19": 2.5,
        "art21": 100,
        "art22": 200,
    }
    assert xs["total"] == 342.5
    assert (zs["rank"], xs["rank"]) == (1, 2)
    # The net (today's computed part) is unchanged by the entries.
    assert (zs["net"], xs["net"]) == (200, 202.5)
    # Both rounds of 第十六条 stay: the Q2 entry is not erased by the Q4 one.
    art16 = InspectionEntry.objects.filter(township=township, item__code="art16")
    assert sorted(art16.values_list("round", "points")) == [("q2", 300), ("q4", 350)]
    assert AuditEntry.objects.filter(action="assessment.inspection_entered").count() == 8
    assert AuditEntry.objects.filter(action="assessment.adjustment_entered").count() == 3


def test_a_township_in_the_band_ranks_below_one_with_a_lower_total(
    people, county, township, other_township, year, quotas
):
    _fill(people, township, other_township, year)
    _adjust(people, township, year, "band_notice")
    rows = _rows(county, year)
    zs, xs = rows["zhongshui"], rows["xishan"]
    assert zs["total"] == 598 > xs["total"] == 342.5
    assert zs["bottom_band"] is True and xs["bottom_band"] is False
    assert (xs["rank"], zs["rank"]) == (1, 2)
    assert {"rule": "band_notice", "points": 0, "source": "inspection"} in zs["adjustments"]


def _nothing_changed(before):
    assert InspectionEntry.objects.count() == before["entries"]
    assert SheetAdjustment.objects.count() == before["adjustments"]
    assert SheetItem.objects.count() == before["items"]
    assert AuditEntry.objects.count() == before["audit"]


def _counts():
    return {
        "entries": InspectionEntry.objects.count(),
        "adjustments": SheetAdjustment.objects.count(),
        "items": SheetItem.objects.count(),
        "audit": AuditEntry.objects.count(),
    }


@pytest.mark.parametrize("points", ["10.01", "-1", "abc", "1.234"])
def test_an_entry_outside_zero_to_the_maximum_is_refused(people, township, year, points):
    before = _counts()
    with pytest.raises(EntryRefused) as refused:
        # 第五条 first (valid), then 第四条 (max 10): all or nothing
        _enter(people, township, year, "q2", art05="30", art04=points)
    assert refused.value.field == "points_art04"
    _nothing_changed(before)


def test_per_quarter_rounds_together_stay_within_the_maximum(people, township, year):
    _enter(people, township, year, "q2", art06=10)
    before = _counts()
    with pytest.raises(EntryRefused):
        _enter(people, township, year, "q4", art06="10.5")  # 10 + 10.5 > 20
    _nothing_changed(before)
    _enter(people, township, year, "q4", art06=10)  # exactly 20
    assert InspectionEntry.objects.filter(item__code="art06").count() == 2


def test_a_computed_item_cannot_be_entered(people, township, year):
    before = _counts()
    with pytest.raises(EntryRefused):
        _enter(people, township, year, "q2", art22=100)
    _nothing_changed(before)


def test_township_staff_cannot_enter_or_change_their_own_sheet(people, township, year):
    _enter(people, township, year, "q2", art04=5)
    clerk = people["clerk"]
    # Even given the permission, a township's own staff are refused.
    clerk.user_permissions.add(*Permission.objects.filter(codename="inspect_township"))
    clerk = type(clerk).objects.get(pk=clerk.pk)
    before = _counts()
    with pytest.raises(NotAllowed):
        inspections.enter_round(township.pk, year, "q2", {"art04": ItemInput(10)}, clerk)
    with pytest.raises(NotAllowed):
        inspections.add_adjustment(
            township.pk,
            year,
            "commendation_national",
            timezone.localdate(),
            "",
            [clean_png()],
            clerk,
        )
    with pytest.raises(NotAllowed):  # without the permission: refused before anything else
        inspections.enter_round(
            township.pk, year, "q2", {"art04": ItemInput(10)}, people["other_clerk"]
        )
    _nothing_changed(before)
    assert InspectionEntry.objects.get(item__code="art04").points == 5


def test_nothing_is_entered_after_freezing(people, county, township, other_township, year, quotas):
    _fill(people, township, other_township, year)
    freeze = services.freeze_year(county.pk, year, people["admin"])
    frozen = {r["township"]: r for r in freeze.snapshot}
    assert frozen["zhongshui"]["total"] == 598 and len(frozen["zhongshui"]["items"]) == 19
    assert frozen["zhongshui"]["adjustments"][0]["rule"] == "city_notice"
    before = _counts()
    with pytest.raises(ServiceError):
        _enter(people, township, year, "q4", art04=9)
    with pytest.raises(ServiceError):
        _adjust(people, township, year, "commendation_county")
    with pytest.raises(ServiceError):
        inspections.change_template(
            county.pk, year, {"art07": ("第七条", Decimal(5), "latest")}, people["admin"]
        )
    _nothing_changed(before)


def test_evidence_is_stored_through_the_vault(people, township, year):
    png = clean_png()
    values = {"art04": ItemInput(Decimal(7), "有会议记录", [png])}
    (entry,) = inspections.enter_round(township.pk, year, "q2", values, people["inspector"])
    (evidence,) = SheetEvidence.objects.filter(entry=entry)
    assert storage.read(evidence) == png.content
    assert storage.path_for(evidence).read_bytes() != png.content  # encrypted at rest
    logged = AuditEntry.objects.get(action="assessment.inspection_entered")
    assert logged.data["evidence"] == [str(evidence.pk)] and logged.data["new"] == "7"


def test_an_adjustment_needs_evidence_and_a_date_in_the_year(people, township, year):
    before = _counts()
    with pytest.raises(EntryRefused):
        inspections.add_adjustment(
            township.pk, year, "city_notice", timezone.localdate(), "", [], people["inspector"]
        )
    with pytest.raises(EntryRefused):
        inspections.add_adjustment(
            township.pk, year, "city_notice", timezone.localdate().replace(year=year - 1), "",
            [clean_png()], people["inspector"],
        )  # fmt: skip
    _nothing_changed(before)


def test_the_administrator_edits_the_template_before_freezing(people, county, township, year):
    changed = inspections.change_template(
        county.pk,
        year,
        {"art07": ("第七条 利益导向（县定）", Decimal(12), "rounds")},
        people["admin"],
    )
    assert changed == 1
    item = SheetItem.objects.get(county=county, year=year, code="art07")
    assert (item.title, item.max_points, item.scoring) == ("第七条 利益导向（县定）", 12, "rounds")
    assert SheetItem.objects.filter(county=county, year=year).count() == 19
    before = _counts()
    with pytest.raises(EntryRefused):  # a computed item keeps its maximum
        inspections.change_template(
            county.pk, year, {"art22": ("第二十二条", Decimal(150), "cases")}, people["admin"]
        )
    with pytest.raises(NotAllowed):  # the inspector does not edit the template
        inspections.change_template(
            county.pk, year, {"art07": ("x", Decimal(5), "latest")}, people["inspector"]
        )
    _nothing_changed(before)


def test_automatic_items_equal_the_computed_figures(people, cast, units, county, township, year):
    services.set_quota(township.pk, year, 3, people["admin"])
    decide(cast, units, township)
    township.reporting_mailbox = "镇政府门口"
    township.save()
    for row in report.live_rows(county, year):
        items = {i["code"]: i for i in row["items"]}
        assert items["art22"]["points"] == row["section_total"]
        assert items["art19"]["points"] == row["reporting_system_points"]
        assert items["art22"]["source"] == items["art19"]["source"] == "auto"
        assert sum(i["max"] for i in row["items"]) == 1000
        auto = {a["rule"]: a["points"] for a in row["adjustments"] if a["source"] == "auto"}
        assert -sum(v for k, v in auto.items() if k == "shortfall") == row["shortfall_deduction"]
        # No entry yet: the total is today's net, so the ranking is today's.
        assert row["total"] == row["net"]
    zs = next(r for r in report.live_rows(county, year) if r["township"] == "zhongshui")
    assert zs["section_total"] == 160  # 60 × 1/3 + 40 + 100
    assert zs["reporting_system_points"] == 2.5


def test_the_contract_keys(people, county, township, other_township, year, quotas):
    _fill(people, township, other_township, year)
    out = StringIO()
    call_command("assessment_report", "--year", str(year), "--format", "json", stdout=out)
    rows = json.loads(out.getvalue())
    for row in rows:
        assert {"quota_set", "rank", "net", "deductions", "items", "adjustments", "total"} <= set(
            row
        )
        for item in row["items"]:
            assert set(item) == {"code", "section", "title", "max", "points", "source"}
            assert item["source"] in ("auto", "inspection")
        for adj in row["adjustments"]:
            assert set(adj) == {"rule", "points", "source"}
        total = sum(i["points"] or 0 for i in row["items"]) + sum(
            a["points"] for a in row["adjustments"]
        )
        assert row["total"] == total
        for rule in ("repeat", "falsified", "shortfall"):
            auto = sum(a["points"] for a in row["adjustments"] if a["rule"] == rule)
            assert auto == -row[f"{rule}_deduction"] or (
                auto == 0 and row[f"{rule}_deduction"] == 0
            )


def test_another_countys_inspector_is_out_of_scope(people, township, year):
    other = County.objects.create(code="other", name="邻县")
    unit = Unit.objects.create(
        county=other, township=None, kind=Unit.Kind.DISCIPLINE, name="邻县纪委"
    )
    outsider = make_staff("outsider", roles.INSPECTOR, unit)
    before = _counts()
    with pytest.raises(OutOfScope):
        inspections.enter_round(township.pk, year, "q2", {"art04": ItemInput("5")}, outsider)
    with pytest.raises(OutOfScope):
        inspections.add_adjustment(
            township.pk, year, "city_notice", timezone.localdate(), "", [clean_png()], outsider
        )
    _nothing_changed(before)


def test_an_adjustment_entered_by_mistake_is_withdrawn(
    people, county, township, other_township, year, quotas
):
    _fill(people, township, other_township, year)
    notice = SheetAdjustment.objects.get(township=township, kind="city_notice")
    clerk = people["clerk"]
    clerk.user_permissions.add(*Permission.objects.filter(codename="inspect_township"))
    clerk = type(clerk).objects.get(pk=clerk.pk)
    before = _counts()
    with pytest.raises(NotAllowed):  # not the township's own staff
        inspections.withdraw_adjustment(notice.pk, "录入错误", clerk)
    with pytest.raises(EntryRefused):  # a reason is needed
        inspections.withdraw_adjustment(notice.pk, " ", people["inspector"])
    _nothing_changed(before)
    inspections.withdraw_adjustment(notice.pk, "录入错误：应为西山镇", people["inspector"])
    zs = _rows(county, year)["zhongshui"]
    assert zs["total"] == 598 + 30
    assert [a["rule"] for a in zs["adjustments"]] == ["commendation_city"]
    logged = AuditEntry.objects.get(action="assessment.adjustment_withdrawn")
    assert logged.data["reason"] == "录入错误：应为西山镇"
    services.freeze_year(county.pk, year, people["admin"])
    other = SheetAdjustment.objects.get(township=township, kind="commendation_city")
    before = _counts()
    with pytest.raises(ServiceError):
        inspections.withdraw_adjustment(other.pk, "迟了", people["inspector"])
    _nothing_changed(before)
    assert SheetAdjustment.objects.get(pk=other.pk).withdrawn_at is None
