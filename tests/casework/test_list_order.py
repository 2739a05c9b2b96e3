"""The case list and the queue show the same rows in the same order however they are read
(the page's ids first, its rows joined after; a county's townships merged): hand-made cases and
reports across three townships of a county and one of another county, every state, deadlines
interleaved, tied and missing, walked page by page as a county, a township and a superuser, each
page's rows against the order worked out here by hand from the rows' own fields."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from casework.models import Case
from casework.states import State
from casework.views import common
from org.models import County, Township
from tipline.models import Category, Report

from .conftest import new_report, verified_client

pytestmark = pytest.mark.django_db

PER_PAGE = 4
STATES = [State.ACCEPTED, State.INVESTIGATING, State.ARCHIVED, State.PENALIZED, State.ARCHIVED]


@pytest.fixture(autouse=True)
def _small_pages(settings, monkeypatch):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.TIPLINE_RECEIPT_ARGON2 = {"memory_cost": 8, "iterations": 1, "lanes": 1}
    monkeypatch.setattr(common.page_of, "__defaults__", (PER_PAGE,))


@pytest.fixture
def townships(county, township, other_township):
    """The county's three townships and one of another county."""
    third = Township.objects.create(county=county, code="nanhu", name="南湖镇")
    far = Township.objects.create(
        county=County.objects.create(code="far", name="远县"), code="far-1", name="远镇"
    )
    return [township, other_township, third, far]


@pytest.fixture
def cases(townships, cast):
    """40 cases, ten a township, in an order unlike their ids: deadlines cycle over 7 days (many
    ties, broken by id), archived ones and one in nine others have none."""
    today = timezone.localdate()
    made = []
    for i in range(40):
        state = STATES[i % len(STATES)]
        due = None if state == State.ARCHIVED or i % 9 == 0 else today + timedelta(days=i * 5 % 7)
        made.append(
            Case(
                number=f"C-{i:03d}",
                township=townships[i * 7 % 4],
                category=Category.SEX_DETERMINATION,
                title=f"案件 {i}",
                state=state,
                opened_by=cast["clerk"],
                decision_due=today + timedelta(days=30),
                next_due=due,
            )
        )
    Case.objects.bulk_create(made)
    return list(Case.objects.all())


def by_hand(rows, keep):
    """The list's order (Case.Meta.ordering: next deadline, none last, then id)."""
    kept = [c for c in rows if keep(c)]
    return [c.number for c in sorted(kept, key=lambda c: (c.next_due is None, c.next_due, c.pk))]


def walk(client, url):
    """Every page of the list, in order: (numbers per page, what the first page counted)."""
    pages, n, count = [], 1, None
    while True:
        response = client.get(f"{url}&page={n}")
        assert response.status_code == 200, url
        page = response.context["page"]
        count = count if count is not None else page.paginator.count
        pages.append([c.number if isinstance(c, Case) else c.pk for c in page])
        if not page.has_next():
            return pages, count
        n += 1


def viewers(cast):
    root = get_user_model().objects.create_superuser("root", "root@example.invalid", "pw-root")
    return {"county": cast["supervisor"], "township": cast["clerk"], "province": root}


CASE_LISTS = {
    "/staff/cases/?state=all": lambda c: True,
    "/staff/cases/?state=": lambda c: c.state != State.ARCHIVED,
    f"/staff/cases/?state={State.ARCHIVED}": lambda c: c.state == State.ARCHIVED,
    f"/staff/cases/?state={State.ACCEPTED}": lambda c: c.state == State.ACCEPTED,
    "/staff/cases/?state=all&person=none": lambda c: c.investigator_id is None,
}


@pytest.mark.parametrize("who", ["county", "township", "province"])
def test_case_lists_keep_their_order_across_townships_and_pages(
    client, cast, townships, cases, who
):
    user = viewers(cast)[who]
    scope = {
        "county": {t.pk for t in townships[:3]},
        "township": {townships[0].pk},
        "province": {t.pk for t in townships},
    }[who]
    client = verified_client(client, user)
    for url, keep in CASE_LISTS.items():
        expected = by_hand(cases, lambda c, keep=keep: c.township_id in scope and keep(c))
        assert expected, url
        pages, count = walk(client, url)
        assert [n for page in pages for n in page] == expected, url
        assert all(len(page) == PER_PAGE for page in pages[:-1]), url
        assert count == len(expected), url


def test_one_township_of_the_county_chosen_in_the_search(client, cast, townships, cases):
    client = verified_client(client, cast["supervisor"])
    second = townships[1]
    pages, count = walk(client, f"/staff/cases/?state=all&township={second.pk}")
    expected = by_hand(cases, lambda c: c.township_id == second.pk)
    assert [n for page in pages for n in page] == expected and count == len(expected)


def test_the_queue_keeps_its_order_across_townships_and_pages(client, cast, townships):
    """Reports of every status, deadlines and arrival times interleaved across townships."""
    now = timezone.now()
    statuses = list(Report.Status.values)
    for i in range(24):
        report = new_report(townships[i * 3 % 4])
        Report.objects.filter(pk=report.pk).update(
            status=statuses[i % 4],
            received_at=now - timedelta(hours=i * 5 % 11),
            acceptance_due=(now + timedelta(days=i % 3)).date(),
        )
    reports = list(Report.objects.all())
    county = {t.pk for t in townships[:3]}
    client = verified_client(client, cast["supervisor"])
    for status in statuses:
        mine = [r for r in reports if r.township_id in county and r.status == status]
        expected = [
            r.pk for r in sorted(mine, key=lambda r: (r.acceptance_due, r.received_at, r.pk))
        ]
        pages, count = walk(client, f"/staff/reports/?status={status}")
        got = [pk for page in pages for pk in page]
        # Ties on (deadline, arrival) may come in either order; none are made here.
        assert got == expected and count == len(expected), status
    mine = [r for r in reports if r.township_id in county]
    expected = [r.pk for r in sorted(mine, key=lambda r: (-r.received_at.timestamp(), r.pk))]
    pages, count = walk(client, "/staff/reports/?status=all")
    assert [pk for page in pages for pk in page] == expected and count == len(expected)
