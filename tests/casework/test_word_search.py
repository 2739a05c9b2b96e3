"""Word search at scale (casework.word_search): a common word is found by walking the list, a rare
one through the trigram index, each query holding both plans behind a probe of the latest reports.
Whichever plan answers, the rows are exactly those holding every word, of the user's own
townships, in the list's order; the count stops at the search's cap and says so."""

import re
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from casework import word_search
from casework.views import common
from tipline.models import Report

from .conftest import new_report

pytestmark = pytest.mark.django_db
on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the two plans are PostgreSQL's"
)


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.TIPLINE_RECEIPT_ARGON2 = {"memory_cost": 8, "iterations": 1, "lanes": 1}


def test_only_words_without_letter_case_are_compared_as_typed():
    for word in ("堕胎药", "引产", "人民路17号", "2026", "（人民路）", "。"):
        assert word_search.uncased(word), word
    # Letters have case; so have fullwidth and circled letters, and Greek.
    for word in ("b超", "B超", "Ｂ超", "ⓑ", "α", "ß"):
        assert not word_search.uncased(word), word


TEXTS = [
    "某药店私下出售堕胎药，不需要处方。",  # 堕胎药 ×6, 处方 ×3
    "李记诊所给孕妇做B超鉴定胎儿性别。",
    "听说张家诊所可以查男女，有人在那里做了引产。",  # 引产 ×4
    "王氏药店出售堕胎药。",
    "人民路17号附近用流动B超车给人看胎儿性别。",  # the rare one
    "亲戚说能做性别鉴定，还介绍到外地引产。",
    "有人出售堕胎药，不需要处方",
    "人民路170号有人引产",  # 人民路17 but not 人民路17号
    "某卫生室出售堕胎药，不要处方。",
    "100% 保证男孩",
    "出售堕胎药的人还介绍引产",
    "堕胎药",
]


@pytest.fixture
def texts(township, other_township):
    """Each text in both townships; every report a distinct time, newest last."""
    start = timezone.now() - timedelta(days=30)
    mine, theirs = [], []
    for i, text in enumerate(TEXTS):
        for ts, into in ((township, mine), (other_township, theirs)):
            report = new_report(ts, description=text)
            at = start + timedelta(hours=2 * i + (ts == other_township))
            Report.objects.filter(pk=report.pk).update(received_at=at)
            into.append(report.pk)
    return mine, theirs


def expected(words, townships, order):
    q = Q()
    for word in words.split():
        q &= Q(description__icontains=word)
    return [
        str(pk)
        for pk in Report.objects.filter(q, township__in=townships)
        .order_by(*order)
        .values_list("pk", flat=True)
    ]


def listed(response):
    html = response.content.decode()
    table = re.search(r'<table[^>]*id="report-queue".*?</table>', html, re.S).group(0)
    return re.findall(r'href="/staff/reports/([0-9a-f-]+)/"', table)


def shown_count(response) -> int:
    return int(re.search(r'id="result-count">共 (\d+) 件<', response.content.decode()).group(1))


WORDS = ["堕胎药", "引产", "人民路17号", "堕胎药 处方", "出售 引产", "100%", "b超", "没有的词"]


def every_page(client, url):
    """The rows of every page of the list, in order, and the count shown on the first."""
    first = client.get(url)
    rows, n = listed(first), 2
    while len(rows) < shown_count(first):
        page = listed(client.get(f"{url}&page={n}"))
        assert page, (url, n)
        rows, n = rows + page, n + 1
    return rows, shown_count(first)


@on_postgresql
@pytest.mark.parametrize("common_from", [1, 10**6], ids=["every word common", "every word rare"])
def test_either_plan_finds_exactly_the_matching_rows_of_the_scope_in_order(
    login, cast, township, other_township, texts, monkeypatch, common_from
):
    """The same rows whichever plan the probe picks: forced to the walk (any word common) and to
    the trigram plan (none), for common, two-character, rare, several and cased words; two rows
    a page, so that the walk answers every page but the last (which the trigram plan answers)."""
    monkeypatch.setattr(word_search, "COMMON", common_from)
    monkeypatch.setattr(common.page_of, "__defaults__", (2,))
    clerk = login(cast["clerk"])
    for words in WORDS:
        url = "/staff/reports/?" + urlencode({"status": "all", "words": words})
        want = expected(words, [township], ("-received_at", "pk"))
        assert every_page(clerk, url) == (want, len(want)), words
        # The default list (awaiting review): its own order.
        url = "/staff/reports/?" + urlencode({"words": words})
        want = expected(words, [township], ("acceptance_due", "received_at"))
        assert every_page(clerk, url) == (want, len(want)), words
    supervisor = login(cast["supervisor"])  # the county: both townships
    for words in WORDS:
        url = "/staff/reports/?" + urlencode({"status": "all", "words": words})
        want = expected(words, [township, other_township], ("-received_at", "pk"))
        assert every_page(supervisor, url) == (want, len(want)), words


@on_postgresql
def test_the_probe_calls_common_what_the_latest_reports_often_hold(texts):
    def common(words):
        return Report.objects.filter(word_search._probe(words, common=True)).exists()

    assert common(["堕胎药"])  # 12 of the 24 reports
    assert common(["引产"])  # 8
    assert not common(["人民路17号"])  # 2: below COMMON (5)
    assert not common(["堕胎药", "人民路17号"])  # every word, in the same report
    assert Report.objects.filter(word_search._probe(["人民路17号"], common=False)).exists()


def plan_of(sql):
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, COSTS OFF) " + sql)
        return "\n".join(row[0] for row in cursor.fetchall())


def guarded_runs(plan):
    """Of the plan's two guarded scans, which ran ('>=': the walk, '<': the trigram plan)."""
    assert plan.count("One-Time Filter") == 2, plan
    assert "Gather" not in plan, plan  # the guards stay above any parallel plan
    guard = r"One-Time Filter: \(\(\$\d+ (>=|<) 5\) AND [^\n]*\n\s*->\s*([^\n]*)"
    guarded = re.findall(guard, plan)
    return [op for op, line in guarded if "never executed" not in line]


@on_postgresql
def test_only_one_plan_runs_and_a_common_word_never_reads_the_trigram_index(
    login, cast, texts, monkeypatch
):
    """Both plans are in each query, each behind a one-time filter: the one not chosen is never
    executed. The last page (here: the only one of a rare word) is the trigram plan's alone."""
    monkeypatch.setattr(common.page_of, "__defaults__", (2,))
    client = login(cast["clerk"])
    for words, walk in (("堕胎药", True), ("人民路17号", False)):
        with CaptureQueriesContext(connection) as ctx:
            client.get("/staff/reports/?" + urlencode({"status": "all", "words": words}))
        searches = [q["sql"] for q in ctx.captured_queries if "LIKE" in q["sql"]]
        assert len(searches) == 2  # the count and the page's ids
        count, page = (plan_of(sql) for sql in searches)
        assert guarded_runs(count) == ([">="] if walk else ["<"])
        if walk:  # page 1 of 3: the walk, in the list's order
            assert guarded_runs(page) == [">="]
            for line in (count + page).splitlines():
                if "report_description_trgm_idx" in line:
                    assert "never executed" in line, count + page
        else:  # the last page: no probe, the trigram plan
            assert "One-Time Filter" not in page and "UNION" not in searches[1]
    # Nothing found: the count says so, and no page is read.
    with CaptureQueriesContext(connection) as ctx:
        client.get("/staff/reports/?" + urlencode({"status": "all", "words": "没有的词"}))
    assert len([q for q in ctx.captured_queries if "LIKE" in q["sql"]]) == 1


@on_postgresql
def test_a_search_counts_up_to_its_cap_and_says_more_than(
    login, cast, township, texts, monkeypatch
):
    monkeypatch.setattr(word_search, "COUNT_CAP", 4)
    monkeypatch.setattr(word_search.Matches, "count_cap", 4)
    monkeypatch.setattr(common.page_of, "__defaults__", (2,))  # two rows a page
    client = login(cast["clerk"])
    url = "/staff/reports/?" + urlencode({"status": "all", "words": "堕胎药"})  # 6 in 中水镇
    response = client.get(url)
    page = response.context["page"]
    assert page.paginator.capped is True and page.paginator.count == 4
    html = response.content.decode()
    assert "超过 4 件，请缩小查找范围。" in html and "共2页以上" in html
    # Every page the pager offers holds the rows in order, the same as the uncapped list.
    want = expected("堕胎药", [township], ("-received_at", "pk"))
    seen = []
    for n in (1, 2):
        seen += listed(client.get(url + f"&page={n}"))
    assert seen == want[:4]
    # Under the cap the count is exact; the case list's search counts up to the same cap.
    response = client.get("/staff/reports/?" + urlencode({"status": "all", "words": "引产"}))
    assert (
        response.context["page"].paginator.count == 4
        and response.context["page"].paginator.capped is False
    )


@on_postgresql
def test_a_searched_queue_stays_within_its_queries(
    login, cast, texts, django_assert_max_num_queries
):
    client = login(cast["clerk"])
    url = "/staff/reports/?" + urlencode({"status": "all", "words": "堕胎药"})
    client.get(url)
    with django_assert_max_num_queries(10):
        response = client.get(url)
    assert len(listed(response)) == 6


@on_postgresql
def test_the_trigram_index_has_no_pending_list():
    """A rare word's search reads the index, not an unsorted list of the latest entries."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reloptions FROM pg_class WHERE relname = 'report_description_trgm_idx'"
        )
        assert "fastupdate=off" in cursor.fetchone()[0]
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'report_township_received_idx'"
        )
        assert "(township_id, received_at)" in cursor.fetchone()[0]
