"""The ledger page counts in SQL and lists its rewards a page at a time: its number of queries
does not grow with the number of rewards; the exports still list every reward."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from casework.rewards import ledger, views
from casework.rewards.models import Reward
from org.models import Township

from ..casework.conftest import (  # noqa: F401 — fixtures
    cast,
    login,
    units,
)
from .test_staff_pages import penalized

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.TIPLINE_RECEIPT_ARGON2 = {"memory_cost": 8, "iterations": 1, "lanes": 1}


def queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries), response


def test_ledger_page_queries_do_not_grow(township, cast, units, login):  # noqa: F811
    year = timezone.localdate().year
    url = f"/staff/rewards/ledger/?year={year}"
    penalized(township, cast, units)
    client = login(cast["finance"])
    client.get(url)
    one, response = queries(client, url)
    assert len(response.context["rewards"]) == 1
    for _ in range(3):
        penalized(township, cast, units)
    four, response = queries(client, url)
    assert four <= one
    # By hand: four proposed rewards of 3000.00 each, one month, one township.
    assert response.context["totals"]["proposed"] == {"count": 4, "amount": "12000.00"}
    assert response.context["rows"] == [
        {
            "month": timezone.localdate().strftime("%Y-%m"),
            "township": township.code,
            "township_name": township.name,
            "state": "proposed",
            "count": 4,
            "amount": "12000.00",
        }
    ]
    assert len(response.context["rewards"]) == 4
    # The export lists every reward, with the same totals.
    full = ledger.build(year, Township.objects.all())
    assert full.totals == response.context["totals"] and len(full.rewards) == 4


# --- the figures a page at a time --------------------------------------------------------------

# name: (township, proposed at (UTC), state, amount). Months are local (Asia/Shanghai, UTC+8):
# R4 is 1 February there, R6 1 January 2026, R5 already 2027.
MADE = {
    "R1": ("zhongshui", datetime(2026, 3, 5, 2, 0, tzinfo=UTC), "proposed", "3000.00"),
    "R2": ("zhongshui", datetime(2026, 3, 20, 2, 0, tzinfo=UTC), "paid", "5000.00"),
    "R3": ("xishan", datetime(2026, 3, 10, 2, 0, tzinfo=UTC), "paid", "3000.00"),
    "R4": ("xishan", datetime(2026, 1, 31, 17, 0, tzinfo=UTC), "lapsed", "3000.00"),
    "R5": ("zhongshui", datetime(2026, 12, 31, 17, 0, tzinfo=UTC), "proposed", "3000.00"),
    "R6": ("zhongshui", datetime(2025, 12, 31, 16, 30, tzinfo=UTC), "proposed", "3000.00"),
}


def row(month, code, name, state, count, amount):
    return {
        "month": month,
        "township": code,
        "township_name": name,
        "state": state,
        "count": count,
        "amount": amount,
    }


# Worked out by hand from MADE: by month, township code, state; R5 is not in 2026.
ROWS_2026 = [
    row("2026-01", "zhongshui", "中水镇", "proposed", 1, "3000.00"),
    row("2026-02", "xishan", "西山镇", "lapsed", 1, "3000.00"),
    row("2026-03", "xishan", "西山镇", "paid", 1, "3000.00"),
    row("2026-03", "zhongshui", "中水镇", "paid", 1, "5000.00"),
    row("2026-03", "zhongshui", "中水镇", "proposed", 1, "3000.00"),
]
TOTALS_2026 = {
    "proposed": {"count": 2, "amount": "6000.00"},
    "approved": {"count": 0, "amount": "0.00"},
    "claimed": {"count": 0, "amount": "0.00"},
    "paid": {"count": 2, "amount": "8000.00"},
    "cancelled": {"count": 0, "amount": "0.00"},
    "lapsed": {"count": 1, "amount": "3000.00"},
}


@pytest.fixture
def made(township, other_township, cast, units):  # noqa: F811
    """Six rewards, their township, date, state and amount set by hand (an UPDATE)."""
    by_code = {t.code: t for t in (township, other_township)}
    out = {}
    for name, (code, at, state, amount) in MADE.items():
        reward = penalized(township, cast, units)[0]
        Reward.objects.filter(pk=reward.pk).update(
            township=by_code[code], proposed_at=at, state=state, amount=Decimal(amount)
        )
        out[name] = reward.pk
    return out


def test_the_figures_by_hand_in_local_months(made):
    figures = ledger.Figures(2026, None)
    assert figures.rows == ROWS_2026 and figures.totals == TOTALS_2026
    assert len(figures) == 5 and figures.count == 5
    assert figures[1:3] == ROWS_2026[1:3] and figures[-1] == ROWS_2026[-1]
    # The same as the files' (build) and for a township's own.
    assert ledger.summary(2026, Township.objects.all()) == (ROWS_2026, TOTALS_2026)
    zs = Township.objects.filter(code="zhongshui")
    assert ledger.Figures(2026, list(zs.values_list("pk", flat=True))).rows == [
        r for r in ROWS_2026 if r["township"] == "zhongshui"
    ]
    assert ledger.Figures(2027, None).rows == [
        row("2027-01", "zhongshui", "中水镇", "proposed", 1, "3000.00")
    ]


def test_the_figures_a_page_at_a_time(made, cast, login, monkeypatch):  # noqa: F811
    """The page shows the figures a page at a time (a province has thousands of rows), each
    page with the year's totals; the files still hold every row."""
    monkeypatch.setattr(views, "LEDGER_ROWS", 2)
    client = login(cast["finance"])
    shown = []
    for n in (1, 2, 3):
        response = client.get(f"/staff/rewards/ledger/?year=2026&rows={n}")
        assert response.context["totals"] == TOTALS_2026
        assert response.context["page"].paginator.count == 5
        shown += response.context["rows"]
    assert shown == ROWS_2026
    html = response.content.decode()
    assert 'href="?year=2026&amp;rows=2">' in html  # back to the previous page of figures
    # The rewards' own pager keeps the figures' page.
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    html = client.get("/staff/rewards/ledger/?year=2026&rows=2").content.decode()
    assert 'href="?rows=2&amp;year=2026&amp;page=2"' in html


def test_few_queries_and_no_count(made, cast, login, django_assert_max_num_queries):  # noqa: F811
    """The ledger page's queries are pinned, and its rewards are not counted apart: their
    number is the sum of the totals."""
    client = login(cast["finance"])
    url = "/staff/rewards/ledger/?year=2026"
    client.get(url)
    # Session, user, device, permissions (2), the figures, their townships' names, the page of
    # rewards and the inbox badge: the number of rewards comes from the totals.
    with django_assert_max_num_queries(9) as ctx:
        client.get(url)
    counts = [q["sql"] for q in ctx.captured_queries if "COUNT(" in q["sql"].upper()]
    assert not [sql for sql in counts if "rewards_reward" in sql and "GROUP BY" not in sql]
