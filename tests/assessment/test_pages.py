"""What people see: the county ranking with its chart, the drill-down, exports, quota settings,
freezing, the case page's repeat history and falsification, the report page's suggestions."""

import csv
import io
import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook

from casework import services
from casework.assessment import exports, report
from casework.assessment import services as assessment
from casework.assessment.models import AssessmentFreeze, CaseFalsification, TownshipQuota
from casework.models import AuditEntry
from org import roles

from .conftest import clean_png, decide, make_report, make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(units):
    return make_staff("county_admin", roles.ADMINISTRATOR, units["county_fp"])


@pytest.fixture
def year():
    return timezone.localdate().year


@pytest.fixture
def county_data(admin, cast, units, county, township, other_township, year):
    """中水镇: quota 1, one penalized case reported twice, one case missing documents.
    西山镇: quota 4, one penalized case (25%: bottom band)."""
    assessment.set_quota(township.pk, year, 1, admin)
    assessment.set_quota(other_township.pk, year, 4, admin)
    repeated = decide(cast, units, township)
    services.link_report(make_report(township).pk, repeated.pk, cast["supervisor"])
    incomplete = decide(cast, units, township, outcome="unfounded", docs=("closing_report",))
    decide(cast, units, other_township)
    return {"repeated": repeated, "incomplete": incomplete}


def table_rows(html, table_id):
    table = re.search(rf'<table[^>]*id="{table_id}".*?</table>', html, re.S)
    assert table, table_id
    return re.findall(r"<tr[^>]*data-township=\"([^\"]+)\"", table.group(0))


def test_county_page_ranks_charts_and_marks_the_bottom_band(login, cast, county_data):
    html = login(cast["auditor"]).get("/staff/assessment/").content.decode()
    assert table_rows(html, "assessment") == ["zhongshui", "xishan"]
    svg = re.search(r'<svg id="assessment-chart".*?</svg>', html, re.S).group(0)
    assert svg.count("<rect") == 2
    assert "中水镇" in svg and "西山镇" in svg
    assert svg.count('fill="#b3261e"') == 1  # the bottom band's bar
    row = re.search(r'<tr[^>]*data-township="xishan".*?</tr>', html, re.S).group(0)
    assert "bottom-band" in row
    assert "<script" not in html


def test_township_staff_see_their_own_township_only(login, cast, county_data):
    client = login(cast["other_clerk"])
    html = client.get("/staff/assessment/").content.decode()
    assert table_rows(html, "assessment") == ["xishan"]
    assert "中水镇" not in html
    assert client.get("/staff/assessment/townships/zhongshui/").status_code == 404
    assert client.get("/staff/assessment/townships/xishan/").status_code == 200
    rows = list(csv.DictReader(io.StringIO(_csv(client))))
    assert [r["乡镇"] for r in rows] == ["西山镇"]


def _csv(client, query=""):
    response = client.get(f"/staff/assessment/export.csv{query}")
    assert response.status_code == 200
    return response.content.decode("utf-8-sig")


def test_drill_down_lists_every_deduction_and_missing_document(login, cast, county_data):
    html = login(cast["clerk"]).get("/staff/assessment/townships/zhongshui/").content.decode()
    repeated, incomplete = county_data["repeated"], county_data["incomplete"]
    deductions = re.search(r'<table[^>]*id="deductions".*?</table>', html, re.S).group(0)
    assert f'<a href="/staff/cases/{repeated.pk}/">{repeated.number}</a>' in deductions
    assert "−20" in deductions
    missing = re.search(r'<table[^>]*id="missing-documents".*?</table>', html, re.S).group(0)
    # the unfounded case has its registration form and closing report: 4 "always" documents miss
    assert missing.count(f'<a href="/staff/cases/{incomplete.pk}/">') == 4
    assert "现场检查笔录" in missing


def test_exports_carry_the_same_figures_as_the_command(login, cast, county, county_data, year):
    client = login(cast["supervisor"])
    expected = report.live_rows(county, year)
    rows = list(csv.DictReader(io.StringIO(_csv(client))))
    assert [r["乡镇"] for r in rows] == [r["name"] for r in expected]
    for got, want in zip(rows, expected, strict=True):
        assert float(got["系统计分净分"]) == want["net"]
        assert float(got["总分"]) == want["total"]
        assert int(got["缺少文书数"]) == want["missing_documents"]
        assert got["后三类"] == ("是" if want["bottom_band"] else "否")
    response = client.get("/staff/assessment/export.xlsx")
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["考核汇总", "千分制明细", "加分扣分", "缺少文书"]
    header, *values = list(book.active.values)
    assert header[:2] == ("排名", "乡镇") and header[-1] == "总分"
    assert all(h.isascii() is False for h in header)  # every header in Chinese
    assert [v[header.index("总分")] for v in values] == [r["total"] for r in expected]
    exported = AuditEntry.objects.filter(action="assessment.exported")
    assert [e.data["format"] for e in exported] == ["csv", "xlsx"]


def test_a_formula_in_a_name_is_not_run_by_a_spreadsheet(county, township, year):
    township.name = "=HYPERLINK(1)"
    township.save()
    text = exports.to_csv(report.live_rows(county, year))
    assert "'=HYPERLINK(1)" in text


def test_the_page_takes_a_fixed_number_of_queries(login, cast, units, township, county_data):
    client = login(cast["supervisor"])
    client.get("/staff/assessment/")
    cache.clear()  # the figures computed, not read from the cache (report.cached)
    with CaptureQueriesContext(connection) as few:
        client.get("/staff/assessment/")
    for _ in range(6):
        case = decide(cast, units, township, docs=("penalty_decision",))
        services.link_report(make_report(township).pk, case.pk, cast["supervisor"])
    with CaptureQueriesContext(connection) as many:  # computed again: the writes renewed them
        html = client.get("/staff/assessment/").content.decode()
    assert len(many.captured_queries) == len(few.captured_queries)
    assert ">7<" in html  # 中水镇 handled 7


# --- county administrators -----------------------------------------------------------------


def test_administrator_cells(login, admin, cast, units, county, township, year):
    """The administrator column of the role × URL matrix (the matrix's cast has none)."""
    township_admin = make_staff("zs_admin", roles.ADMINISTRATOR, units["zs_fp"])
    client = login(admin)
    assert client.get("/staff/assessment/").status_code == 200
    assert client.get("/staff/assessment/settings/").status_code == 200
    client = login(township_admin)
    assert client.get("/staff/assessment/settings/").status_code == 403
    before = (TownshipQuota.objects.count(), AssessmentFreeze.objects.count())
    response = client.post("/staff/assessment/freeze/", {"year": year, "county": "demo"})
    assert response.status_code == 403
    assert before == (TownshipQuota.objects.count(), AssessmentFreeze.objects.count())


def test_settings_page_saves_quotas(login, admin, county, township, other_township, year):
    client = login(admin)
    html = client.get(f"/staff/assessment/settings/?year={year}").content.decode()
    assert f'name="quota_{township.pk}"' in html and "0000-" not in html
    response = client.post(
        f"/staff/assessment/settings/?year={year}",
        {f"quota_{township.pk}": "5", f"quota_{other_township.pk}": ""},
    )
    assert response.status_code == 302
    assert list(TownshipQuota.objects.values_list("township__code", "year", "quota")) == [
        ("zhongshui", year, 5)
    ]
    assert AuditEntry.objects.filter(action="assessment.quota_set").count() == 1
    response = client.post(
        f"/staff/assessment/settings/?year={year}", {f"quota_{township.pk}": "-2"}
    )
    assert response.status_code == 400
    assert TownshipQuota.objects.get().quota == 5


def test_freezing_from_the_page_then_later_changes_show_beside(
    login, admin, cast, units, county, township, county_data, year
):
    client = login(admin)
    html = client.get("/staff/assessment/").content.decode()
    assert 'id="freeze"' in html
    response = client.post("/staff/assessment/freeze/", {"year": year, "county": "demo"})
    assert response.status_code == 302
    freeze = AssessmentFreeze.objects.get()
    assert freeze.frozen_by == admin
    html = client.get("/staff/assessment/").content.decode()
    assert 'id="frozen"' in html and 'id="freeze"' not in html
    assert "→" not in re.search(r'<table[^>]*id="assessment".*?</table>', html, re.S).group(0)

    decide(cast, units, township)  # handled 1 → 2 after freezing
    html = client.get("/staff/assessment/").content.decode()
    row = re.search(r'<tr[^>]*data-township="zhongshui".*?</tr>', html, re.S).group(0)
    assert "<td>1 → 2</td>" in row
    assert freeze.snapshot == AssessmentFreeze.objects.get().snapshot
    csv_rows = list(csv.DictReader(io.StringIO(_csv(client))))
    assert [r["查处、移送案件数"] for r in csv_rows if r["乡镇"] == "中水镇"] == ["1"]


def test_only_administrators_see_the_settings_and_freeze(login, cast, county_data):
    html = login(cast["supervisor"]).get("/staff/assessment/").content.decode()
    assert 'id="freeze"' not in html and "/staff/assessment/settings/" not in html


# --- the case and report pages ---------------------------------------------------------------


def test_case_page_shows_repeat_history_and_falsification(login, cast, county_data, year):
    case = county_data["repeated"]
    client = login(cast["investigator"])
    html = client.get(f"/staff/cases/{case.pk}/").content.decode()
    panel = re.search(r'<section class="card" id="assessment-panel">.*?</section>', html, re.S)
    history = re.search(r'<table[^>]*id="repeat-history".*?</table>', panel.group(0), re.S)
    assert f"<td>{year}</td>" in history.group(0) and "−20" in history.group(0)
    assert 'id="falsify-form"' not in html  # investigators cannot mark

    client = login(cast["supervisor"])
    html = client.get(f"/staff/cases/{case.pk}/").content.decode()
    assert 'id="falsify-form"' in html
    response = client.post(
        f"/staff/cases/{case.pk}/falsified/",
        {"reason": "县督查组核查属实", "title": "督查报告", "file": _upload()},
    )
    assert response.status_code == 302
    assert CaseFalsification.objects.get().case == case
    html = client.get(f"/staff/cases/{case.pk}/").content.decode()
    assert 'id="falsified"' in html and "县督查组核查属实" in html and "督查报告" in html
    assert 'id="falsify-form"' not in html


def test_falsify_form_without_a_file_is_refused_with_a_message(login, cast, county_data):
    case = county_data["repeated"]
    client = login(cast["supervisor"])
    response = client.post(
        f"/staff/cases/{case.pk}/falsified/", {"reason": "核查属实", "title": "x"}, follow=True
    )
    assert response.status_code == 200
    assert not CaseFalsification.objects.exists()
    assert 'class="error"' in response.content.decode()


def _upload():
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("x.png", clean_png().content, content_type="image/png")


def test_report_page_suggests_links_and_dismisses(login, cast, township):
    subject = {"subject_name": "李记诊所", "subject_phone": "13912345678"}
    case = services.open_case(make_report(township, **subject).pk, cast["clerk"])
    other = services.open_case(make_report(township, subject_name="李记诊所").pk, cast["clerk"])
    new = make_report(township, subject_name="李记 诊所", subject_phone="13912345678")
    client = login(cast["clerk"])
    html = client.get(f"/staff/reports/{new.pk}/").content.decode()
    # The suggestions are part of the triage card's "accept into an existing case" choice.
    section = re.search(r'<div class="suggestions" id="repeat-suggestions">.*?</table>', html, re.S)
    text = section.group(0)
    assert f'data-case="{case.number}"' in text and f'data-case="{other.number}"' in text
    assert "same phone of the reported person" in text or "被举报人电话相同" in text
    response = client.post(f"/staff/reports/{new.pk}/repeats/{other.pk}/dismiss/")
    assert response.status_code == 302
    html = client.get(f"/staff/reports/{new.pk}/").content.decode()
    assert f'data-case="{other.number}"' not in html and f'data-case="{case.number}"' in html
    response = client.post(f"/staff/reports/{new.pk}/link/", {"case": case.pk})
    assert response.status_code == 302
    new.refresh_from_db()
    assert new.case_id == case.pk
    html = client.get(f"/staff/reports/{new.pk}/").content.decode()
    assert 'id="repeat-suggestions"' not in html


def test_staff_navigation_links_the_assessment(login, cast):
    html = login(cast["finance"]).get("/staff/").content.decode()
    assert 'href="/staff/assessment/"' in html


def test_admin_sets_quotas_through_the_audited_service(login, admin, units, township, year):
    admin.is_staff = True
    admin.save()
    client = login(admin)
    response = client.post(
        "/admin/assessment/townshipquota/add/",
        {"township": township.pk, "year": year, "quota": 4},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert TownshipQuota.objects.get().quota == 4
    entry = AuditEntry.objects.get(action="assessment.quota_set")
    assert entry.actor == admin and entry.data["new"] == 4

    township_admin = make_staff("zs_admin", roles.ADMINISTRATOR, units["zs_fp"])
    township_admin.is_staff = True
    township_admin.save()
    client = login(township_admin)
    response = client.post(
        "/admin/assessment/townshipquota/add/",
        {"township": township.pk, "year": year + 1, "quota": 9},
    )
    assert response.status_code == 200  # the form shows the refusal
    assert TownshipQuota.objects.count() == 1
    assert AuditEntry.objects.filter(action="assessment.quota_set").count() == 1


# --- the rules as applied: unranked townships, the band below, 计分说明 --------------------------


@pytest.fixture
def no_quota_for_xishan(admin, cast, units, county, township, other_township, year):
    """中水镇: quota 1, one penalized case. 西山镇: no quota set for the year, no cases (figured
    as quota 0: 200 + 0 for a township without phone or box = 200, above 中水镇)."""
    assessment.set_quota(township.pk, year, 1, admin)
    decide(cast, units, township)


def test_a_township_without_a_quota_is_shown_unranked_after_the_ranked(
    login, cast, admin, no_quota_for_xishan, year
):
    client = login(cast["auditor"])
    html = client.get("/staff/assessment/").content.decode()
    assert table_rows(html, "assessment") == ["zhongshui", "xishan"]
    row = re.search(r'<tr[^>]*data-township="xishan".*?</tr>', html, re.S).group(0)
    assert re.search(r'<td class="rank">—</td>', row)
    assert "未下达任务" in row
    first = re.search(r'<tr[^>]*data-township="zhongshui".*?</tr>', html, re.S).group(0)
    assert re.search(r'<td class="rank">1</td>', first)
    svg = re.search(r'<svg id="assessment-chart".*?</svg>', html, re.S).group(0)
    assert "中水镇" in svg and "西山镇" not in svg  # the chart shows the ranking only
    assert 'id="unranked"' in html
    rows = list(csv.DictReader(io.StringIO(_csv(client))))
    assert [(r["乡镇"], r["排名"], r["已下达任务"]) for r in rows] == [
        ("中水镇", "1", "是"),
        ("西山镇", "未排名", "否"),
    ]
    book = load_workbook(io.BytesIO(client.get("/staff/assessment/export.xlsx").content))
    header, *values = list(book.active.values)
    assert [(v[header.index("排名")], v[header.index("已下达任务")]) for v in values] == [
        (1, "是"),
        ("未排名", "否"),
    ]
    township_html = client.get("/staff/assessment/townships/xishan/").content.decode()
    assert 'id="unranked"' in township_html and "未下达任务" in township_html


def test_the_freeze_button_refuses_with_the_townships_named(
    login, admin, no_quota_for_xishan, year
):
    client = login(admin)
    response = client.post(f"/staff/assessment/freeze/?year={year}", {"year": year}, follow=True)
    assert "尚未下达任务：西山镇" in response.content.decode()
    assert not AssessmentFreeze.objects.exists()


def test_scoring_notes_state_the_readings_with_figures_from_the_settings(
    login, cast, county_data, settings
):
    client = login(cast["auditor"])
    html = client.get("/staff/assessment/townships/zhongshui/").content.decode()
    notes = re.search(r'<section class="card" id="scoring-notes">.*?</section>', html, re.S)
    notes = notes.group(0)
    assert "计分说明" in notes
    repeat = re.search(r'<li data-note="repeat">(.*?)</li>', notes, re.S).group(1)
    assert "30天" in repeat and "扣20分" in repeat and "30分" in repeat and "每年" in repeat
    shortfall = re.search(r'<li data-note="shortfall">(.*?)</li>', notes, re.S).group(1)
    # 2 of 3: ⌊100 × 1/3⌋ = 33 whole points × 20 = 660, no cap
    assert "每低一个整百分点扣20分" in shortfall and "33" in shortfall and "660" in shortfall
    assert "不设上限" in shortfall
    quota = re.search(r'<li data-note="quota">(.*?)</li>', notes, re.S).group(1)
    assert "60×" in quota and "40分" in quota  # 60 × 2/3 = 40
    channel = re.search(r'<li data-note="reporting_system">(.*?)</li>', notes, re.S).group(1)
    assert "2.5分" in channel and "5分" in channel
    # The figures follow the settings in force, not fixed prose.
    settings.TIPLINE_REPEAT_WINDOW_DAYS = 45
    html = client.get("/staff/assessment/townships/zhongshui/").content.decode()
    repeat = re.search(r'<li data-note="repeat">(.*?)</li>', html, re.S).group(1)
    assert "45天" in repeat and "30天" not in repeat
