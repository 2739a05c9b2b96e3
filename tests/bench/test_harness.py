"""The harness's pieces at a tiny scale on whatever database the suite uses: result rows, the
chained-append and receipt micro-benchmarks (leaving no rows behind), and the page rule that a
page refused (403) to a role is listed, not measured."""

import pytest

from bench import micro, pages
from bench.stats import result
from casework.models import AuditEntry
from tests.casework.conftest import cast, units  # noqa: F401 — fixtures
from tipline.models import Report

pytestmark = pytest.mark.django_db


def test_result_row():
    row = result("x", 10, [3.0, 1.0, 2.0], "ms", "≤ 2", False, ("base", 1.0))
    assert (row["median"], row["p95"], row["ratio"], row["met"]) == (2.0, 3.0, 2.0, False)
    assert result("y", None, [1.0], "s", "none", None)["met"] is None


def test_micro_benchmarks(township):
    township.code = "zhongshui"  # the demo township receipt_lookup files its reports in
    township.save()
    entries = AuditEntry.objects.count()
    row = micro.audit_append("tiny", 3)
    assert row["n"] == 3 and row["baseline"]["median"] > 0
    assert AuditEntry.objects.count() == entries  # rolled back, the chain untouched
    row = micro.receipt_lookup("tiny", 3)
    assert row["n"] == 3 and Report.objects.count() == 3


def test_pages_refused_are_listed_not_measured(cast):  # noqa: F811
    client = pages.viewer("clerk", None, "clerk")
    assert pages.samples(client, "/staff/rewards/ledger/", 1) is None  # a clerk may not
    times, queries, peak, status = pages.samples(client, "/staff/reports/", 2)
    assert status == 200 and len(times) == 2 and isinstance(queries, int) and peak > 0
