"""The figures read from the cases (inputs.county_inputs), made through the services with a
settable clock, and the fixed number of queries a county-year takes.

Interpretations pinned here (they are not spelt out by the rule):
- handled counts a case in every year in which it was penalized or transferred, so a case
  transferred in December and penalized in January is handled in both years;
- decided is the year of closed_at, which the first decision sets once: a case penalized after
  its transfer is decided in the year of the transfer only;
- on time compares the *local* date of closed_at with decision_due (the extension included);
- missing documents are counted as of now for the cases decided in the year;
- a falsified case stays handled and decided; the 50 points are a separate deduction in the year
  of the marking.
"""

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from casework import casefile, services
from casework.assessment import inputs, report
from casework.assessment import services as assessment
from casework.models import Case, DocumentType
from tipline.models import Category

from ..casework.conftest import new_report
from ..rewards import helpers as rewards_helpers
from .conftest import (
    ALL_DOCS,
    clean_png,
    decide,
    file_docs,
    investigate,
    local,
    make_report,
    open_case,
)

pytestmark = pytest.mark.django_db


def figures(county, year, code="zhongshui"):
    return next(i for i in inputs.county_inputs(county, year) if i.township == code)


def test_handled_decided_and_on_time(clock, cast, units, county, township, other_township):
    sup = cast["supervisor"]
    # A: accepted 1 Mar, penalized 10 Mar 2026 → handled, decided, on time (due 30 May)
    clock.set(2026, 3, 1, 9)
    a = investigate(cast, units, open_case(cast, township))
    clock.set(2026, 3, 10, 9)
    services.add_document(a.pk, sup, DocumentType.objects.get(code="penalty_decision"), clean_png())
    services.penalize(a.pk, sup, "罚款")
    # B: accepted 1 Nov 2025 (due 30 Jan 2026), unfounded 5 Feb 2026 → decided late
    clock.set(2025, 11, 1, 9)
    b = investigate(cast, units, open_case(cast, township))
    assert b.decision_due == date(2026, 1, 30)
    clock.set(2026, 2, 5, 9)
    services.find_unfounded(b.pk, sup, "查无实据")
    # C: transferred 20 Dec 2025, penalized 10 Jan 2026 → handled in both years, decided in 2025
    clock.set(2025, 12, 1, 9)
    c = investigate(cast, units, open_case(cast, township))
    clock.set(2025, 12, 20, 9)
    services.transfer(c.pk, sup, "县公安局", date(2025, 12, 20))
    clock.set(2026, 1, 10, 9)
    services.add_document(c.pk, sup, DocumentType.objects.get(code="penalty_decision"), clean_png())
    services.penalize(c.pk, sup, "罚款")
    # D: decided on its due date, late in the evening (local date counts): on time;
    # E: decided half an hour after the local midnight that ends its due date: late, although
    # the UTC date is still the due date.
    clock.set(2026, 6, 1, 9)
    d = investigate(cast, units, open_case(cast, township))
    e = investigate(cast, units, open_case(cast, township))
    assert d.decision_due == e.decision_due == date(2026, 8, 30)
    clock.set(2026, 8, 30, 23, 50)
    services.find_unfounded(d.pk, sup, "查无实据")
    clock.set(2026, 8, 31, 0, 30)
    services.find_unfounded(e.pk, sup, "查无实据")
    # F: extended once (due 29 Sep), decided 15 Sep: on time
    clock.set(2026, 6, 1, 9)
    f = investigate(cast, units, open_case(cast, township))
    services.extend_deadline(f.pk, sup, "需要补充调查")
    clock.set(2026, 9, 15, 9)
    services.transfer(f.pk, sup, "县公安局", date(2026, 9, 15))
    # G: still investigating; H: 西山镇, penalized 2026; I: closed at 00:10 on 1 Jan 2027
    investigate(cast, units, open_case(cast, township))
    decide(cast, units, other_township)
    clock.set(2026, 12, 1, 9)
    i = investigate(cast, units, open_case(cast, township))
    clock.set(2027, 1, 1, 0, 10)
    services.find_unfounded(i.pk, sup, "查无实据")

    zs = figures(county, 2026)
    assert (zs.handled, zs.decided, zs.decided_on_time) == (
        3,  # A (penalized), C (penalized in 2026), F (transferred)
        5,  # A, B, D, E, F
        3,  # A, D, F
    )
    assert (figures(county, 2026, "xishan").handled, figures(county, 2026, "xishan").decided) == (
        1,
        1,
    )
    last_year = figures(county, 2025)
    assert (last_year.handled, last_year.decided, last_year.decided_on_time) == (1, 1, 1)  # C
    next_year = figures(county, 2027)
    assert (next_year.handled, next_year.decided) == (0, 1)  # I


def test_missing_documents_match_the_case_file_rules(cast, units, county, township):
    """The SQL count follows DocumentType.applies_to for every kind of 'required when' and for
    a category-restricted type: counted by hand, and compared with casefile case by case."""
    DocumentType.objects.create(
        code="drug_sample", name="药品抽样记录", order=55, categories=[Category.ABORTION_DRUG_SALE]
    )
    DocumentType.objects.create(code="optional_photo", name="照片", order=56, required=False)
    # Every decided case has its registration form (decide files it). "always" leaves
    # acceptance_approval, interview_record, inspection_record and evidence: 4.
    penalized = decide(cast, units, township, docs=("penalty_decision",))  # 4 + 送达回证 + 结案报告
    unfounded = decide(cast, units, township, outcome="unfounded", docs=())  # 4 + 结案报告
    transferred = decide(cast, units, township, outcome="transfer", docs=("closing_report",))  # 4
    drug = decide(cast, units, township, category=Category.ABORTION_DRUG_SALE)  # 药品抽样记录
    complete = decide(cast, units, township)  # 0
    birth = decide(cast, units, township, birth_permit=True)  # 生育证原件
    # 奖励 through a real payment: approval files the 奖励审批表, payment the 支付凭证.
    rewarded = rewards_helpers.penalize(
        rewards_helpers.investigate(new_report(township), cast, units), cast
    )
    more = ("registration_form", *ALL_DOCS[:4], "service_receipt", "closing_report")
    file_docs(rewarded, cast["investigator"], more)
    rewards_helpers.pay_out(rewarded, cast)
    rewarded.refresh_from_db()
    assert rewarded.state == "rewarded"  # 0 missing: every document, both generated ones too
    investigate(cast, units, open_case(cast, township))  # not decided: not counted

    by_hand = {
        penalized.number: 6,
        unfounded.number: 5,
        transferred.number: 4,
        drug.number: 1,
        birth.number: 1,
    }
    got = figures(county, timezone.localdate(penalized.closed_at).year)
    counted: dict[str, int] = {}
    for m in got.missing:
        counted[m.case] = counted.get(m.case, 0) + 1
    assert counted == by_hand
    assert len(got.missing) == 17
    for case in (penalized, unfounded, transferred, drug, complete, birth, rewarded):
        rules = casefile.missing_documents(Case.objects.get(pk=case.pk))
        assert len(rules) == by_hand.get(case.number, 0), case.number
        assert {m.document for m in got.missing if m.case == case.number} == {t.name for t in rules}


def test_repeat_counts_per_case_and_year(clock, cast, county, township, other_township):
    def case_with_reports(*times, ts=township):
        first, *rest = times
        case = services.open_case(make_report(ts, first).pk, cast["supervisor"])
        for at in rest:
            services.link_report(make_report(ts, at).pk, case.pk, cast["supervisor"])
        return case

    exactly = case_with_reports(local(2026, 3, 1, 9), local(2026, 3, 31, 9))
    one_minute_more = case_with_reports(local(2026, 3, 1, 9), local(2026, 3, 31, 9, 1))
    three = case_with_reports(local(2026, 5, 1), local(2026, 5, 2), local(2026, 5, 30))
    across_years = case_with_reports(local(2025, 12, 20, 10), local(2026, 1, 5, 10))
    elsewhere = case_with_reports(
        local(2026, 7, 1), local(2026, 7, 2), ts=other_township
    )  # another township's deduction
    # reports not linked never count: one left awaiting triage, one rejected
    make_report(township, local(2026, 3, 2), subject_name="某诊所")
    rejected = make_report(township, local(2026, 3, 3))
    services.reject_report(rejected.pk, cast["clerk"], "no_facts", "")

    zs = figures(county, 2026)
    assert {r.case: r.count for r in zs.repeats} == {
        exactly.number: 2,
        one_minute_more.number: 1,
        three.number: 3,
    }
    assert across_years.number not in {r.case for r in zs.repeats}
    assert not figures(county, 2025).repeats  # 20 Dec is alone in 2025

    scores = {row["township"]: row for row in report.live_rows(county, 2026)}
    assert scores["zhongshui"]["deductions"] == [
        {"rule": "repeat", "case": exactly.number, "points": 20},
        {"rule": "repeat", "case": three.number, "points": 30},
    ]
    assert scores["zhongshui"]["repeat_deduction"] == 50
    assert scores["xishan"]["deductions"] == [
        {"rule": "repeat", "case": elsewhere.number, "points": 20}
    ]
    assert {row["township"]: row["repeat_deduction"] for row in report.live_rows(county, 2025)} == {
        "xishan": 0,
        "zhongshui": 0,
    }


def test_falsified_counts_in_the_year_it_is_marked(clock, cast, units, county, township):
    clock.set(2026, 11, 1, 9)
    case = decide(cast, units, township)
    clock.set(2026, 12, 31, 23, 30)  # 15:30 UTC: still 2026 locally
    assessment.mark_falsified(case.pk, cast["supervisor"], "核查属实", clean_png())
    assert [f.case for f in figures(county, 2026).falsified] == [case.number]
    assert not figures(county, 2027).falsified
    row = next(r for r in report.live_rows(county, 2026) if r["township"] == "zhongshui")
    assert row["falsified_deduction"] == 50
    assert row["handled"] == 1  # still handled: the deduction is separate


def _busy_county(cast, units, township, other_township, n):
    """n cases in each township with every kind of figure: decided, missing documents,
    repeats, falsified."""
    for i in range(n):
        ts = township if i % 2 else other_township
        case = decide(cast, units, ts, docs=("penalty_decision",) if i % 3 else ALL_DOCS)
        services.link_report(make_report(ts).pk, case.pk, cast["supervisor"])
        if i % 4 == 0:
            assessment.mark_falsified(case.pk, cast["supervisor"], "核查属实", clean_png())


def test_a_county_year_takes_a_fixed_number_of_queries(
    cast, units, county, township, other_township
):
    year = timezone.localdate().year
    _busy_county(cast, units, township, other_township, 2)
    with CaptureQueriesContext(connection) as few:
        small = report.live_rows(county, year)
    _busy_county(cast, units, township, other_township, 10)
    with CaptureQueriesContext(connection) as many:
        large = report.live_rows(county, year)
    assert sum(r["decided"] for r in small) == 2 and sum(r["decided"] for r in large) == 12
    assert sum(r["falsified_deduction"] for r in large) > sum(
        r["falsified_deduction"] for r in small
    )
    assert sum(len(r["missing"]) for r in large) > sum(len(r["missing"]) for r in small)
    # six for the cases, two for the sheet (template with its entries, adjustments)
    assert len(few.captured_queries) == len(many.captured_queries) == 8


def test_quota_not_set_counts_as_zero(cast, county, township):
    zs = figures(county, 2026)
    assert (zs.quota, zs.quota_set) == (0, False)
    admin = cast["supervisor"]
    admin.is_superuser = True
    assessment.set_quota(township.pk, 2026, 7, admin)
    zs = figures(county, 2026)
    assert (zs.quota, zs.quota_set) == (7, True)
    assert figures(county, 2027).quota_set is False


def test_the_window_is_a_setting(settings, clock, cast, county, township):
    settings.TIPLINE_REPEAT_WINDOW_DAYS = 10
    assert inputs.repeat_window() == timedelta(days=10)
    case = services.open_case(make_report(township, local(2026, 3, 1)).pk, cast["supervisor"])
    services.link_report(make_report(township, local(2026, 3, 12)).pk, case.pk, cast["clerk"])
    assert [r.count for r in figures(county, 2026).repeats] == [1]  # 11 days > 10
