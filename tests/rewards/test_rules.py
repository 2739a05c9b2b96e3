"""Who earns the reward (first eligible report, each exclusion with its reason) and how much
(the policy in force on the day of the proposal, by category and outcome, capped)."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.utils import timezone, translation

from casework import services
from casework.models import AuditEntry
from casework.rewards import services as rewards
from casework.rewards.eligibility import REASONS
from casework.rewards.models import Reward, RewardPolicy, RewardTier
from tipline.models import Channel

from .helpers import filed, investigate, penalize, reward_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def freeze(monkeypatch):
    def _freeze(moment: datetime):
        monkeypatch.setattr(timezone, "now", lambda: moment)

    return _freeze


def case_of(reports, cast, units):
    """A case opened from the first report, the others linked in order (received and accepted
    in the same order here; the test below makes the two orders disagree)."""
    case = investigate(reports[0], cast, units)
    for report in reports[1:]:
        services.link_report(report.pk, case.pk, cast["clerk"])
    return case


def reasons(reward_or_case):
    if isinstance(reward_or_case, Reward):
        return [item["reasons"] for item in reward_or_case.selection]
    entry = AuditEntry.objects.filter(action="reward.not_proposed").last()
    return [item["reasons"] for item in entry.data["selection"]]


# --- eligibility --------------------------------------------------------------------------------


def test_the_first_received_report_wins_later_ones_are_passed_over(township, cast, units):
    first, _ = filed(township, reporter_phone="13900000001")
    second, _ = filed(township, reporter_phone="13900000002")
    third, _ = filed(township)
    case = penalize(case_of([first, second, third], cast, units), cast)
    reward = reward_of(case)
    assert reward.report_id == first.pk
    assert reasons(reward) == [["chosen"], ["later"], ["later"]]
    assert [item["report"] for item in reward.selection] == [
        str(first.pk),
        str(second.pk),
        str(third.pk),
    ]


def test_the_report_received_first_wins_though_it_was_accepted_later(township, cast, units, freeze):
    """A tip phoned in on 1 March 09:00 (the arrival time the clerk typed when entering it on 5
    March) and a web report received on 3 March 10:00. The clerk opens the case from the web
    report on 3 March and links the phoned tip on 5 March. Received: phoned, web. Accepted:
    web, phoned. The reward goes to the phoned tip, the first report received."""
    from zoneinfo import ZoneInfo

    from tipline import services as intake

    bj = ZoneInfo("Asia/Shanghai")
    freeze(datetime(2026, 3, 3, 10, 0, tzinfo=bj))
    web, _ = filed(township)
    case = investigate(web, cast, units)
    freeze(datetime(2026, 3, 5, 15, 0, tzinfo=bj))
    data = intake.ReportInput(
        category="sex_determination", township_id=township.id, description="电话举报：某诊所"
    )
    phoned, _receipt = services.register_staff_tip(
        cast["clerk"], data, Channel.PHONE, received_at=datetime(2026, 3, 1, 9, 0, tzinfo=bj)
    )
    rewards.mark_report(phoned.pk, cast["clerk"], receipt_issued=True)
    services.link_report(phoned.pk, case.pk, cast["clerk"])
    web.refresh_from_db()
    phoned.refresh_from_db()
    assert phoned.received_at < web.received_at  # received: phoned first
    assert web.accepted_at < phoned.accepted_at  # accepted: web first

    reward = reward_of(penalize(case, cast))
    assert reward.report_id == phoned.pk
    assert [item["report"] for item in reward.selection] == [str(phoned.pk), str(web.pk)]
    assert reasons(reward) == [["chosen"], ["later"]]


def test_equal_arrival_times_go_by_report_id_not_by_acceptance(township, cast, units, freeze):
    """Two reports received at the same second: the lower report id wins (a fixed order the
    clerk cannot influence), though the case was opened from the other one."""
    from zoneinfo import ZoneInfo

    bj = ZoneInfo("Asia/Shanghai")
    freeze(datetime(2026, 3, 3, 10, 0, tzinfo=bj))
    one, _ = filed(township)
    two, _ = filed(township)
    low, high = sorted((one, two), key=lambda r: r.pk)
    case = investigate(high, cast, units)  # accepted at 10:00
    freeze(datetime(2026, 3, 3, 11, 0, tzinfo=bj))
    services.link_report(low.pk, case.pk, cast["clerk"])  # accepted at 11:00
    reward = reward_of(penalize(case, cast))
    assert reward.report_id == low.pk
    assert [item["report"] for item in reward.selection] == [str(low.pk), str(high.pk)]


@pytest.mark.parametrize(
    ("mark", "reason"),
    [
        ({"falsified": True}, "falsified"),
        ({"reporter_is_staff": True}, "staff"),
        ({"reporter_is_involved": True}, "involved"),
    ],
)
def test_marked_reports_are_passed_over_with_their_reason(township, cast, units, mark, reason):
    first, _ = filed(township)
    second, _ = filed(township)
    rewards.mark_report(first.pk, cast["clerk"], **mark)
    reward = reward_of(penalize(case_of([first, second], cast, units), cast))
    assert reward.report_id == second.pk
    assert reasons(reward) == [[reason], ["chosen"]]


def test_a_staff_entered_tip_needs_its_receipt_handed_over(township, cast, units):
    from tipline import services as intake

    data = intake.ReportInput(
        category="sex_determination", township_id=township.id, description="电话举报：某诊所"
    )
    phoned, _receipt = services.register_staff_tip(cast["clerk"], data, Channel.PHONE)
    written, _ = filed(township)
    case = case_of([phoned, written], cast, units)
    assert reasons(reward_of(penalize(case, cast))) == [["no_receipt"], ["chosen"]]

    # Once the clerk records that the reporter has the receipt, the phoned tip is first.
    phoned2, _r = services.register_staff_tip(cast["clerk"], data, Channel.WALK_IN)
    rewards.mark_report(phoned2.pk, cast["clerk"], receipt_issued=True)
    written2, _ = filed(township)
    case2 = penalize(case_of([phoned2, written2], cast, units), cast)
    assert reward_of(case2).report_id == phoned2.pk


def test_the_same_reporter_is_recognised_by_blind_index(township, cast, units):
    """A second report by the chosen reporter (same phone, typed differently) is passed over as
    the same reporter, recognised without decrypting anything."""
    first, _ = filed(township, reporter_phone="13812345678")
    again, _ = filed(township, reporter_phone="13812345678", reporter_name="别名")
    by_id, _ = filed(township, reporter_id_number="11010519491231002X")
    other, _ = filed(township, reporter_phone="13700000000")
    case = case_of([first, again, by_id, other], cast, units)
    reward = reward_of(penalize(case, cast))
    assert reasons(reward) == [["chosen"], ["same_reporter"], ["later"], ["later"]]


def test_the_same_reporter_by_id_number(township, cast, units):
    first, _ = filed(township, reporter_id_number="11010519491231002X")
    again, _ = filed(township, reporter_id_number="11010519491231002X", reporter_name="另一名")
    reward = reward_of(penalize(case_of([first, again], cast, units), cast))
    assert reasons(reward) == [["chosen"], ["same_reporter"]]


def test_no_eligible_report_no_reward_and_the_case_page_says_why(township, cast, units, login):
    first, _ = filed(township)
    rewards.mark_report(first.pk, cast["clerk"], falsified=True)
    case = penalize(case_of([first], cast, units), cast)
    assert not Reward.objects.exists()
    assert reasons(case) == [["falsified"]]
    client = login(cast["supervisor"])
    html = client.get(f"/staff/cases/{case.pk}/").content.decode()
    with translation.override("zh-hans"):
        assert str(REASONS["falsified"]) in html
    assert 'id="no-reward"' in html
    # Correcting the mark and proposing by hand gives the reward.
    rewards.mark_report(first.pk, cast["clerk"], falsified=False)
    response = client.post(f"/staff/rewards/propose/{case.pk}/")
    assert response.status_code == 302
    assert reward_of(case).report_id == first.pk


def test_marks_are_audited_without_identity(township, cast):
    report, _ = filed(township, reporter_name="王秘密")
    rewards.mark_report(report.pk, cast["clerk"], reporter_is_involved=True, note="系当事人亲属")
    entry = AuditEntry.objects.get(action="reward.marks_changed")
    assert entry.data == {"reporter_is_involved": True}
    assert "王秘密" not in str(entry.data)
    with pytest.raises(services.NotAllowed):
        rewards.mark_report(report.pk, cast["investigator"], falsified=True)


# --- policy ---------------------------------------------------------------------------------


def test_the_policy_in_force_on_the_day_of_the_proposal(township, cast, units, freeze):
    county_policy = RewardPolicy.objects.create(
        county=township.county,
        effective_from=date(2026, 6, 1),
        default_amount=Decimal("5000.00"),
        claim_window_days=45,
    )
    before, _ = filed(township)
    after, _ = filed(township)
    freeze(datetime(2026, 5, 31, 15, 59, tzinfo=UTC))  # 23:59 on 31 May in Beijing
    early = reward_of(penalize(investigate(before, cast, units), cast))
    freeze(datetime(2026, 5, 31, 16, 0, tzinfo=UTC))  # 00:00 on 1 June in Beijing
    late = reward_of(penalize(investigate(after, cast, units), cast))
    assert (early.amount, early.claim_window_days, early.policy.county) == (
        Decimal("3000.00"),
        30,
        None,
    )
    assert (late.amount, late.claim_window_days, late.policy) == (
        Decimal("5000.00"),
        45,
        county_policy,
    )
    # Changing the policy later never changes a reward already proposed.
    county_policy.default_amount = Decimal("9000.00")
    county_policy.save()
    assert Reward.objects.get(pk=late.pk).amount == Decimal("5000.00")


def test_tiers_by_category_and_outcome_and_the_cap(township):
    policy = RewardPolicy.objects.create(
        county=township.county,
        effective_from=date(2020, 1, 1),
        default_amount=Decimal("3000.00"),
        cap=Decimal("10000.00"),
    )
    RewardTier.objects.create(
        policy=policy, category="abortion_drug_sale", outcome="penalized", amount=Decimal("1000")
    )
    RewardTier.objects.create(policy=policy, outcome="transferred", amount=Decimal("20000.00"))
    assert policy.amount_for("abortion_drug_sale", "penalized") == Decimal("1000.00")
    assert policy.amount_for("sex_determination", "penalized") == Decimal("3000.00")
    # 20000 for a transfer, held to the cap of 10000.
    assert policy.amount_for("sex_determination", "transferred") == Decimal("10000.00")
    assert policy.amount_for("abortion_drug_sale", "transferred") == Decimal("10000.00")


def test_the_built_in_default_when_no_policy_exists(township, cast, units):
    from casework.rewards.policy import in_force

    RewardPolicy.objects.all().delete()
    assert in_force(township.county_id, date(2026, 1, 1)).default_amount == Decimal("3000.00")
    report, _ = filed(township)
    reward = reward_of(penalize(investigate(report, cast, units), cast))
    assert (reward.amount, reward.policy, reward.claim_window_days) == (
        Decimal("3000.00"),
        None,
        30,
    )


def test_a_county_administrator_edits_the_policy_in_the_admin(township, units, login):
    """Administrators edit their county's policy (audited); the default one only superusers."""
    from org import roles
    from tests.casework.conftest import make_staff

    admin = make_staff("county_admin", roles.ADMINISTRATOR, units["county_fp"])
    admin.is_staff = True  # may use the admin site
    admin.save()
    client = login(admin)
    assert client.get("/admin/rewards/rewardpolicy/").status_code == 200
    data = {
        "county": township.county_id,
        "effective_from": "2027-01-01",
        "default_amount": "3000.00",
        "cap": "20000.00",
        "claim_window_days": "60",
        "note": "县政府2027年奖励办法",
        "tiers-TOTAL_FORMS": "1",
        "tiers-INITIAL_FORMS": "0",
        "tiers-MIN_NUM_FORMS": "0",
        "tiers-MAX_NUM_FORMS": "1000",
        "tiers-0-category": "",
        "tiers-0-outcome": "transferred",
        "tiers-0-amount": "10000.00",
    }
    response = client.post("/admin/rewards/rewardpolicy/add/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    policy = RewardPolicy.objects.get(county=township.county)
    assert policy.amount_for("other", "transferred") == Decimal("10000.00")
    entry = AuditEntry.objects.get(action="reward.policy_changed")
    assert entry.actor == admin
    assert entry.data["tiers"] == [["", "transferred", "10000.00"]]
    # The default policy is visible but not theirs to change.
    default = RewardPolicy.objects.get(county__isnull=True)
    response = client.post(
        f"/admin/rewards/rewardpolicy/{default.pk}/change/", {**data, "county": ""}
    )
    assert response.status_code == 403
    assert RewardPolicy.objects.get(pk=default.pk).claim_window_days == 30
