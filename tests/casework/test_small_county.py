"""A small county in a big database is as fast as in its own: its users' lists name their
townships' ids in the query (no subquery over the townships, whose row counts PostgreSQL could
not see through), the ids come with the signed-in user (no query more), and on PostgreSQL the
plan starts from the user's townships (per-township indexes in the list's order, per-township
statistics) instead of walking the province's cases in list order.

Measured with bench/county.py (README, Performance).
"""

import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from casework import access
from casework.models import Case
from casework.states import State
from org.models import County, Township, Unit
from org.scope import township_ids
from tipline.models import Category

from .conftest import ids_subquery, verified_client

pytestmark = pytest.mark.django_db

LIST_PAGES = ("/staff/", "/staff/cases/?state=all", "/staff/cases/", "/staff/cases/files/")


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.TIPLINE_RECEIPT_ARGON2 = {"memory_cost": 8, "iterations": 1, "lanes": 1}


@pytest.fixture
def big_township(db):
    """A township of another county: the rest of the province."""
    county = County.objects.create(code="big", name="大县")
    return Township.objects.create(county=county, code="big-1", name="大镇")


def bulk_cases(township, opener, n, prefix, **fields):
    """n cases of `township` written directly (a province's worth, quickly)."""
    today = timezone.localdate()
    Case.objects.bulk_create(
        Case(
            number=f"{prefix}-{i:05d}",
            township=township,
            category=Category.SEX_DETERMINATION,
            title="案件",
            state=fields.get("state", State.ACCEPTED),
            opened_by=opener,
            decision_due=today + timedelta(days=30),
            next_due=fields.get("next_due", today + timedelta(days=i % 60)),
        )
        for i in range(n)
    )


def case_sql(queries):
    """The queries over cases; a page read ids first as its bare rows' query (ids_subquery)."""
    return [ids_subquery(q) for q in queries if 'FROM "casework_case"' in q]


def test_lists_name_the_county_townships_and_read_no_township_row(
    client, cast, township, other_township, big_township
):
    bulk_cases(township, cast["clerk"], 3, "ZS")
    bulk_cases(big_township, cast["clerk"], 5, "BIG")
    client = verified_client(client, cast["supervisor"])
    ids = sorted([township.pk, other_township.pk])
    for url in LIST_PAGES:
        client.get(url)
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url)
        assert response.status_code == 200, url
        queries = [q["sql"] for q in ctx.captured_queries]
        over_cases = case_sql(queries)
        assert over_cases, url
        for sql in over_cases:
            # Every scan of cases names the county's townships: all of them, or (a county's list
            # merged township by township: UNION ALL) one each, together all of them.
            named = [
                sorted(int(i) for i in found.split(","))
                for found in re.findall(
                    r'(?:"casework_case"|U0)\."township_id" IN \(([\d, ]+)\)', sql
                )
            ]
            parts = sql.count("UNION ALL") + 1
            assert len(named) == parts, sql
            if parts == 1:
                assert named == [ids], sql
            else:
                assert sorted(i for (i,) in named) == ids, sql
            assert '"org_township" U0' not in sql  # no subquery over the townships
        # The county's townships (ids and names) came with the signed-in user.
        assert not [q for q in queries if q.startswith('SELECT "org_township"')], url
    # The scope holds: the other county's cases are nowhere.
    response = client.get("/staff/cases/?state=all")
    assert {c.number for c in response.context["page"]} == {"ZS-00000", "ZS-00001", "ZS-00002"}
    assert "BIG-" not in response.content.decode()


def test_township_staff_filter_on_their_township_alone(client, cast, township, big_township):
    bulk_cases(township, cast["clerk"], 2, "ZS")
    bulk_cases(big_township, cast["clerk"], 2, "BIG")
    client = verified_client(client, cast["clerk"])
    with CaptureQueriesContext(connection) as ctx:
        response = client.get("/staff/cases/?state=all")
    assert [c.township_id for c in response.context["page"]] == [township.pk] * 2
    for sql in case_sql([q["sql"] for q in ctx.captured_queries]):
        assert re.search(rf'(?:"casework_case"|U0)\."township_id" IN \({township.pk}\)', sql)


def test_a_superuser_sees_every_township_without_a_filter(client, cast, township, big_township):
    bulk_cases(township, cast["clerk"], 1, "ZS")
    bulk_cases(big_township, cast["clerk"], 1, "BIG")
    root = get_user_model().objects.create_superuser("root", "root@example.invalid", "pw-root")
    assert township_ids(root) is None
    response = verified_client(client, root).get("/staff/cases/?state=all")
    assert {c.number for c in response.context["page"]} == {"ZS-00000", "BIG-00000"}


def test_a_moved_user_is_scoped_by_the_new_unit(client, cast, township, other_township, units):
    """The ids are kept on the user object for the request; a unit changed on that object is
    read again, never answered from the old unit's ids."""
    bulk_cases(township, cast["clerk"], 1, "ZS")
    client = verified_client(client, cast["supervisor"])
    client.get("/staff/")
    user = client.get("/staff/").wsgi_request.user
    assert sorted(township_ids(user)) == sorted([township.pk, other_township.pk])
    user.staff_profile.unit = units["xs_fp"]
    assert township_ids(user) == [other_township.pk]
    assert not access.cases_for(user).exists()
    elsewhere = Unit.objects.create(
        county=County.objects.create(code="far", name="远县"), township=None, kind="fp"
    )
    Township.objects.create(county=elsewhere.county, code="far-1", name="远镇")
    user.staff_profile.unit = elsewhere
    assert [t.code for t in Township.objects.filter(pk__in=township_ids(user))] == ["far-1"]


def test_an_inactive_or_unscoped_user_sees_nothing(cast, township):
    bulk_cases(township, cast["clerk"], 1, "ZS")
    loose = get_user_model().objects.create_user("loose", "l@example.invalid", "pw-loose")
    assert township_ids(loose) == []
    clerk = cast["clerk"]
    clerk.is_active = False
    assert township_ids(clerk) == [] and not access.in_townships(Case.objects.all(), clerk)


# --- PostgreSQL: the plans ------------------------------------------------------------------

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="plans and statistics are PostgreSQL's"
)


def explain(sql):
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql)
        return "\n".join(row[0] for row in cursor.fetchall())


def list_query(client, url):
    with CaptureQueriesContext(connection) as ctx:
        client.get(url)
    (sql,) = [q["sql"] for q in ctx.captured_queries if 'FROM "casework_case"' in q["sql"]
              and "LIMIT" in q["sql"] and "COUNT(" not in q["sql"]]  # fmt: skip
    return ids_subquery(sql)


@postgres_only
def test_township_columns_keep_every_townships_own_count():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT attrelid::regclass::text, attstattarget FROM pg_attribute "
            "WHERE attname = 'township_id' AND attrelid IN "
            "('casework_case'::regclass, 'tipline_report'::regclass) ORDER BY 1"
        )
        assert cursor.fetchall() == [("casework_case", 1000), ("tipline_report", 1000)]


@postgres_only
def test_a_small_county_list_starts_from_its_townships(
    client, cast, township, other_township, big_township
):
    """3 cases of the county among 3,000 of another, whose deadlines all come first: walking
    the province's cases in list order would read all 3,000 to find the county's 3."""
    today = timezone.localdate()
    bulk_cases(township, cast["clerk"], 3, "ZS", next_due=today + timedelta(days=400))
    bulk_cases(big_township, cast["clerk"], 3000, "BIG")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE casework_case")
    client = verified_client(client, cast["supervisor"])
    for url in ("/staff/cases/?state=all", "/staff/cases/", "/staff/cases/files/"):
        client.get(url)
        plan = explain(list_query(client, url))
        case_scans = [line for line in plan.splitlines() if "on casework_case" in line]
        assert case_scans and all("township" in line for line in case_scans), plan


@postgres_only
def test_a_township_list_is_read_in_order_from_its_index(client, cast, township):
    """One township's list, every state or one, comes out of its index already in the list's
    order: no sort, however many cases the township holds."""
    bulk_cases(township, cast["clerk"], 20, "ZS")
    bulk_cases(township, cast["clerk"], 5, "AR", state=State.ARCHIVED, next_due=None)
    client = verified_client(client, cast["clerk"])
    indexes = {
        "/staff/cases/?state=all": "case_township_list_idx",
        f"/staff/cases/?state={State.ARCHIVED}": "case_township_state_list_idx",
        "/staff/cases/": "case_township_open_list_idx",  # the open cases alone (partial)
    }
    with connection.cursor() as cursor:
        # A test's few rows are cheapest read whole or by bitmap and sorted; with those plans
        # (and sorting) priced out, only an index that yields the list's order avoids a Sort.
        # SET LOCAL: until the test's transaction is rolled back.
        for method in ("seqscan", "bitmapscan", "sort"):
            cursor.execute(f"SET LOCAL enable_{method} = off")
    for url, index in indexes.items():
        client.get(url)
        plan = explain(list_query(client, url))
        # The index made for the list, or (at a test's few rows the costs are close) the
        # township's whole list index with the state as a filter: in order either way.
        ordered = f"({index}|case_township_list_idx)"
        assert re.search(f"Index (Only )?Scan using {ordered} on casework_case", plan), plan
        assert "Sort" not in plan, plan


@postgres_only
def test_a_county_list_merges_its_townships_in_index_order(
    client, cast, township, other_township, big_township
):
    """A county's archived cases (one state) come out of each township's own index already in
    the list's order, each read no further than the page (LIMIT), and are merged (Merge
    Append): the townships' rows are never read whole and sorted together, however many the
    county holds (the 1M bench county: 287 ms before)."""
    third = Township.objects.create(county=township.county, code="nanhu", name="南湖镇")
    for ts, prefix in ((township, "ZS"), (other_township, "XS"), (third, "NH")):
        bulk_cases(ts, cast["clerk"], 60, prefix, state=State.ARCHIVED, next_due=None)
        bulk_cases(ts, cast["clerk"], 20, prefix + "O")
    bulk_cases(big_township, cast["clerk"], 300, "BIG", state=State.ARCHIVED, next_due=None)
    client = verified_client(client, cast["supervisor"])
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE casework_case")
        # As in the test above: a test's few rows are cheapest read whole and sorted.
        for method in ("seqscan", "bitmapscan", "sort"):
            cursor.execute(f"SET LOCAL enable_{method} = off")
    lists = {
        f"/staff/cases/?state={State.ARCHIVED}&page=2": "case_township_state_list_idx",
        "/staff/cases/": "case_township_open_list_idx",  # the open cases (partial index)
    }
    for url, index in lists.items():
        client.get(url)
        with CaptureQueriesContext(connection) as ctx:
            client.get(url)
        (count,) = [q["sql"] for q in ctx.captured_queries if "SELECT COUNT(*) FROM ((" in q["sql"]]
        sql = list_query(client, url)
        if "page=2" in url:
            assert "LIMIT 100" in sql and "OFFSET 50" in sql, sql
        # The page's ids and the (capped) count both walk each township in the list's order.
        for query in (sql, count):
            assert query.count("UNION ALL") == 2, query
            # Each part is one township's alone (its own statistics), no county-wide IN list.
            assert query.count('"township_id" IN (') == 3, query
            plan = explain(query)
            assert "Merge Append" in plan, plan
            scans = [line for line in plan.splitlines() if "on casework_case" in line]
            assert len(scans) == 3, plan
            assert all(re.search(f"Index (Only )?Scan using {index} ", s) for s in scans), plan
            assert not re.search(r"->\s+Sort\b", plan), plan
