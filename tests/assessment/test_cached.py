"""The county page's figures come from the cache (report.cached) until a write renews a version
they were computed under (versions.py): a few queries when nothing changed, and never a figure
older than the last write, whichever input it changed."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.core.management.sql import emit_post_migrate_signal
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from casework import services
from casework.assessment import inspections, report, versions
from casework.assessment import services as assessment
from casework.assessment.inspections import ItemInput
from casework.models import DocumentType
from org import roles
from org.models import Township

from .conftest import clean_png, decide, file_docs, make_report, make_staff, open_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def year():
    return timezone.localdate().year


@pytest.fixture
def people(cast, units):
    return {
        **cast,
        "admin": make_staff("county_admin", roles.ADMINISTRATOR, units["county_fp"]),
        "inspector": make_staff("inspector", roles.INSPECTOR, units["county_fp"]),
    }


@pytest.fixture
def data(people, units, county, township, other_township, year):
    """中水镇 quota 2 with a decided case and an open one; 西山镇 quota 1."""
    assessment.set_quota(township.pk, year, 2, people["admin"])
    assessment.set_quota(other_township.pk, year, 1, people["admin"])
    decided = decide(people, units, township, docs=("penalty_decision",))
    return {"decided": decided, "open": open_case(people, township)}


def row(county, year, code="zhongshui") -> dict:
    """The cached row, after checking that it equals the figures computed now."""
    cached = report.cached(county, year)
    assert cached.rows == report.assessment(county, year).rows
    return next(r for r in cached.rows if r["township"] == code)


def more_townships(county, people, year, n) -> list[Township]:
    """``n`` more townships of the county, each with a quota, an open case, an inspection
    entry and an adjustment: every kind of input the figures read, per township."""
    out = []
    for i in range(n):
        ts = Township.objects.create(county=county, code=f"t{i}", name=f"第{i}镇")
        assessment.set_quota(ts.pk, year, 3, people["admin"])
        open_case(people, ts)
        inspections.enter_round(
            ts.pk, year, "q2", {"art04": ItemInput("5", "", [])}, people["inspector"]
        )
        inspections.add_adjustment(
            ts.pk,
            year,
            "commendation_city",
            timezone.localdate(),
            "",
            [clean_png()],
            people["inspector"],
        )
        out.append(ts)
    return out


# --- queries ----------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["supervisor", "clerk"])
def test_the_page_from_the_cache_takes_at_most_ten_queries(
    login, people, county, data, year, who, django_assert_max_num_queries
):
    more_townships(county, people, year, 3)
    client = login(people[who])
    client.get("/staff/assessment/")
    with django_assert_max_num_queries(10):
        html = client.get("/staff/assessment/").content.decode()
    assert "中水镇" in html


def test_computing_the_figures_takes_the_same_queries_for_more_townships(
    login, people, county, data, year, django_assert_max_num_queries
):
    """One query per kind of input for all townships: five more townships with every kind of
    input add none (a query per township would)."""
    client = login(people["supervisor"])
    cache.clear()
    with CaptureQueriesContext(connection) as two:
        client.get("/staff/assessment/")
    more_townships(county, people, year, 5)
    cache.clear()
    with django_assert_max_num_queries(len(two.captured_queries)):
        html = client.get("/staff/assessment/").content.decode()
    assert html.count("data-township=") == 2 + 5  # the table's rows
    assert len(two.captured_queries) <= 18


def test_cached_figures_are_read_without_a_query(county, data, year, django_assert_num_queries):
    first = report.cached(county, year)
    with django_assert_num_queries(0):
        again = report.cached(county, year)
    assert again.rows == first.rows and again.county is county


# --- every write that changes an input renews the figures -------------------------------------


def test_a_decided_case_and_a_linked_report(people, units, county, township, data, year):
    assert row(county, year)["handled"] == 1
    decide(people, units, township, docs=("penalty_decision",))
    assert row(county, year)["handled"] == 2
    services.link_report(make_report(township).pk, data["decided"].pk, people["supervisor"])
    assert row(county, year)["repeat_deduction"] == 20


def test_a_filed_document(people, county, data, year):
    before = row(county, year)["missing_documents"]
    file_docs(data["decided"], people["supervisor"], ("evidence",))
    assert row(county, year)["missing_documents"] == before - 1


def test_a_falsified_case(people, county, data, year):
    assert row(county, year)["falsified_deduction"] == 0
    assessment.mark_falsified(data["decided"].pk, people["supervisor"], "核查不实", clean_png())
    assert row(county, year)["falsified_deduction"] == 50


def test_a_quota(people, county, township, data, year):
    assert row(county, year)["quota"] == 2
    assessment.set_quota(township.pk, year, 5, people["admin"])
    assert row(county, year)["quota"] == 5


def test_inspection_entries_adjustments_and_their_withdrawal(people, county, township, data, year):
    total = row(county, year)["total"]
    inspections.enter_round(
        township.pk, year, "q2", {"art04": ItemInput("8", "", [])}, people["inspector"]
    )
    assert row(county, year)["total"] == total + 8
    adjustment = inspections.add_adjustment(
        township.pk,
        year,
        "speech_city",
        timezone.localdate(),
        "",
        [clean_png()],
        people["inspector"],
    )
    assert row(county, year)["total"] == total + 8 + 10
    inspections.withdraw_adjustment(adjustment.pk, "录错了", people["inspector"])
    assert row(county, year)["total"] == total + 8


def test_the_sheet_template(people, county, data, year):
    items = {i["code"]: i for i in row(county, year)["items"]}
    assert items["art04"]["max"] == 10
    changes = {"art04": ("第四条 领导小组", Decimal(15), "latest")}
    inspections.change_template(county.pk, year, changes, people["admin"])
    items = {i["code"]: i for i in row(county, year)["items"]}
    assert (items["art04"]["title"], items["art04"]["max"]) == ("第四条 领导小组", 15)


def test_freezing(people, county, township, other_township, data, year):
    assert report.cached(county, year).frozen is False
    assessment.freeze_year(county.pk, year, people["admin"])
    frozen = report.cached(county, year)
    assert frozen.frozen and frozen.freeze.frozen_by == people["admin"]
    with CaptureQueriesContext(connection) as read:
        again = report.cached(county, year)  # from the cache: who froze it, when, the rows
    assert len(read.captured_queries) == 0
    assert again.freeze.frozen_by == people["admin"]
    assert again.freeze.frozen_at == frozen.freeze.frozen_at
    assert again.rows == frozen.rows and again.live == frozen.live


def test_a_township_renamed_and_a_document_type_no_longer_required(county, township, data, year):
    before = row(county, year)["missing_documents"]
    township.name = "中水乡"
    township.save()
    assert row(county, year)["name"] == "中水乡"
    evidence = DocumentType.objects.get(code="evidence")
    evidence.required = False
    evidence.save()
    assert row(county, year)["missing_documents"] == before - 1


def test_a_purged_report(people, county, township, data, year):
    """A linked report deleted (retention) no longer counts as a repeat."""
    linked = make_report(township)
    services.link_report(linked.pk, data["decided"].pk, people["supervisor"])
    assert row(county, year)["repeat_deduction"] == 20
    linked.delete()
    assert row(county, year)["repeat_deduction"] == 0


def test_bulk_writes_renew_every_county(county, data, year):
    """generate_load_data and the demo write with COPY and update(): they call touch_all."""
    report.cached(county, year)
    township = Township.objects.get(code="zhongshui")
    Township.objects.filter(pk=township.pk).update(name="批量")  # no signal
    versions.touch_all()
    assert row(county, year)["name"] == "批量"


def handled_on_page(client) -> str:
    html = client.get("/staff/assessment/").content.decode()
    cells = re.search(r'<tr[^>]*data-township="zhongshui".*?</tr>', html, re.S).group(0)
    return re.findall(r"<td>(\d+)</td>", cells)[0]


def test_the_page_shows_a_write_at_once(login, people, units, township, data, year):
    client = login(people["supervisor"])
    assert handled_on_page(client) == "1"
    decide(people, units, township, docs=("penalty_decision",))
    assert handled_on_page(client) == "2"


# --- versions ---------------------------------------------------------------------------------


def test_a_write_renews_its_version_at_once_and_again_after_commit(
    township, django_capture_on_commit_callbacks
):
    key = versions.township_key(township.pk)
    before = versions.current([key])[key]
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        versions.touch_townships(township.pk)
        at_once = cache.get(key)
    assert len(callbacks) == 1
    assert before != at_once != cache.get(key)  # figures cached before the commit are dropped


def test_figures_computed_while_a_write_commits_are_not_kept(
    people, county, township, data, year, django_capture_on_commit_callbacks
):
    """A reader that read the versions before the write committed keeps what it computed under
    values the commit renews: the next reader computes again."""
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assessment.set_quota(township.pk, year, 9, people["admin"])
    stale = report.cached(county, year)  # computed before the renewal after commit
    assert stale.rows  # (in this test the write is visible to it already)
    for callback in callbacks:
        callback()
    with CaptureQueriesContext(connection) as computed:
        assert row(county, year)["quota"] == 9
    assert len(computed.captured_queries) > 0


def test_a_lost_version_is_never_mistaken_for_the_old_one(county, township, data, year):
    report.cached(county, year)
    cache.delete(versions.township_key(township.pk))
    with CaptureQueriesContext(connection) as computed:
        report.cached(county, year)
    assert len(computed.captured_queries) > 0


def test_without_the_cache_the_page_computes_and_writes_go_on(
    monkeypatch, login, people, units, township, data, year
):
    def down(*args, **kwargs):
        raise ConnectionError("cache down")

    for name in ("get_many", "set_many", "get", "set", "add"):
        monkeypatch.setattr(cache, name, down)
    decide(people, units, township, docs=("penalty_decision",))
    assert handled_on_page(login(people["supervisor"])) == "2"


def test_the_window_setting_is_part_of_the_cached_figures(
    settings, people, county, township, data, year
):
    first = make_report(township, received_at=timezone.now() - timedelta(days=40))
    services.link_report(first.pk, data["decided"].pk, people["supervisor"])
    settings.TIPLINE_REPEAT_WINDOW_DAYS = 10
    assert row(county, year)["repeat_deduction"] == 0
    settings.TIPLINE_REPEAT_WINDOW_DAYS = 400
    assert row(county, year)["repeat_deduction"] == 20


def test_migrate_renews_every_county(county, data, year):
    """deploy/restore.sh migrates after pg_restore, which sends no signal: nothing cached from
    before the restore is read after it."""
    report.cached(county, year)
    before = cache.get(versions.EPOCH)
    emit_post_migrate_signal(verbosity=0, interactive=False, db="default")
    assert cache.get(versions.EPOCH) != before
