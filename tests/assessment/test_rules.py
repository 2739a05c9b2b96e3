"""Each rule of the township score pinned with hand-computed numbers (no database).

Deductions are positive numbers of points taken off; net = section total + reporting-system
points − deductions, and nothing caps it.
"""

from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from casework.assessment import scoring
from casework.assessment.scoring import (
    CaseRepeat,
    FalsifiedCase,
    MissingDocument,
    TownshipInputs,
    compute,
)

TZ = ZoneInfo("Asia/Shanghai")
WINDOW = timedelta(days=30)
BOTH = {"reporting_phone": "0000-1234567", "reporting_mailbox": "镇政府门口"}


def town(**figures) -> TownshipInputs:
    return TownshipInputs(township="t", name="T", **{**BOTH, **figures})


def missing(n, case="T-2026-0001"):
    return tuple(MissingDocument(case, f"doc {i}") for i in range(n))


def at(*args):
    return datetime(*args, tzinfo=TZ)


# --- the section --------------------------------------------------------------------------


def test_quota_zero_without_cases_scores_the_whole_section():
    s = compute(town(quota=0))
    # 60 (quota 0) + 40 (nothing decided, quota 0) + 100 (no file to miss anything)
    assert (s.quota_points, s.on_time_points, s.file_points) == (60, 40, 100)
    assert s.section_total == Decimal("200.00")
    assert s.shortfall_deduction == 0 and not s.bottom_band
    assert s.net == Decimal("205.00")  # + 5 for phone and mailbox


def test_no_cases_against_a_quota():
    s = compute(town(quota=4))
    # 60 × 0/4 = 0; nothing decided with a quota: 0; files 100. Shortfall 20 × ⌊100 × 4/4⌋.
    assert (s.quota_points, s.on_time_points, s.file_points) == (0, 0, 100)
    assert s.section_total == 100
    assert s.shortfall_deduction == 2000
    assert s.bottom_band
    assert s.net == Decimal(100 + 5 - 2000)


def test_exactly_half_the_quota_is_not_the_bottom_band():
    s = compute(town(quota=10, handled=5, decided=5, decided_on_time=5))
    assert s.quota_points == 30  # 60 × 5/10
    assert s.shortfall_deduction == 1000  # 20 × ⌊100 × 5/10⌋ = 20 × 50
    assert not s.bottom_band
    assert s.section_total == Decimal("170.00")  # 30 + 40 + 100
    assert s.net == Decimal(170 + 5 - 1000)


def test_49_percent_is_the_bottom_band():
    s = compute(town(quota=100, handled=49, decided=49, decided_on_time=49))
    assert s.quota_points == Decimal("29.4")  # 60 × 49/100
    assert s.shortfall_deduction == 1020  # 20 × 51
    assert s.bottom_band
    assert s.section_total == Decimal("169.40")


def test_more_than_the_quota_scores_60_and_no_shortfall():
    s = compute(town(quota=3, handled=7, decided=7, decided_on_time=7))
    assert s.quota_points == 60
    assert s.shortfall_deduction == 0
    assert not s.bottom_band
    assert s.section_total == 200


def test_shortfall_counts_whole_percentage_points_only():
    # 2 of 3: 100 × 1/3 = 33.3… percentage points below → 33 → 660
    s = compute(town(quota=3, handled=2, decided=2, decided_on_time=2))
    assert s.shortfall_deduction == 660
    assert s.quota_points == 40  # 60 × 2/3
    # 6 of 7: 14.28… → 14 → 280; 60 × 6/7 = 51.428571…
    s = compute(town(quota=7, handled=6, decided=6, decided_on_time=6))
    assert s.shortfall_deduction == 280
    assert s.section_total == Decimal("191.43")  # 51.428571… + 40 + 100, rounded


def test_on_time_share_and_rounding_of_the_section_only():
    # 60 × 2/7 = 17.142857…; 40 × 1/3 = 13.333…; 100 → 130.476190… → 130.48
    s = compute(town(quota=7, handled=2, decided=3, decided_on_time=1))
    assert s.section_total == Decimal("130.48")
    assert float(s.quota_points) == pytest.approx(120 / 7)
    assert float(s.on_time_points) == pytest.approx(40 / 3)
    # the JSON carries the components unrounded and the total rounded
    row = s.as_json()
    assert row["section_total"] == 130.48
    assert row["quota_points"] == pytest.approx(17.142857142857142)


def test_decided_cases_with_a_quota_of_zero_are_judged_on_time():
    s = compute(town(quota=0, handled=1, decided=4, decided_on_time=3))
    assert s.on_time_points == 30  # 40 × 3/4, the quota-0 rule is only for "nothing decided"


def test_more_missing_documents_than_the_file_score_absorbs():
    s = compute(town(quota=0, decided=1, decided_on_time=1, missing=missing(7)))
    assert s.missing_documents == 7
    assert s.file_points == 0  # 100 − 140, not below 0
    assert s.section_total == 100  # 60 + 40 + 0
    s = compute(town(quota=0, decided=1, decided_on_time=1, missing=missing(3)))
    assert s.file_points == 40  # 100 − 60


def test_a_deduction_larger_than_the_section():
    s = compute(
        town(
            quota=2,
            handled=1,
            decided=1,
            decided_on_time=0,
            missing=missing(5),
            repeats=(CaseRepeat("T-1", 3), CaseRepeat("T-2", 2)),
            falsified=(FalsifiedCase("T-1"), FalsifiedCase("T-3")),
        )
    )
    # section: 60 × 1/2 = 30, on time 0, files 0 → 30
    assert s.section_total == 30
    assert s.repeat_deduction == 50  # 30 + 20
    assert s.falsified_deduction == 100  # 2 × 50
    assert s.shortfall_deduction == 1000  # 20 × 50
    assert s.net == Decimal(30 + 5 - 50 - 100 - 1000)  # −1115: not capped
    assert [d.as_json() for d in s.deductions] == [
        {"rule": "repeat", "case": "T-1", "points": 30},
        {"rule": "repeat", "case": "T-2", "points": 20},
        {"rule": "falsified", "case": "T-1", "points": 50},
        {"rule": "falsified", "case": "T-3", "points": 50},
        {"rule": "shortfall", "case": None, "points": 1000},
    ]


def test_a_repeat_count_of_one_costs_nothing():
    s = compute(town(quota=0, repeats=(CaseRepeat("T-1", 1),)))
    assert s.repeat_deduction == 0 and s.deductions == ()


@pytest.mark.parametrize(
    ("phone", "mailbox", "points"),
    [
        ("0000-1", "门口", Decimal(5)),
        ("0000-1", "", Decimal("2.5")),
        ("", "门口", Decimal("2.5")),
        ("", "", Decimal(0)),
        ("  ", " ", Decimal(0)),
    ],
)
def test_reporting_system_points(phone, mailbox, points):
    s = compute(TownshipInputs("t", "T", reporting_phone=phone, reporting_mailbox=mailbox))
    assert s.reporting_system_points == points
    assert s.net == 200 + points


def test_json_numbers_are_numbers():
    row = compute(town(quota=0, reporting_mailbox="")).as_json()
    assert row["reporting_system_points"] == 2.5 and isinstance(row["net"], float)
    assert row["section_total"] == 200 and isinstance(row["section_total"], int)
    assert row["bottom_band"] is False


def test_ranking_by_net_with_shared_ranks():
    scores = [
        compute(TownshipInputs(code, code, quota=q, handled=h))
        for code, q, h in (("a", 4, 2), ("b", 0, 0), ("c", 0, 0), ("d", 4, 4))
    ]
    ranked = scoring.ranked(scores)
    assert [(s.township, s.rank) for s in ranked] == [("b", 1), ("c", 1), ("d", 3), ("a", 4)]


def test_a_bottom_band_township_ranks_below_one_outside_it_with_a_lower_net():
    """后三类 is a place in the ranking, not only a flag. By hand:
    band — quota 10, handled 4 (40% < 50%: the band), decided 4 on time: 60 × 4/10 = 24, 40,
      files 100 → 164; shortfall 20 × ⌊100 × 6/10⌋ = 1200; phone and box 5 → net −1031.
    low — quota 2, handled 1 (exactly 50%: not the band), decided 1 late: 30, 0, five documents
      missing → 0 → 30; a case reported three times −30, two falsified −100, shortfall
      20 × ⌊100 × 1/2⌋ = 1000; 5 → net −1095.
    top — quota 0: 200 + 5 = 205.
    By net alone band (−1031) would rank above low (−1095); the band goes below every other."""
    band = TownshipInputs("band", "B", quota=10, handled=4, decided=4, decided_on_time=4, **BOTH)
    low = TownshipInputs(
        "low",
        "L",
        quota=2,
        handled=1,
        decided=1,
        decided_on_time=0,
        missing=missing(5),
        repeats=(scoring.CaseRepeat("L-1", 3),),
        falsified=(scoring.FalsifiedCase("L-2"), scoring.FalsifiedCase("L-3")),
        **BOTH,
    )
    top = TownshipInputs("top", "T", quota=0, **BOTH)
    scores = {s.township: s for s in map(compute, (band, low, top))}
    assert scores["band"].net == Decimal(-1031) and scores["band"].bottom_band
    assert scores["low"].net == Decimal(-1095) and not scores["low"].bottom_band
    ranked = scoring.ranked(list(scores.values()))
    assert [(s.township, s.rank) for s in ranked] == [("top", 1), ("low", 2), ("band", 3)]


def test_within_the_band_by_net_and_equal_nets_share_a_rank():
    # a: quota 4, handled 0 → 0 + 0 + 100 = 100 − 2000 + 5 = −1895 (band)
    # b, c: quota 10, handled 4 as above → −1031 each (band); d: quota 0 → 205
    a = TownshipInputs("a", "A", quota=4, **BOTH)
    b = TownshipInputs("b", "B", quota=10, handled=4, decided=4, decided_on_time=4, **BOTH)
    c = replace(b, township="c")
    d = TownshipInputs("d", "D", quota=0, **BOTH)
    ranked = scoring.ranked([compute(x) for x in (a, b, c, d)])
    assert [(s.township, s.rank, float(s.net)) for s in ranked] == [
        ("d", 1, 205),
        ("b", 2, -1031),
        ("c", 2, -1031),
        ("a", 4, -1895),
    ]


def test_a_township_without_a_quota_is_not_ranked_and_comes_last():
    """No quota set for the year: figured as quota 0 (200 + 2.5 = 202.5, above every other
    here) but not ranked: rank None, after the ranked townships."""
    unset = TownshipInputs("a-unset", "U", quota_set=False, reporting_phone="0000-1")
    working = TownshipInputs("z", "Z", quota=2, handled=2, decided=2, decided_on_time=2, **BOTH)
    ranked = scoring.ranked([compute(unset), compute(working)])
    assert [(s.township, s.rank, float(s.net)) for s in ranked] == [
        ("z", 1, 205),
        ("a-unset", None, 202.5),
    ]
    row = ranked[1].as_json()
    assert row["rank"] is None and row["quota_set"] is False
    assert ranked[0].as_json()["quota_set"] is True


# --- repeat counts ----------------------------------------------------------------------------


def test_two_reports_exactly_30_days_apart_count():
    first = at(2026, 3, 1, 9, 0)
    assert scoring.repeat_count([first, first + timedelta(days=30)], WINDOW) == 2
    assert scoring.repeat_points(2) == 20


def test_30_days_and_one_minute_apart_do_not():
    first = at(2026, 3, 1, 9, 0)
    later = first + timedelta(days=30, minutes=1)
    assert scoring.repeat_count([first, later], WINDOW) == 1
    assert scoring.repeat_points(1) == 0


def test_three_reports_in_one_window():
    first = at(2026, 5, 1, 8, 0)
    times = [first, first + timedelta(days=12), first + timedelta(days=29)]
    assert scoring.repeat_count(times, WINDOW) == 3
    assert scoring.repeat_points(3) == 30
    assert scoring.repeat_points(6) == 30  # three or more


def test_the_largest_window_counts():
    base = at(2026, 1, 10)
    # 1 Jan-ish report alone, then four within 20 days in spring: the count is 4, not 5
    times = [base, *(base + timedelta(days=d) for d in (60, 65, 70, 80))]
    assert scoring.repeat_count(times, WINDOW) == 4
    assert scoring.repeat_window(times, WINDOW) == times[1:]


def test_reports_of_20_december_and_5_january_never_combine():
    december, january = at(2025, 12, 20, 10), at(2026, 1, 5, 10)  # 16 days apart
    assert scoring.repeat_count([december, january], WINDOW) == 2  # one window if years mixed
    years = scoring.by_local_year([december, january])
    assert {year: scoring.repeat_count(t, WINDOW) for year, t in years.items()} == {
        2025: 1,
        2026: 1,
    }


def test_years_are_local_years():
    # 31 Dec 2025 17:00 UTC is 1 Jan 2026 01:00 in China
    utc = datetime(2025, 12, 31, 17, tzinfo=ZoneInfo("UTC"))
    assert set(scoring.by_local_year([utc])) == {2026}
