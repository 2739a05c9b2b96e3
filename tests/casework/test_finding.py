"""Finding things on the staff lists (casework.finding): search by number, words, township,
dates, state and person; the count the page shows; bad input is a form error; a search never
widens what a user sees; and every card of the staff home opens its list filtered to exactly
what the card counts."""

import re
from datetime import datetime, timedelta
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.utils import timezone

from casework import identity, services
from casework.models import Case
from casework.views import common
from tipline import services as intake
from tipline.models import Category, Channel, Report

from .conftest import new_report
from .test_query_counts import REASON, report_with_identity

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.TIPLINE_RECEIPT_ARGON2 = {"memory_cost": 8, "iterations": 1, "lanes": 1}


def shown_count(html: str) -> int:
    """The count the page shows above the list: "共 N 件"."""
    found = re.search(r'id="result-count">共 (\d+) 件<', html)
    assert found, "no result count on the page"
    return int(found.group(1))


def listed(response, table_id: str, kind: str) -> list:
    """What the rows of the page's table link to (report ids / case ids), in order."""
    html = response.content.decode()
    table = re.search(rf'<table[^>]*id="{table_id}".*?</table>', html, re.S).group(0)
    return re.findall(rf'href="/staff/{kind}/([0-9a-f-]+)/"', table)


def reports_listed(response):
    return listed(response, "report-queue", "reports")


def cases_listed(response):
    return [int(pk) for pk in listed(response, "case-list", "cases")]


def at(day: str, hour=10):
    return timezone.make_aware(datetime.fromisoformat(f"{day}T{hour:02d}:00"))


def received(report, day: str, hour=10):
    Report.objects.filter(pk=report.pk).update(received_at=at(day, hour))
    return report


# --- the report queue ---------------------------------------------------------------------


def test_queue_finds_by_case_number_and_reference_never_by_receipt(
    login, cast, township, other_township
):
    letter, receipt = services.register_staff_tip(
        cast["clerk"],
        _input(township, "来信反映有人做胎儿性别鉴定"),
        Channel.LETTER,
        channel_reference="来信-2026-017",
    )
    other = new_report(township, description="另一份举报")
    case = services.open_case(other.pk, cast["clerk"])
    new_report(township, description="无关的举报")
    client = login(cast["supervisor"])

    by_ref = client.get("/staff/reports/?" + urlencode({"number": "来信-2026-017"}))
    assert reports_listed(by_ref) == [str(letter.pk)]
    assert shown_count(by_ref.content.decode()) == 1
    # A case number, typed in lower case, finds the report it was opened from (status: all).
    by_number = client.get(f"/staff/reports/?status=all&number={case.number.lower()}")
    assert reports_listed(by_number) == [str(other.pk)]
    # The receipt is the reporter's secret: it finds nothing, however it is typed.
    for typed in (receipt, receipt.replace("-", ""), receipt[:8]):
        response = client.get("/staff/reports/?" + urlencode({"status": "all", "number": typed}))
        assert response.status_code == 200 and reports_listed(response) == []
        assert shown_count(response.content.decode()) == 0


def _input(township, text):
    return intake.ReportInput(
        category=Category.SEX_DETERMINATION, township_id=township.id, description=text
    )


def test_queue_finds_words_of_the_report_text(login, cast, township):
    clinic = new_report(township, description="人民路17号的诊所用B超鉴定胎儿性别，晚上营业")
    pills = new_report(township, description="药店私下出售堕胎药")
    new_report(township, description="有人介绍到外地引产")
    client = login(cast["clerk"])

    def found(words):
        response = client.get("/staff/reports/?" + urlencode({"words": words}))
        assert response.status_code == 200
        return set(reports_listed(response))

    assert found("堕胎") == {str(pills.pk)}  # two Chinese characters
    assert found("b超") == {str(clinic.pk)}  # any case
    assert found("诊所 晚上") == {str(clinic.pk)}  # every word, anywhere
    assert found("诊所 堕胎") == set()
    assert found("100%") == set()  # a LIKE wildcard is a character like any other
    assert len(found("")) == 3


def test_queue_filters_by_received_dates_in_local_time(login, cast, township):
    before = received(new_report(township), "2026-11-30", hour=23)
    first = received(new_report(township), "2026-12-01", hour=0)
    last = received(new_report(township), "2026-12-03", hour=23)
    after = received(new_report(township), "2026-12-04", hour=0)
    client = login(cast["clerk"])
    response = client.get("/staff/reports/?since=2026-12-01&until=2026-12-03")
    assert set(reports_listed(response)) == {str(first.pk), str(last.pk)}
    assert shown_count(response.content.decode()) == 2
    response = client.get("/staff/reports/?until=2026-11-30")
    assert reports_listed(response) == [str(before.pk)]
    response = client.get("/staff/reports/?since=2026-12-04")
    assert reports_listed(response) == [str(after.pk)]
    # The form shows the dates as the date inputs need them, under "more filters", open.
    html = response.content.decode()
    assert 'type="date" name="since" value="2026-12-04"' in html
    assert '<details class="more" open>' in html
    assert '<details class="more">' in client.get("/staff/reports/?words=x").content.decode()


def test_queue_of_another_status_and_overdue(login, cast, township):
    waiting = new_report(township)
    late = new_report(township)
    Report.objects.filter(pk=late.pk).update(acceptance_due=timezone.localdate() - timedelta(1))
    accepted = new_report(township)
    services.open_case(accepted.pk, cast["clerk"])
    client = login(cast["clerk"])
    assert set(reports_listed(client.get("/staff/reports/"))) == {str(waiting.pk), str(late.pk)}
    assert reports_listed(client.get("/staff/reports/?overdue=1")) == [str(late.pk)]
    assert reports_listed(client.get("/staff/reports/?status=accepted")) == [str(accepted.pk)]
    assert len(reports_listed(client.get("/staff/reports/?status=all"))) == 3


# --- scope: a search never widens what a user sees ----------------------------------------


def test_township_choices_are_the_users_own(login, cast, township, other_township):
    mine = new_report(township, description="鉴定胎儿性别")
    theirs = new_report(other_township, description="鉴定胎儿性别")
    supervisor = login(cast["supervisor"])
    response = supervisor.get(f"/staff/reports/?township={other_township.pk}")
    assert reports_listed(response) == [str(theirs.pk)]
    response = supervisor.get(f"/staff/reports/?township={township.pk}")
    assert reports_listed(response) == [str(mine.pk)]

    clerk = login(cast["clerk"])  # 中水镇 only
    html = clerk.get("/staff/reports/").content.decode()
    assert township.name in html and other_township.name not in html
    for bad in (str(other_township.pk), "999999", "abc"):
        response = clerk.get(f"/staff/reports/?township={bad}&words=鉴定")
        assert response.status_code == 400
        html = response.content.decode()
        assert reports_listed(response) == [] and "请改正" in html
        assert other_township.name not in html and str(theirs.pk) not in html


def test_a_number_or_words_from_another_township_find_nothing(
    login, cast, township, other_township
):
    theirs = new_report(other_township, description="西山镇某诊所鉴定胎儿性别")
    case = services.open_case(theirs.pk, cast["other_clerk"])
    client = login(cast["clerk"])
    for query in (
        {"status": "all", "number": case.number},
        {"status": "all", "words": "西山镇"},
    ):
        response = client.get("/staff/reports/?" + urlencode(query))
        assert response.status_code == 200 and reports_listed(response) == []
        assert shown_count(response.content.decode()) == 0
    response = client.get("/staff/cases/?" + urlencode({"state": "all", "number": case.number}))
    assert cases_listed(response) == [] and shown_count(response.content.decode()) == 0


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("reports/?since=2026-13-45", "since", "有效的日期"),
        ("reports/?until=yesterday", "until", "有效的日期"),
        ("reports/?since=2026-12-05&until=2026-12-01", "until", "结束日期早于开始日期"),
        ("reports/?until=9999-12-31", "until", "2000-01-01"),
        ("reports/?status=bogus", "status", "选择一个有效的选项"),
        ("reports/?words=" + "+".join("一二三四五六"), "words", "最多 5 个词"),
        ("reports/?number=" + "1" * 101, "number", "100"),
        ("reports/?words=%00", "words", "空字符"),
        ("reports/?township=99999999999999999999999", "township", "选择一个有效的选项"),
        ("cases/?person=123456", "person", "选择一个有效的选项"),
        ("cases/?person=abc", "person", "选择一个有效的选项"),
        ("cases/?state=bogus", "state", "选择一个有效的选项"),
        ("cases/?work=nonsense", "work", "选择一个有效的选项"),
        ("cases/?since=2026-02-30", "since", "有效的日期"),
    ],
)
def test_bad_input_is_a_form_error_not_a_500(login, cast, township, query, field, message):
    opened(cast, township)
    new_report(township)
    response = login(cast["supervisor"]).get(f"/staff/{query}")
    assert response.status_code == 400
    html = response.content.decode()
    error = re.search(rf'id="id_{field}_error">([^<]*)<', html)
    assert error and message in error.group(1)
    assert "请改正上面的查找条件" in html and 'id="result-count"' not in html
    table = "report-queue" if query.startswith("reports") else "case-list"
    assert (
        re.search(rf'<table[^>]*id="{table}".*?</table>', html, re.S)
        .group(0)
        .count('href="/staff/')
        == 0
    )


# --- the case list ------------------------------------------------------------------------


def opened(cast, township, text="某诊所鉴定胎儿性别"):
    report = new_report(township, description=text)
    clerk = cast["clerk"] if township.code == "zhongshui" else cast["other_clerk"]
    return services.open_case(report.pk, clerk)


def test_case_list_by_person_state_words_and_opened_dates(login, cast, units, township):
    unassigned = opened(cast, township, "药店出售堕胎药")
    mine = opened(cast, township)
    services.assign(
        mine.pk, cast["supervisor"], unit_id=units["zs_fp"].pk, investigator=cast["investigator"]
    )
    services.start_investigation(mine.pk, cast["investigator"])
    Case.objects.filter(pk=unassigned.pk).update(accepted_at=at("2026-11-02"))
    Case.objects.filter(pk=mine.pk).update(accepted_at=at("2026-11-20"))
    client = login(cast["supervisor"])

    def found(**query):
        response = client.get("/staff/cases/?" + urlencode(query))
        assert response.status_code == 200
        assert shown_count(response.content.decode()) == len(cases_listed(response))
        return set(cases_listed(response))

    assert found() == {unassigned.pk, mine.pk}
    assert found(person=cast["investigator"].pk) == {mine.pk}
    assert found(person="none") == {unassigned.pk}
    assert found(state="investigating") == {mine.pk}
    assert found(words="堕胎") == {unassigned.pk}
    assert found(number=mine.number) == {mine.pk}
    assert found(since="2026-11-10") == {mine.pk}
    assert found(until="2026-11-10") == {unassigned.pk}
    assert found(person=cast["investigator"].pk, words="堕胎") == set()
    # The 承办人 choices: the township's and the county's investigators and supervisors.
    html = client.get("/staff/cases/").content.decode()
    options = re.search(r'<select name="person".*?</select>', html, re.S).group(0)
    for who in ("investigator", "other_investigator", "supervisor"):
        assert f'value="{cast[who].pk}"' in options
    for who in ("clerk", "finance", "custodian"):
        assert f'value="{cast[who].pk}"' not in options


def test_pages_keep_the_search(login, cast, township, monkeypatch):
    monkeypatch.setattr(common.page_of, "__defaults__", (2,))
    for i in range(5):
        new_report(township, description=f"鉴定胎儿性别 {i}")
    new_report(township, description="无关")
    client = login(cast["clerk"])
    response = client.get("/staff/reports/?words=鉴定&status=received")
    html = response.content.decode()
    assert shown_count(html) == 5
    assert 'href="?words=%E9%89%B4%E5%AE%9A&amp;status=received&amp;page=2"' in html
    page3 = client.get("/staff/reports/?status=received&words=鉴定&page=3")
    assert len(reports_listed(page3)) == 1


# --- every card of the staff home opens its list filtered to what it counts ---------------


def cards(html):
    """(id, number shown, link) of each card and of each card's "overdue" line."""
    out = []
    for li in re.findall(r'<li id="(work-[a-z-]+)"[^>]*>(.*?)</li>', html, re.S):
        key, body = li
        n, url = re.search(r'<a href="([^"]+)"><span class="n">(\d+)</span>', body).group(2, 1)
        out.append((key, int(n), url.replace("&amp;", "&")))
        late = re.search(r'<a href="([^"]+)" class="overdue-link"><strong[^>]*>(\d+)', body)
        if late:
            out.append(
                (f"{key} (overdue)", int(late.group(2)), late.group(1).replace("&amp;", "&"))
            )
    opened_ = re.search(r'<a href="(/staff/cases/[^"]*)">您所辖乡镇在办案件(\d+)件', html)
    out.append(("open cases", int(opened_.group(2)), opened_.group(1)))
    return out


# Each list unfiltered (the audit log counts only from a day on).
EVERYTHING = {
    "/staff/reports/": "?status=all",
    "/staff/cases/": "?state=all",
    "/staff/identity/": "",
    "/staff/audit/": "?since=2000-01-01",
}


@pytest.fixture
def workload(cast, units, township, other_township):
    """Cases and reports in every state a card counts, in both townships, some overdue."""
    today = timezone.localdate()
    long_ago = today - timedelta(days=90)

    def assigned(ts, who, start=True):
        case = opened(cast, ts)
        unit = units["zs_fp" if ts == township else "xs_fp"]
        services.assign(case.pk, cast["supervisor"], unit_id=unit.pk, investigator=cast[who])
        if start:
            services.start_investigation(case.pk, cast[who])
        return case

    for ts in (township, other_township):
        opened(cast, ts)  # unassigned
        new_report(ts)  # awaiting review
    late_report = report_with_identity(township)
    Report.objects.filter(pk=late_report.pk).update(acceptance_due=long_ago)
    assigned(township, "investigator", start=False)
    late = assigned(township, "investigator")
    Case.objects.filter(pk=late.pk).update(decision_due=long_ago)
    assigned(other_township, "other_investigator")
    for i, ts in enumerate((township, township, other_township)):
        case = assigned(ts, "investigator" if ts == township else "other_investigator")
        services.find_unfounded(case.pk, cast["supervisor"], "经核查未发现违法事实")
        if i == 0:  # told and archived: out of every card but the feedback-free ones
            services.give_feedback(case.pk, cast["supervisor"], "已核查，感谢举报")
        if i == 1:
            Case.objects.filter(pk=case.pk).update(feedback_due=long_ago, archive_due=long_ago)
    # Identity requests: one pending, one decided; an audit entry of yesterday.
    for decided in (False, True):
        req = identity.request_access(late_report, cast["investigator"], REASON)
        if decided:
            identity.decide(req.pk, cast["custodian"], False, "")
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE casework_auditentry SET at = %s WHERE id = (SELECT MIN(id) FROM "
            "casework_auditentry)",
            [timezone.now() - timedelta(days=2)],
        )
    return late


@pytest.mark.parametrize(
    "who", ["clerk", "investigator", "supervisor", "other_clerk", "custodian", "auditor"]
)
def test_each_card_counts_what_its_list_shows(login, cast, workload, who):
    client = login(cast[who])
    home = client.get("/staff/").content.decode()
    seen = cards(home)
    assert len(seen) >= 2 and any(n for _, n, _ in seen)
    narrowed = 0
    for key, n, url in seen:
        response = client.get(url)
        assert response.status_code == 200, (key, url)
        html = response.content.decode()
        assert shown_count(html) == n, (
            f"{who}: card {key} says {n}, {url} lists {shown_count(html)}"
        )
        path = url.split("?")[0]
        unfiltered = shown_count(client.get(path + EVERYTHING[path]).content.decode())
        narrowed += unfiltered != n
    assert narrowed, f"{who}: no card narrowed its list (the test data proves nothing)"


def test_the_feedback_card_no_longer_opens_the_whole_list(login, cast, workload):
    client = login(cast["supervisor"])
    _key, n, url = next(
        c for c in cards(client.get("/staff/").content.decode()) if c[0] == "work-feedback"
    )
    assert n == 2 and "work=feedback" in url
    assert shown_count(client.get("/staff/cases/?state=all").content.decode()) > n


def test_a_card_name_the_user_has_no_card_for_is_a_form_error(login, cast, workload):
    # The investigator's home has no feedback card: the list refuses the filter, shows nothing.
    response = login(cast["investigator"]).get("/staff/cases/?state=all&work=feedback")
    assert response.status_code == 400 and cases_listed(response) == []


# --- PostgreSQL: the trigram index and Chinese text -----------------------------------------


@pytest.mark.skipif(connection.vendor != "postgresql", reason="pg_trgm is PostgreSQL's")
def test_two_chinese_characters_found_through_the_trigram_index(login, cast, township):
    target = new_report(township, description="有人私下出售堕胎药，不需要处方")
    for i in range(20):
        new_report(township, description=f"某诊所鉴定胎儿性别 {i}")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'report_description_trgm_idx'"
        )
        assert "gin_trgm_ops" in cursor.fetchone()[0]
        # Under the database's LC_CTYPE, Chinese characters are word characters for pg_trgm.
        cursor.execute("SELECT show_trgm('堕胎药')")
        assert cursor.fetchone()[0]
        # Only the trigram index can answer (no table scan, no b-tree walked whole).
        cursor.execute("SET enable_seqscan = off")
        cursor.execute("SET enable_indexscan = off")
        try:
            for words in ("堕胎", "堕胎药", "出售 处方"):
                qs = Report.objects.all()
                for word in words.split():
                    qs = qs.filter(description__icontains=word)
                assert list(qs.values_list("pk", flat=True)) == [target.pk], words
                if min(len(w) for w in words.split()) >= 3:
                    plan = qs.explain()
                    assert "report_description_trgm_idx" in plan, plan
        finally:
            cursor.execute("RESET enable_seqscan")
            cursor.execute("RESET enable_indexscan")
    response = login(cast["clerk"]).get("/staff/reports/?words=堕胎")
    assert reports_listed(response) == [str(target.pk)]


def test_case_list_finds_a_case_by_its_reports_reference(login, cast, township, other_township):
    letter, _ = services.register_staff_tip(
        cast["clerk"], _input(township, "来信反映"), Channel.LETTER, channel_reference="信-88"
    )
    case = services.open_case(letter.pk, cast["clerk"])
    theirs, _ = services.register_staff_tip(
        cast["other_clerk"],
        _input(other_township, "来信"),
        Channel.LETTER,
        channel_reference="信-88",
    )
    services.open_case(theirs.pk, cast["other_clerk"])
    opened(cast, township)
    response = login(cast["clerk"]).get("/staff/cases/?" + urlencode({"number": "信-88"}))
    assert cases_listed(response) == [case.pk]
