"""Repeat suggestions: normalising, the reasons and score of each, what is never suggested,
and a bounded number of queries however many reports exist."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from casework import services
from casework.assessment import repeats
from casework.assessment import services as assessment
from casework.models import Case
from tipline.models import Category, Report

from .conftest import make_report

pytestmark = pytest.mark.django_db

SUBJECT = {"subject_name": "李记诊所", "subject_address": "中水镇人民路8号"}


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("王氏Ｂ超室", "王氏b超室"),  # full-width letter
        ("李记　诊所（东街）", "李记诊所东街"),  # ideographic space, full-width brackets
        ("人民路８号，二楼", "人民路8号二楼"),  # full-width digit, Chinese comma
        ("  Li-Ji  Clinic. ", "lijiclinic"),
        ("", ""),
    ],
)
def test_normalise(raw, normal):
    assert repeats.normalise(raw) == normal


def case_for(cast, township, **subject):
    return services.open_case(make_report(township, **subject).pk, cast["supervisor"])


def test_same_phone_similar_name_and_address(cast, township):
    target = case_for(cast, township, subject_phone="13912345678", **SUBJECT)
    new = make_report(
        township,
        subject_name="李记　诊所",
        subject_address="中水镇人民路８号",
        subject_phone="13912345678",
    )
    [s] = repeats.suggest(new)
    assert s.case == target
    kinds = {r.kind: r for r in s.reasons}
    assert set(kinds) == {"phone", "name", "address", "category"}
    assert kinds["name"].similarity == 100 and kinds["address"].similarity == 100
    # 40 (phone) + 30 (name 100%) + 20 (address 100%) + 10 (category)
    assert s.score == 100


def test_phone_alone_finds_a_case_of_another_category_and_older_than_the_window(
    clock, cast, township
):
    clock.set(2024, 1, 10, 9)
    old = case_for(
        cast, township, subject_phone="13912345678", category=Category.ABORTION_DRUG_SALE
    )
    clock.set(2026, 3, 1, 9)
    new = make_report(township, subject_phone="13912345678", subject_name="完全不同")
    [s] = repeats.suggest(new)
    assert s.case == old
    assert [(r.kind, r.points) for r in s.reasons] == [("phone", 40)]
    assert s.score == 40


def test_weak_and_excluded_candidates_are_not_suggested(cast, township, other_township):
    unrelated = case_for(cast, township, subject_name="某药店", subject_address="北街1号")
    case_for(cast, other_township, **SUBJECT)  # another township
    archived = case_for(cast, township, **SUBJECT)
    Case.objects.filter(pk=archived.pk).update(state="archived")  # archived cases cannot be linked
    dismissed = case_for(cast, township, **SUBJECT)
    kept = case_for(cast, township, **SUBJECT)
    new = make_report(township, **SUBJECT)
    assessment.dismiss_suggestion(new.pk, dismissed.pk, cast["clerk"])
    suggested = [s.case for s in repeats.suggest(new)]
    assert suggested == [kept]
    assert unrelated not in suggested


def test_recent_first_and_at_most_five(clock, cast, township):
    cases = []
    for day in range(1, 8):
        clock.set(2026, 3, day, 9)
        cases.append(case_for(cast, township, **SUBJECT))
    clock.set(2026, 3, 20, 9)
    suggested = repeats.suggest(make_report(township, **SUBJECT))
    assert [s.case for s in suggested] == cases[::-1][:5]


def test_the_latest_linked_report_makes_a_case_recent(clock, cast, township):
    clock.set(2026, 3, 1, 9)
    older = case_for(cast, township, **SUBJECT)
    clock.set(2026, 3, 5, 9)
    newer = case_for(cast, township, **SUBJECT)
    clock.set(2026, 3, 10, 9)
    services.link_report(make_report(township, **SUBJECT).pk, older.pk, cast["clerk"])
    clock.set(2026, 3, 12, 9)
    assert [s.case for s in repeats.suggest(make_report(township, **SUBJECT))] == [older, newer]


def test_only_untriaged_reports_get_suggestions(cast, township):
    case_for(cast, township, **SUBJECT)
    new = make_report(township, **SUBJECT)
    assert repeats.report_panel(new, cast["clerk"])["suggestions"]
    services.reject_report(new.pk, cast["clerk"], "already_handled", "")
    new.refresh_from_db()
    assert repeats.report_panel(new, cast["clerk"]) == {"suggestions": []}


def test_suggestions_read_a_bounded_number_of_rows_and_queries(cast, township):
    """Candidates come from the indexes (phone, the township's recent open cases), capped:
    with many reports the number of queries is the same and the compared reports are only
    those of the candidate cases."""
    case_for(cast, township, subject_phone="13912345678", **SUBJECT)
    new = make_report(township, subject_phone="13912345678", **SUBJECT)
    with CaptureQueriesContext(connection) as few:
        assert repeats.suggest(new)
    # many old reports elsewhere in time, never linked: they are not candidates
    old = timezone.now() - timedelta(days=400)
    Report.objects.bulk_create(
        [
            Report(
                receipt_hash=f"h{i}",
                channel="web",
                category=Category.SEX_DETERMINATION,
                township=township,
                description="x",
                subject_name="李记诊所",
                received_at=old,
            )
            for i in range(300)
        ]
    )
    with CaptureQueriesContext(connection) as many:
        assert len(repeats.suggest(new)) == 1
    assert len(few.captured_queries) == len(many.captured_queries) <= 5
    sql = " ".join(q["sql"] for q in many.captured_queries)
    assert "subject_phone_index" in sql
