"""Races between staff acting on the same row at the same moment (PostgreSQL only).

Each test commits its data (transaction=True) and then starts threads with their own database
connections, held at a barrier so they really run into each other. SQLite serialises writers on
the whole database and ignores SELECT … FOR UPDATE, so these tests prove nothing there.

A transactional test's flush empties tables filled by data migrations; the default case-file
checklist is put back by a fixture so these tests do not depend on running first.
"""

import importlib
import threading
import time

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection

from casework import audit, services
from casework.models import AuditEntry, Case, DocumentType, State
from tipline.models import Report

from ..threads import race
from .conftest import new_report
from .test_workflow import file_docs

pytestmark = [
    pytest.mark.skipif(
        "postgresql" not in settings.DATABASES["default"]["ENGINE"],
        reason="row locks (SELECT … FOR UPDATE) need PostgreSQL; SQLite serialises all writers",
    ),
    pytest.mark.django_db(transaction=True),
]

TIMEOUT = 30


@pytest.fixture(autouse=True)
def default_checklist(transactional_db):
    defaults = importlib.import_module("casework.migrations.0003_default_checklist").DEFAULTS
    for code, name, order, when, generated in defaults:
        DocumentType.objects.get_or_create(
            code=code,
            defaults={"name": name, "order": order, "required_when": when, "generated": generated},
        )


def reload_user(user):
    """Each thread gets its own user instance (permission caches are per instance)."""
    return get_user_model().objects.get(pk=user.pk)


def transitions_of(case):
    return AuditEntry.objects.filter(
        action="case.transition", object_type="casework.case", object_id=str(case.pk)
    )


def assert_one_winner(outcomes, loser_types=(services.CaseChanged,)):
    winners = [result for result, exc in outcomes if exc is None]
    losers = [exc for result, exc in outcomes if exc is not None]
    assert len(winners) == 1, outcomes
    assert len(losers) == len(outcomes) - 1
    for exc in losers:
        assert isinstance(exc, loser_types), repr(exc)
    return winners[0]


@pytest.mark.parametrize("expected_state", ["accepted", None])
def test_two_start_investigation_one_wins(investigating_case_factory, cast, expected_state):
    case = investigating_case_factory(start=False)
    a, b = reload_user(cast["investigator"]), reload_user(cast["supervisor"])
    outcomes = race(
        lambda: services.start_investigation(case.pk, a, expected_state=expected_state),
        lambda: services.start_investigation(case.pk, b, expected_state=expected_state),
    )
    winner = assert_one_winner(outcomes)
    assert winner.state == State.INVESTIGATING
    assert Case.objects.get(pk=case.pk).state == State.INVESTIGATING
    assert transitions_of(case).count() == 1
    ok, message = audit.verify()
    assert ok, message
    call_command("verify_audit")


def test_penalize_against_unfounded_one_wins(investigating_case_factory, cast):
    case = investigating_case_factory(start=True)
    file_docs(case, cast["investigator"], "penalty_decision")
    s1, s2 = reload_user(cast["supervisor"]), reload_user(cast["supervisor"])
    outcomes = race(
        lambda: services.penalize(case.pk, s1, "罚款三万元", expected_state="investigating"),
        lambda: services.find_unfounded(case.pk, s2, "查无实据", expected_state="investigating"),
    )
    winner = assert_one_winner(outcomes)
    stored = Case.objects.get(pk=case.pk)
    assert stored.state == winner.state
    assert stored.state in (State.PENALIZED, State.UNFOUNDED)
    assert (stored.penalized_at is not None) == (stored.state == State.PENALIZED)
    [entry] = transitions_of(case).filter(data__source="investigating")
    assert entry.data["target"] == stored.state
    assert audit.verify()[0]


def test_double_penalize_without_expected_state(investigating_case_factory, cast):
    """The second click of a double-submitted form must not run the step twice."""
    case = investigating_case_factory(start=True)
    file_docs(case, cast["investigator"], "penalty_decision")
    s1, s2 = reload_user(cast["supervisor"]), reload_user(cast["supervisor"])
    outcomes = race(
        lambda: services.penalize(case.pk, s1, "罚款"),
        lambda: services.penalize(case.pk, s2, "罚款"),
    )
    assert_one_winner(outcomes, loser_types=(services.ServiceError,))
    assert Case.objects.get(pk=case.pk).state == State.PENALIZED
    assert transitions_of(case).filter(data__target="penalized").count() == 1
    assert audit.verify()[0]


def test_two_clerks_open_cases_at_once_get_distinct_numbers(township, cast):
    from .conftest import make_staff

    second_clerk = make_staff("clerk2", "clerk", cast["clerk"].staff_profile.unit)
    r1, r2 = new_report(township), new_report(township)
    c1, c2 = reload_user(cast["clerk"]), reload_user(second_clerk)
    outcomes = race(
        lambda: services.open_case(r1.pk, c1),
        lambda: services.open_case(r2.pk, c2),
    )
    assert [exc for _r, exc in outcomes] == [None, None]
    numbers = sorted(case.number for case, _e in outcomes)
    assert len(set(numbers)) == 2
    assert all(n.startswith("ZHONGSHUI-") for n in numbers)
    assert [n.rsplit("-", 1)[1] for n in numbers] == ["0001", "0002"]
    assert Case.objects.count() == 2
    assert set(Report.objects.values_list("status", flat=True)) == {"accepted"}
    assert audit.verify()[0]


def test_two_clerks_triage_the_same_report(report, cast):
    """Open-case and reject on one report at once: exactly one decision stands."""
    clerk, supervisor = reload_user(cast["clerk"]), reload_user(cast["supervisor"])
    outcomes = race(
        lambda: services.open_case(report.pk, clerk),
        lambda: services.reject_report(report.pk, supervisor, "no_facts", ""),
    )
    assert_one_winner(outcomes, loser_types=(services.ServiceError,))
    report.refresh_from_db()
    assert report.status in (Report.Status.ACCEPTED, Report.Status.REJECTED)
    assert Case.objects.count() == (1 if report.status == Report.Status.ACCEPTED else 0)
    assert report.messages.count() == 1
    assert audit.verify()[0]


def test_concurrent_audit_records_keep_the_chain(cast):
    threads, per_thread = 6, 15
    users = [reload_user(cast["auditor"]) for _ in range(threads)]

    def writer(n):
        def write():
            for i in range(per_thread):
                audit.record(users[n], "document.viewed", object_type="test", object_id=n, i=i)
            return n

        return write

    before = AuditEntry.objects.count()
    outcomes = race(*(writer(n) for n in range(threads)))
    assert [exc for _r, exc in outcomes] == [None] * threads
    assert AuditEntry.objects.count() == before + threads * per_thread
    ok, message = audit.verify()
    assert ok, message
    # Each entry points at the one before it: no two entries share a predecessor.
    prevs = list(AuditEntry.objects.values_list("prev_hash", flat=True))
    assert len(prevs) == len(set(prevs))
    call_command("verify_audit")


def test_concurrent_first_audit_records_create_one_head():
    """With an empty log, several first writers race to create the head row."""
    from casework.models import AuditHead

    assert not AuditHead.objects.exists()
    outcomes = race(
        *(
            (lambda n=n: audit.record(None, "document.viewed", object_type="test", object_id=n))
            for n in range(4)
        )
    )
    assert [exc for _r, exc in outcomes] == [None] * 4
    assert AuditHead.objects.count() == 1
    assert AuditHead.objects.get().count == 4
    ok, message = audit.verify()
    assert ok, message


def test_link_report_and_transition_on_one_case_do_not_deadlock(case, township, cast, units):
    """Locking a case or a report must not also lock its township row.

    Staged: a third transaction holds the township row (any triage in that township does);
    link_report(R, C) queues for it, then start_investigation(C) locks C and queues too. When the
    township is released, link_report must not end up waiting for C while start_investigation
    waits for the township (PostgreSQL would abort one with "deadlock detected").
    """
    from django.db import transaction

    from org.models import Township

    repeat = new_report(township)
    services.assign(
        case.pk, cast["supervisor"], unit_id=units["zs_fp"].pk, investigator=cast["investigator"]
    )
    clerk, investigator = reload_user(cast["clerk"]), reload_user(cast["investigator"])
    holding, release = threading.Event(), threading.Event()
    results = {}

    def hold_township():
        try:
            with transaction.atomic():
                Township.objects.select_for_update().get(pk=township.pk)
                holding.set()
                release.wait(TIMEOUT)
        finally:
            connection.close()

    def call(key, func):
        def run():
            try:
                results[key] = func()
            except Exception as exc:
                results[key] = exc
            finally:
                connection.close()

        return threading.Thread(target=run)

    holder = threading.Thread(target=hold_township)
    holder.start()
    assert holding.wait(TIMEOUT)
    linker = call("link", lambda: services.link_report(repeat.pk, case.pk, clerk))
    linker.start()
    time.sleep(0.5)
    starter = call("start", lambda: services.start_investigation(case.pk, investigator))
    starter.start()
    time.sleep(0.5)
    release.set()
    for thread in (holder, linker, starter):
        thread.join(TIMEOUT)
    assert not any(isinstance(v, Exception) for v in results.values()), results
    stored = Case.objects.get(pk=case.pk)
    assert stored.state == State.INVESTIGATING
    assert stored.reports.count() == 2
    assert audit.verify()[0]


@pytest.fixture
def investigating_case_factory(township, cast, units):
    def make(start: bool):
        case = services.open_case(new_report(township).pk, cast["clerk"])
        services.assign(
            case.pk,
            cast["supervisor"],
            unit_id=units["zs_fp"].pk,
            investigator=cast["investigator"],
        )
        if start:
            services.start_investigation(case.pk, cast["investigator"])
        return Case.objects.get(pk=case.pk)

    return make
