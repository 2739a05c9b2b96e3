"""The staff rewards list: what each person acts on first (finance the claims awaiting payment,
supervisors the proposals awaiting approval, someone holding both roles both, in that order),
then every other reward; within each part by claim date (none last), then the newest proposal
first. The order is worked out by hand from made-up rows; it holds across pages, the count is
the whole list's, and the page costs the same few queries however many rewards there are."""

import re
from datetime import UTC, date, datetime

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext

from casework.rewards import views
from casework.rewards.models import Reward
from org import roles

from ..casework.conftest import make_staff
from .helpers import filed, investigate, penalize, reward_of

pytestmark = pytest.mark.django_db


def penalized(township, cast, units):
    report, _receipt = filed(township)
    return reward_of(penalize(investigate(report, cast, units), cast))


# name: (state, claim date, proposed on 2026-03-<day>)
ROWS = {
    "A": ("claimed", date(2026, 5, 10), 1),
    "B": ("claimed", date(2026, 5, 1), 2),
    "C": ("proposed", None, 3),
    "D": ("proposed", None, 4),
    "E": ("paid", date(2026, 4, 1), 5),
    "F": ("approved", date(2026, 6, 1), 6),
    "G": ("lapsed", date(2026, 4, 1), 7),
    "H": ("cancelled", None, 8),
}


@pytest.fixture
def rows(township, cast, units):
    """Eight rewards, their states and dates set by hand (an UPDATE, as data already there)."""
    made = {}
    for name, (state, due, day) in ROWS.items():
        reward = penalized(township, cast, units)
        Reward.objects.filter(pk=reward.pk).update(
            state=state,
            claim_due=due,
            proposed_at=datetime(2026, 3, day, 2, 0, tzinfo=UTC),
        )
        made[reward.pk] = name
    return made


def listed(html, names):
    table = re.search(r'<table[^>]*id="reward-list".*?</table>', html, re.S).group(0)
    return "".join(names[int(pk)] for pk in re.findall(r'href="/staff/rewards/(\d+)/"', table))


def shown_count(html):
    return int(re.search(r'id="result-count">共 (\d+) 件<', html).group(1))


@pytest.fixture
def both(units):
    """A county supervisor who is finance too: pays and approves."""
    user = make_staff("both", roles.SUPERVISOR, units["county_fp"])
    user.groups.add(Group.objects.get(name=roles.FINANCE))
    return type(user).objects.get(pk=user.pk)


def test_each_role_s_work_first_then_the_rest_by_claim_date(rows, cast, both, login):
    # The rest, by claim date (none last), then the newest proposal first:
    # E and G share 1 April (G proposed later: first), F 1 June, then those without a date.
    expected = {
        # claims: B (due 1 May) before A (10 May); then the rest, proposals among them, newest
        # proposal first where no claim date: H (8 March), D (4th), C (3rd).
        "finance": "BA" + "GEF" + "HDC",
        # proposals, newest first: D, C; then the rest, the claims among them by date.
        "supervisor": "DC" + "GEBAF" + "H",
        "both": "BA" + "DC" + "GEF" + "H",
        # the auditor acts on neither: one list by claim date.
        "auditor": "GEBAF" + "HDC",
    }
    users = {**cast, "both": both}
    for who, order in expected.items():
        html = login(users[who]).get("/staff/rewards/").content.decode()
        assert listed(html, rows) == order, who
        assert shown_count(html) == 8


def test_the_order_holds_across_pages(rows, both, login, monkeypatch):
    """Three to a page: the parts are cut at the page (each read no further than it needs) and
    every reward is on exactly one page."""
    monkeypatch.setattr(views, "PAGE_SIZE", 3)
    client = login(both)
    pages = [client.get(f"/staff/rewards/?page={n}").content.decode() for n in (1, 2, 3)]
    assert [listed(html, rows) for html in pages] == ["BAD", "CGE", "FH"]
    assert all(shown_count(html) == 8 for html in pages)
    # A page past the end shows the last one; junk shows the first.
    assert listed(client.get("/staff/rewards/?page=9").content.decode(), rows) == "FH"
    assert listed(client.get("/staff/rewards/?page=x").content.decode(), rows) == "BAD"


def test_a_state_searched_for_is_listed_alone_in_the_same_order(rows, both, login):
    client = login(both)
    assert listed(client.get("/staff/rewards/?state=claimed").content.decode(), rows) == "BA"
    html = client.get("/staff/rewards/?state=proposed").content.decode()
    assert listed(html, rows) == "DC" and shown_count(html) == 2


def page_queries(client):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get("/staff/rewards/")
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("who", ["finance", "supervisor", "both", "auditor"])
def test_the_list_costs_the_same_few_queries_however_many_rewards(
    who, township, cast, units, both, login, django_assert_max_num_queries
):
    users = {**cast, "both": both}
    client = login(users[who])
    penalized(township, cast, units)
    client.get("/staff/rewards/")
    few = page_queries(client)
    for _ in range(3):
        penalized(township, cast, units)
    # Session, user, device, permissions (2), the form's townships, the count, the page (one
    # query, however many parts) and the inbox badge.
    with django_assert_max_num_queries(9):
        more = page_queries(client)
    assert more == few


# --- PostgreSQL: the plan ---------------------------------------------------------------------

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="plans are PostgreSQL's"
)


@postgres_only
def test_each_part_is_read_in_order_from_the_index_no_further_than_the_page(
    rows, both, login, monkeypatch
):
    """The claims and the proposals come out of reward_list_order already in the list's order,
    each LIMITed to the page: no part is read whole and sorted (one CASE sort over every reward
    took 250 ms for a province at a million reports)."""
    monkeypatch.setattr(views, "PAGE_SIZE", 3)
    client = login(both)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE rewards_reward")
        # A test's few rows are cheapest read whole and sorted; with those plans priced out, only
        # an index that yields the list's order avoids a sort. SET LOCAL: until the test's
        # transaction is rolled back.
        for method in ("seqscan", "bitmapscan", "sort"):
            cursor.execute(f"SET LOCAL enable_{method} = off")
    with CaptureQueriesContext(connection) as ctx:
        client.get("/staff/rewards/?page=2")
    (sql,) = [q["sql"] for q in ctx.captured_queries if "UNION ALL" in q["sql"]]
    assert sql.count("LIMIT 6") == 3 and sql.endswith("LIMIT 3 OFFSET 3"), sql
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    for state in ("claimed", "proposed"):
        assert re.search(
            r"Index Scan using reward_list_order on rewards_reward\w*\s.*\n\s*"
            rf"Index Cond: \(\(state\)::text = '{state}'::text\)",
            plan,
        ), plan
    # The one Sort puts the parts' few rows together; none is under the Append.
    parts = plan.split("Append", 1)[1]
    assert not re.search(r"->\s+Sort\b", parts), plan
