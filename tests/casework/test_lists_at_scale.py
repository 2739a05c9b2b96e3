"""Lists that stay cheap with millions of rows: the triage queue counts attachments for its page
only, the audit log pages by id without COUNT or OFFSET, identity requests carry their township.
"""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from casework import audit, identity
from casework.models import AuditEntry, IdentityRequest
from casework.views.common import PAGE_SIZE

from .conftest import ids_subquery, new_report
from .test_query_counts import REASON, report_with_identity

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.TIPLINE_RECEIPT_ARGON2 = {"memory_cost": 8, "iterations": 1, "lanes": 1}


def sql_of(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    return response, [q["sql"] for q in ctx.captured_queries]


# --- triage queue ---------------------------------------------------------------------------


def test_queue_counts_attachments_of_its_page_only(
    login, cast, township, django_assert_max_num_queries
):
    with_files = report_with_identity(township)  # two files
    bare = new_report(township)
    client = login(cast["clerk"])
    client.get("/staff/reports/")
    with django_assert_max_num_queries(12):
        response, queries = sql_of(client, "/staff/reports/")
    counts = {r.pk: r.n_attachments for r in response.context["page"]}
    assert counts == {with_files.pk: 2, bare.pk: 0}
    # No GROUP BY over the queue itself, and the paginator's COUNT is a plain one.
    grouped = [q for q in queries if "GROUP BY" in q]
    assert len(grouped) == 1 and "tipline_attachment" in grouped[0]
    assert str(with_files.pk).replace("-", "") in grouped[0].replace("-", "")
    counts_sql = [q for q in queries if "COUNT(" in q and "tipline_report" in q]
    assert all("GROUP BY" not in q for q in counts_sql)


# --- audit log ------------------------------------------------------------------------------


def ids_on(response):
    return [e.pk for e in (row["entry"] for row in response.context["rows"])]


def entries(cast, township, n, action="document.viewed"):
    report = new_report(township)
    for i in range(n):
        audit.record(cast["clerk"], action, report, n=i)


def test_audit_log_pages_by_id_both_ways(login, cast, township):
    entries(cast, township, 2 * PAGE_SIZE + 7)
    all_ids = list(AuditEntry.objects.order_by("-id").values_list("id", flat=True))
    client = login(cast["auditor"])
    seen, url, pages = [], "/staff/audit/", []
    while url:
        response = client.get(url)
        assert response.status_code == 200
        page = response.context["page"]
        pages.append(page)
        seen += ids_on(response)
        url = f"/staff/audit/?before={page.older}" if page.older is not None else None
    assert seen == all_ids and len(pages) == 3
    assert pages[0].newer is None and pages[-1].older is None
    # The oldest page holds the oldest entries, newest first, and leads back up.
    oldest = client.get("/staff/audit/?after=0")
    assert ids_on(oldest) == all_ids[-PAGE_SIZE:]
    up = client.get(f"/staff/audit/?after={oldest.context['page'].newer}")
    assert (
        ids_on(up) == all_ids[PAGE_SIZE - (2 * PAGE_SIZE + 7) - PAGE_SIZE : -PAGE_SIZE][-PAGE_SIZE:]
    )
    html = up.content.decode()
    assert f"before={ids_on(up)[-1]}" in html and f"after={ids_on(up)[0]}" in html


def test_audit_log_keeps_its_filter_and_never_counts(
    login, cast, township, django_assert_max_num_queries
):
    entries(cast, township, PAGE_SIZE + 3, action="document.viewed")
    entries(cast, township, 4, action="report.rejected")
    client = login(cast["auditor"])
    client.get("/staff/audit/")
    for url in ("/staff/audit/?action=document", "/staff/audit/?action=document&after=0"):
        with django_assert_max_num_queries(12):
            response, queries = sql_of(client, url)
        assert {row["entry"].action for row in response.context["rows"]} == {"document.viewed"}
        assert not [q for q in queries if re.search(r"COUNT\(|OFFSET", q) and "audit" in q]
        assert "action=document&amp;" in response.content.decode()


@pytest.mark.parametrize(
    "query", ["before=abc", "after=-1", "before=1e5", "after=", "before=" + "9" * 40, "after=１２"]
)
def test_audit_log_bad_parameters_show_the_newest_page(login, cast, township, query):
    entries(cast, township, 3)
    client = login(cast["auditor"])
    response = client.get(f"/staff/audit/?{query}")
    assert response.status_code == 200
    newest = list(AuditEntry.objects.order_by("-id").values_list("id", flat=True))
    assert ids_on(response) == newest


# --- identity requests ----------------------------------------------------------------------


def test_identity_request_takes_its_reports_township(login, cast, township, other_township):
    mine = identity.request_access(report_with_identity(township), cast["investigator"], REASON)
    assert mine.township == township
    theirs = identity.request_access(
        report_with_identity(other_township), cast["other_investigator"], REASON
    )
    assert IdentityRequest.objects.get(pk=theirs.pk).township == other_township
    # A custodian of the county sees both, through the request's own township.
    response = login(cast["custodian"]).get("/staff/identity/")
    assert {r.pk for r in response.context["page"]} == {mine.pk, theirs.pk}
    response, queries = sql_of(login(cast["investigator"]), "/staff/identity/")
    assert [r.pk for r in response.context["page"]] == [mine.pk]
    # The query that sorts and pages the requests filters on their own township.
    listing = [
        ids_subquery(q) for q in queries if 'FROM "casework_identityrequest"' in q and "LIMIT" in q
    ]
    assert listing and all(
        re.search(r'(U0|"casework_identityrequest")\."township_id" IN', q) for q in listing
    )


# --- search -----------------------------------------------------------------------------------


def test_search_stays_in_scope_pages_and_caps_its_count(
    login, cast, township, other_township, django_assert_max_num_queries
):
    """The searched queue costs what the plain one does (one query more for a number: the case
    looked up first, so the list combines two indexed equalities and joins nothing); every query
    over reports keeps the user's townships and a LIMIT (the count stops at COUNT_CAP)."""
    mine = new_report(township, description="某诊所鉴定胎儿性别")
    new_report(other_township, description="某诊所鉴定胎儿性别")
    client = login(cast["clerk"])
    client.get("/staff/reports/")
    with django_assert_max_num_queries(12):
        response, queries = sql_of(client, "/staff/reports/?status=all&words=胎儿&number=X-1")
    assert response.status_code == 200
    with django_assert_max_num_queries(12):
        response, queries = sql_of(client, "/staff/reports/?status=all&words=胎儿")
    assert [r.pk for r in response.context["page"]] == [mine.pk]
    over_reports = [
        ids_subquery(q) for q in queries if 'FROM "tipline_report"' in q and "LIKE" in q
    ]
    assert len(over_reports) == 2  # the count and the page's ids (its rows read with them)
    for sql in over_reports:
        assert re.search(r'(U0|"tipline_report")\."township_id" IN', sql) and "LIMIT" in sql
        assert "casework_case" not in sql
