"""The staff home's counts at a province's scale: each card reads only the rows it can count
(the live cases, the reports awaiting review, the rewards in the states counted), stays exactly
the count of the list it opens, and the page asks a fixed, small number of queries: the
signed-in user's permissions and groups come with the user (org.auth_backend).

Measured with /work/wt/measure.py and bench/run.py (README, Performance).
"""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from casework import access, worklists
from casework.models import Case
from casework.states import State
from org import roles
from org.auth_backend import group_names
from tipline.models import Category, Channel, Report

from .conftest import make_staff, new_report, verified_client

pytestmark = pytest.mark.django_db

COUNTY_ROLES = (roles.SUPERVISOR, roles.CUSTODIAN, roles.FINANCE, roles.AUDITOR)


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.TIPLINE_RECEIPT_ARGON2 = {"memory_cost": 8, "iterations": 1, "lanes": 1}


@pytest.fixture
def county_user(units):
    """The bench's county viewer: one person holding every county role."""
    user = make_staff("everything", roles.SUPERVISOR, units["county_fp"])
    user.groups.set(Group.objects.filter(name__in=COUNTY_ROLES))
    return get_user_model().objects.get(pk=user.pk)


def make_case(township, opener, number, state, **fields):
    today = timezone.localdate()
    return Case.objects.create(
        number=number,
        township=township,
        category=Category.SEX_DETERMINATION,
        title="案件",
        state=state,
        opened_by=opener,
        decision_due=fields.pop("decision_due", today + timedelta(days=30)),
        **fields,
    )


@pytest.fixture
def every_kind(cast, township):
    """One case of each kind a card tells apart, with what each card should count by hand."""
    today = timezone.localdate()
    now = timezone.now()
    past, future = today - timedelta(days=5), today + timedelta(days=5)
    inv, clerk = cast["investigator"], cast["clerk"]
    closed = {"closed_at": now, "feedback_due": past, "archive_due": past}
    make_case(township, clerk, "A", State.ACCEPTED)  # unassigned
    make_case(township, clerk, "B", State.ACCEPTED, investigator=inv, decision_due=past)
    make_case(township, clerk, "C", State.INVESTIGATING, investigator=inv)
    make_case(township, clerk, "D", State.PENALIZED, **closed)  # untold, both overdue
    make_case(township, clerk, "E", State.UNFOUNDED, **closed, feedback_given_at=now)
    # Archived with the reporters never told: the feedback card still counts it.
    make_case(township, clerk, "F", State.ARCHIVED, **closed, archived_at=now)
    make_case(township, clerk, "G", State.ARCHIVED, **closed, feedback_given_at=now)
    make_case(
        township, clerk, "H", State.REWARDED, closed_at=now, feedback_given_at=now,
        feedback_due=past, archive_due=future,
    )  # fmt: skip


def test_each_card_counts_by_hand_and_as_its_list(cast, every_kind):
    supervisor = worklists.case_counts(cast["supervisor"], access.cases_for(cast["supervisor"]))
    assert supervisor == {
        "open": 6,  # A B C D E H
        "unassigned": 1,  # A
        "awaiting_decision": 0,
        "feedback": 2,  # D, and F although archived
        "feedback_overdue": 2,
        "to_archive": 3,  # D E H
        "to_archive_overdue": 2,  # D E
    }
    investigator = worklists.case_counts(
        cast["investigator"], access.cases_for(cast["investigator"])
    )
    assert investigator == {"open": 6, "mine": 2, "mine_overdue": 1}
    # The same numbers as the lists the cards open (casework.finding filters by work_filter).
    for who in ("supervisor", "investigator", "clerk"):
        user = cast[who]
        counts = worklists.case_counts(user, access.cases_for(user))
        for name, (_counted, late) in worklists.case_work(user).items():
            listed = access.cases_for(user).filter(worklists.work_filter(user, name))
            assert counts[name] == listed.count(), (who, name)
            if late is not None:
                late_listed = access.cases_for(user).filter(
                    worklists.work_filter(user, name, overdue_only=True)
                )
                assert counts[f"{name}_overdue"] == late_listed.count(), (who, name)


def test_every_card_condition_lies_within_the_live_cases(cast, every_kind):
    """What lets the counts read the live cases only: no card counts a case outside them."""
    user = cast["supervisor"]
    conditions = [q for pair in worklists.case_work(user).values() for q in pair if q is not None]
    conditions += [q for pair in worklists.case_work(cast["investigator"]).values() for q in pair]
    for q in conditions:
        if q is None:
            continue
        assert not Case.objects.filter(q).exclude(pk__in=Case.objects.filter(Case.LIVE)).exists()
    assert set(Case.objects.exclude(pk__in=Case.objects.filter(Case.LIVE)).values_list(
        "number", flat=True
    )) == {"G"}  # fmt: skip


def test_the_report_card_counts_reports_awaiting_review(login, cast, township):
    today = timezone.localdate()
    for _ in range(3):
        new_report(township)
    late = new_report(township)
    Report.objects.filter(pk=late.pk).update(acceptance_due=today - timedelta(days=1))
    done = new_report(township)
    Report.objects.filter(pk=done.pk).update(
        status=Report.Status.REJECTED, acceptance_due=today - timedelta(days=1)
    )
    items = {i["id"]: i for i in worklists.for_user(cast["clerk"])}
    assert items["work-new-reports"]["n"] == 4 and items["work-new-reports"]["overdue"] == 1


# --- queries ------------------------------------------------------------------------------


def test_the_county_home_asks_at_most_ten_queries(
    client, county_user, cast, every_kind, django_assert_max_num_queries
):
    client = verified_client(client, county_user)
    client.get("/staff/")
    with django_assert_max_num_queries(10):
        response = client.get("/staff/")
    html = response.content.decode()
    for card in ("work-unassigned", "work-feedback", "work-identity", "work-audit"):
        assert f'id="{card}"' in html
    assert 'id="rewards-proposed"' in html and 'id="rewards-claimed"' in html


def test_permissions_and_groups_come_with_the_signed_in_user(client, county_user, cast):
    client = verified_client(client, county_user)
    client.get("/staff/")
    with CaptureQueriesContext(connection) as ctx:
        response = client.get("/staff/")
    asked = [q["sql"] for q in ctx.captured_queries]
    (read_user,) = [sql for sql in asked if sql.startswith('SELECT "auth_user"."id"')]
    assert '"auth_permission"' in read_user and '"auth_group"' in read_user
    others = [sql for sql in asked if sql != read_user]
    assert not [sql for sql in others if '"auth_permission"' in sql or '"auth_group"' in sql]
    user = response.wsgi_request.user
    fresh = get_user_model().objects.get(pk=county_user.pk)
    assert user.get_all_permissions() == ModelBackend().get_all_permissions(fresh)
    assert user.get_user_permissions() == ModelBackend().get_user_permissions(fresh) == set()
    assert group_names(user) == set(COUNTY_ROLES) == group_names(fresh)
    assert access.is_custodian(user) and not access.is_custodian(cast["supervisor"])


def test_a_permission_granted_is_seen_on_the_next_request(client, cast):
    client = verified_client(client, cast["clerk"])
    user = client.get("/staff/").wsgi_request.user
    assert not user.has_perm("casework.view_audit")
    assert "casework.view_audit" not in user.get_user_permissions()
    cast["clerk"].user_permissions.add(Permission.objects.get(codename="view_audit"))
    Group.objects.get(name=roles.CLERK).permissions.add(
        Permission.objects.get(codename="decide_identity")
    )
    user = client.get("/staff/").wsgi_request.user
    assert user.has_perm("casework.view_audit") and user.has_perm("casework.decide_identity")
    assert user.get_user_permissions() == {"casework.view_audit"}
    assert not access.is_custodian(user)  # the permission without the custodian's group


# --- PostgreSQL: the plans ------------------------------------------------------------------

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="plans and partial indexes are PostgreSQL's"
)


def explain(sql):
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql)
        return "\n".join(row[0] for row in cursor.fetchall())


@postgres_only
@pytest.mark.parametrize("who", ["county", "province"])
def test_the_case_counts_read_the_live_cases_index(client, cast, township, county_user, who):
    """3,000 archived cases and 3 live ones: the counts start from the partial index of the
    live cases (case_township_live_idx), never from the whole table; so do the reports' from
    an index of their status (3,000 closed, 2 awaiting review)."""
    Case.objects.bulk_create(
        Case(
            number=f"AR-{i:05d}",
            township=township,
            category=Category.SEX_DETERMINATION,
            title="案件",
            state=State.ARCHIVED,
            opened_by=cast["clerk"],
            decision_due=timezone.localdate(),
            closed_at=timezone.now(),
            feedback_given_at=timezone.now(),
        )
        for i in range(3000)
    )
    for i in range(3):
        make_case(township, cast["clerk"], f"LIVE-{i}", State.ACCEPTED)
    Report.objects.bulk_create(
        Report(
            receipt_hash=f"{i:064d}",
            channel=Channel.WEB,
            category=Category.SEX_DETERMINATION,
            township=township,
            description="已办结",
            status=Report.Status.CLOSED,
        )
        for i in range(3000)
    )
    for _ in range(2):
        new_report(township)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE casework_case")
        cursor.execute("ANALYZE tipline_report")
    if who == "province":
        user = get_user_model().objects.create_superuser("root", "root@example.invalid", "pw")
    else:
        user = county_user
    client = verified_client(client, user)
    client.get("/staff/")
    with CaptureQueriesContext(connection) as ctx:
        client.get("/staff/")
    (cases,) = [q["sql"] for q in ctx.captured_queries if 'FROM "casework_case"' in q["sql"]]
    plan = explain(cases)
    assert "case_township_live_idx" in plan and "Seq Scan on casework_case" not in plan, plan
    (reports,) = [q["sql"] for q in ctx.captured_queries if 'FROM "tipline_report"' in q["sql"]]
    assert "Seq Scan" not in explain(reports), explain(reports)
