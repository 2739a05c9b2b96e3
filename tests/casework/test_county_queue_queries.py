"""A county user's queue costs no more queries than a township's: the townships its search form
offers (names, by name) come with the signed-in user (org.auth_backend), and the page's reports
are read with their township and case in the query that pages them."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from org.models import Township
from org.scope import township_list
from tipline.models import Report

from .conftest import new_report

pytestmark = pytest.mark.django_db

# session, user (with the county's townships), second factor, two for the permissions, the
# capped count, the page (ids, then rows joined), its attachments, the unread notices.
QUEUE_QUERIES = 9


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.TIPLINE_RECEIPT_ARGON2 = {"memory_cost": 8, "iterations": 1, "lanes": 1}


@pytest.mark.parametrize("status", list(Report.Status.values))
def test_county_queue_queries(login, cast, township, other_township, status):
    for ts in (township, other_township, township):
        Report.objects.filter(pk=new_report(ts).pk).update(status=status)
    client = login(cast["supervisor"])
    url = f"/staff/reports/?status={status}"
    client.get(url)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    assert len(response.context["page"]) == 3
    sql = [q["sql"] for q in ctx.captured_queries]
    assert len(sql) <= QUEUE_QUERIES, "\n".join(sql)
    assert not [q for q in sql if q.startswith('SELECT "org_township"')]
    # The form offers the county's townships, by name, and nothing else.
    choices = response.context["form"].fields["township"].choices
    assert [name for _pk, name in choices[1:]] == ["中水镇", "西山镇"]


def test_the_townships_read_with_the_user_are_whole_and_current(
    login, cast, township, other_township
):
    """Every column of each township, as a query reads it; a rename shows on the next page."""
    client = login(cast["supervisor"])
    user = client.get("/staff/reports/").wsgi_request.user
    read = township_list(user)
    fresh = list(Township.objects.filter(county=township.county).order_by("name"))
    assert [t.pk for t in read] == [t.pk for t in fresh]
    for got, want in zip(read, fresh, strict=True):
        assert got.__dict__.keys() >= {f.attname for f in Township._meta.concrete_fields}
        for field in Township._meta.concrete_fields:
            assert getattr(got, field.attname) == getattr(want, field.attname), field.name
        assert got._state.adding is False and got._state.db == want._state.db
    Township.objects.filter(pk=other_township.pk).update(name="东山镇")
    response = client.get("/staff/reports/")
    choices = response.context["form"].fields["township"].choices
    assert [name for _pk, name in choices[1:]] == ["东山镇", "中水镇"]
