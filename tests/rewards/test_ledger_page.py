"""The ledger page counts in SQL and lists its rewards a page at a time: its number of queries
does not grow with the number of rewards; the exports still list every reward."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from casework.rewards import ledger
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
