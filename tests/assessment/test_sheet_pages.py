"""The sheet's pages: what the inspector enters, what a township's staff see (read-only), the
evidence behind an entry, the county's template page; refused requests change nothing."""

import re
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from casework.assessment import inspections, services, sheet
from casework.assessment.inspections import ItemInput
from casework.assessment.models import InspectionEntry, SheetAdjustment, SheetEvidence, SheetItem
from casework.models import AuditEntry
from org import roles

from .conftest import clean_png, make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def year():
    return timezone.localdate().year


@pytest.fixture
def people(cast, units):
    inspector = make_staff("inspector", roles.INSPECTOR, units["county_fp"])
    inspector.first_name, inspector.last_name = "督查", "钱"
    inspector.save()
    admin = make_staff("county_admin", roles.ADMINISTRATOR, units["county_fp"])
    return {"inspector": inspector, "admin": admin, **cast}


def _counts():
    return (
        InspectionEntry.objects.count(),
        SheetAdjustment.objects.count(),
        SheetItem.objects.count(),
        AuditEntry.objects.exclude(action__startswith="staff.").count(),
    )


def _png_upload():
    return SimpleUploadedFile("record.png", clean_png().content, content_type="image/png")


def test_the_inspector_enters_a_round_and_the_township_sees_it(login, people, township, year):
    client = login(people["inspector"])
    url = f"/staff/assessment/townships/{township.code}/inspect/?year={year}&round=q2"
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="points_art04"' in html and 'name="points_art22"' not in html  # computed
    response = client.post(
        url,
        {
            "round": "q2",
            "year": year,
            "points_art04": "8",
            "note_art04": "领导小组文件齐全",
            "files_art04": _png_upload(),
            "points_art16": "300",
        },
    )
    assert response.status_code == 302
    assert sorted(InspectionEntry.objects.values_list("item__code", "points")) == [
        ("art04", Decimal(8)),
        ("art16", Decimal(300)),
    ]
    evidence = SheetEvidence.objects.get()
    # The township's clerk sees the whole sheet, read-only.
    clerk = login(people["clerk"])
    html = clerk.get(f"/staff/assessment/townships/{township.code}/?year={year}").content.decode()
    row = re.search(r'<tr data-item="art04">.*?</tr>', html, re.S).group(0)
    assert "督查录入" in row or "Entered by inspection" in row
    assert "钱督查" in row and "领导小组文件齐全" in row
    assert f"/staff/assessment/evidence/{evidence.pk}/" in row
    auto = re.search(r'<tr data-item="art22">.*?</tr>', html, re.S).group(0)
    assert "系统计算" in auto or "Computed by the system" in auto
    assert "/inspect/" not in html  # no entry link for the township's own staff
    download = clerk.get(f"/staff/assessment/evidence/{evidence.pk}/")
    assert download.status_code == 200 and download.content == clean_png().content
    assert AuditEntry.objects.filter(action="assessment.evidence_viewed").count() == 1
    # another township's clerk: not found
    other = login(people["other_clerk"])
    assert other.get(f"/staff/assessment/evidence/{evidence.pk}/").status_code == 404


def test_an_entry_above_the_maximum_is_a_form_error_and_changes_nothing(
    login, people, township, year
):
    client = login(people["inspector"])
    before = _counts()
    url = f"/staff/assessment/townships/{township.code}/inspect/?year={year}&round=q2"
    response = client.post(
        url, {"round": "q2", "year": year, "points_art05": "30", "points_art04": "11"}
    )
    assert response.status_code == 400
    html = response.content.decode()
    field = re.search(r'<tr data-item="art04">.*?</tr>', html, re.S).group(0)
    assert 'role="alert"' in field
    assert _counts() == before


def test_township_staff_cannot_enter_their_own_sheet(login, people, township, year):
    inspections.enter_round(township.pk, year, "q2", {"art04": ItemInput("5")}, people["inspector"])
    before = _counts()
    clerk = login(people["clerk"])
    url = f"/staff/assessment/townships/{township.code}/inspect/?year={year}"
    assert clerk.post(url, {"round": "q2", "points_art04": "10"}).status_code == 403
    adjustment = f"/staff/assessment/townships/{township.code}/adjustments/?year={year}"
    data = {
        "kind": "commendation_national",
        "date": timezone.localdate().isoformat(),
        "files": _png_upload(),
    }
    assert clerk.post(adjustment, data).status_code == 403
    assert _counts() == before
    assert InspectionEntry.objects.get().points == 5


def test_an_adjustment_is_entered_with_its_evidence(login, people, township, year):
    client = login(people["inspector"])
    url = f"/staff/assessment/townships/{township.code}/adjustments/?year={year}"
    today = timezone.localdate().isoformat()
    before = _counts()
    missing = client.post(url, {"year": year, "kind": "city_notice", "date": today})
    assert missing.status_code == 400 and _counts() == before  # no evidence: refused
    done = client.post(
        url,
        {
            "year": year,
            "kind": "city_notice",
            "date": today,
            "note": "市通报第3期",
            "files": _png_upload(),
        },
    )
    assert done.status_code == 302
    adj = SheetAdjustment.objects.get()
    assert (adj.kind, adj.points, adj.evidence.count()) == ("city_notice", -30, 1)
    html = client.get(f"/staff/assessment/townships/{township.code}/?year={year}").content.decode()
    row = re.search(r'<tr data-rule="city_notice">.*?</tr>', html, re.S).group(0)
    assert "−30" in row or "-30" in row


def test_nothing_is_entered_on_the_page_after_freezing(
    login, people, county, township, other_township, year
):
    for ts in (township, other_township):
        services.set_quota(ts.pk, year, 0, people["admin"])
    services.freeze_year(county.pk, year, people["admin"])
    before = _counts()
    client = login(people["inspector"])
    url = f"/staff/assessment/townships/{township.code}/inspect/?year={year}"
    client.post(url, {"round": "q2", "year": year, "points_art04": "9"})
    assert _counts() == before
    assert (
        "frozen" in client.get(url).content.decode() or "冻结" in client.get(url).content.decode()
    )


def test_the_administrator_edits_the_sheet_template(login, people, county, township, year):
    client = login(people["admin"])
    url = f"/staff/assessment/sheet/?county={county.code}&year={year}"
    page = client.get(url)
    assert page.status_code == 200 and SheetItem.objects.count() == 0  # a GET writes nothing
    assert "1000" in re.search(r'id="template-total">.*?</p>', page.content.decode(), re.S).group(0)
    form = {}
    for spec in sheet.DEFAULT_TEMPLATE:
        form[f"title_{spec.code}"] = spec.title
        form[f"max_{spec.code}"] = str(spec.max)
        form[f"scoring_{spec.code}"] = spec.scoring
    form["scoring_art07"] = "rounds"
    form["title_art07"] = "第七条 利益导向（县定）"
    response = client.post(url, form)
    assert response.status_code == 302, response.content.decode()[:2000]
    item = SheetItem.objects.get(code="art07")
    assert (item.title, item.scoring) == ("第七条 利益导向（县定）", "rounds")
    assert AuditEntry.objects.filter(action="assessment.sheet_item_changed").count() == 1
    # the inspector may not edit it
    assert login(people["inspector"]).get(url).status_code == 403


def test_the_township_page_takes_a_fixed_number_of_queries(login, people, township, year):
    inspections.enter_round(
        township.pk, year, "q2", {"art04": ItemInput("5", "", [clean_png()])}, people["inspector"]
    )
    inspections.add_adjustment(
        township.pk,
        year,
        "speech_city",
        timezone.localdate(),
        "",
        [clean_png()],
        people["inspector"],
    )  # one of each, so that the prefetches run in both measurements
    client = login(people["clerk"])
    url = f"/staff/assessment/townships/{township.code}/?year={year}"
    client.get(url)
    cache.clear()  # the figures computed, not read from the cache (report.cached)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    many = {code: ItemInput("3", "记录", [clean_png()]) for code in ("art05", "art07", "art09")}
    inspections.enter_round(township.pk, year, "q4", many, people["inspector"])
    for kind in ("city_notice", "commendation_city", "band_notice"):
        inspections.add_adjustment(
            township.pk, year, kind, timezone.localdate(), "", [clean_png()], people["inspector"]
        )
    with CaptureQueriesContext(connection) as more:
        html = client.get(url).content.decode()
    assert html.count("/staff/assessment/evidence/") == 8
    assert len(more.captured_queries) == len(few.captured_queries)


def test_the_inspector_withdraws_an_adjustment_from_the_township_page(
    login, people, township, year
):
    adj = inspections.add_adjustment(
        township.pk,
        year,
        "city_notice",
        timezone.localdate(),
        "",
        [clean_png()],
        people["inspector"],
    )
    clerk = login(people["clerk"])
    page = f"/staff/assessment/townships/{township.code}/?year={year}"
    assert f"/adjustments/{adj.pk}/withdraw/" not in clerk.get(page).content.decode()
    assert (
        clerk.post(f"/staff/assessment/adjustments/{adj.pk}/withdraw/", {"reason": "x"}).status_code
        == 403
    )
    client = login(people["inspector"])
    html = client.get(page).content.decode()
    assert f"/adjustments/{adj.pk}/withdraw/" in html
    response = client.post(
        f"/staff/assessment/adjustments/{adj.pk}/withdraw/", {"reason": "录入错误"}
    )
    assert response.status_code == 302
    row = re.search(
        r'<tr data-rule="city_notice" class="withdrawn">.*?</tr>',
        client.get(page).content.decode(),
        re.S,
    ).group(0)
    assert "录入错误" in row and "钱督查" in row
