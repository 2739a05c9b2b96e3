"""Lists count at most COUNT_CAP rows: past it the pager says "more than" instead of counting
a county's or province's every row."""

import re

import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from casework.views import common
from tipline.models import Report

from .conftest import new_report

pytestmark = pytest.mark.django_db


def test_a_list_past_the_cap_counts_no_further_and_says_so(township, monkeypatch, login, cast):
    for _ in range(7):
        new_report(township)
    monkeypatch.setattr(common, "COUNT_CAP", 5)
    request = RequestFactory().get("/", {"page": "2"})
    with CaptureQueriesContext(connection) as queries:
        page = common.page_of(request, Report.objects.order_by("pk"), size=2)
        rows = list(page)
    assert page.paginator.capped is True
    assert page.paginator.count == 5 and page.paginator.num_pages == 3
    assert len(rows) == 2 and page.number == 2
    assert "LIMIT 6" in queries[0]["sql"]  # the COUNT ran over a LIMITed subquery

    # Under the cap the count is exact.
    monkeypatch.setattr(common, "COUNT_CAP", 100)
    page = common.page_of(request, Report.objects.order_by("pk"), size=2)
    assert page.paginator.capped is False and page.paginator.count == 7

    # What a clerk reads on the queue when the cap is passed.
    monkeypatch.setattr(common, "COUNT_CAP", 3)
    monkeypatch.setattr(common.page_of, "__defaults__", (2,))  # two rows a page
    client = login(cast["clerk"])
    with translation.override("zh-hans"):
        html = client.get("/staff/reports/", {"page": "1"}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "共2页以上" in html.content.decode()


def test_every_page_past_the_cap_is_reached_through_next(township, monkeypatch, login, cast):
    """Past the cap the pager says "more than" and its Next link still leads on; a page past
    the cap counts as far as the page after it (no further), and the last page knows it is
    the last. Nothing is skipped or shown twice."""
    made = [new_report(township) for _ in range(9)]
    monkeypatch.setattr(common, "COUNT_CAP", 4)
    monkeypatch.setattr(common.page_of, "__defaults__", (2,))  # two rows a page
    client = login(cast["clerk"])
    url, seen, labels = "/staff/reports/?status=received", [], []
    while url:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        page = response.context["page"]
        seen += [r.pk for r in page]
        (count_sql,) = [q["sql"] for q in queries if q["sql"].startswith("SELECT COUNT(*) FROM (")]
        limit = int(re.search(r"LIMIT (\d+)\) subquery", count_sql).group(1))
        assert limit == max(4, (page.number + 1) * 2) + 1, (page.number, count_sql)
        labels.append((page.number, page.paginator.num_pages, page.paginator.capped))
        html = response.content.decode()
        following = re.search(rf'href="\?([^"]*page={page.number + 1})"', html)
        url = f"/staff/reports/?{following.group(1).replace('&amp;', '&')}" if following else None
    expected = sorted(made, key=lambda r: (r.acceptance_due, r.received_at))
    assert seen == [r.pk for r in expected]
    assert labels == [(1, 2, True), (2, 3, True), (3, 4, True), (4, 5, False), (5, 5, False)]
