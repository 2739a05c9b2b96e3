"""The one status a reporter reads: derived from the report, case and reward states in one place
(casework.rewards.citizen_status), said once on the receipt page and in the status API, whatever
staff have or have not written to the reporter."""

import json
import re
from datetime import date, timedelta

import pytest
from django.utils import timezone, translation

from casework import services
from casework.models import Case
from casework.rewards import services as rewards
from casework.rewards.citizen_status import Stage, derive, reward_state_seen
from casework.rewards.models import Reward
from tipline.models import ReportMessage

from .helpers import ACCOUNT, BANK, approve, filed, investigate, pay, penalize, reward_of

pytestmark = pytest.mark.django_db

# (report state, case state, reward state the reporter can see) → what the reporter reads.
# A reward still only proposed is not shown to the reporter: it reads as no reward (None).
TABLE = [
    ("received", None, None, "已收到，等待受理审查"),
    ("rejected", None, None, "不予受理"),
    ("accepted", "accepted", None, "已受理，正在调查"),
    ("accepted", "investigating", None, "已受理，正在调查"),
    ("accepted", "penalized", None, "已作出处理决定"),
    ("accepted", "unfounded", None, "已作出处理决定"),
    ("accepted", "transferred", None, "已作出处理决定"),
    ("accepted", "penalized", "approved", "已作出处理决定，奖励待领取"),
    ("accepted", "transferred", "approved", "已作出处理决定，奖励待领取"),
    ("accepted", "penalized", "claimed", "奖励已申领，等待支付"),
    ("accepted", "rewarded", "paid", "奖励已支付"),
    ("accepted", "penalized", "lapsed", "奖励逾期未领取"),
    ("accepted", "penalized", "cancelled", "奖励已撤销"),
    ("accepted", "unfounded", "cancelled", "奖励已撤销"),  # a falsified case's reward
    ("closed", "archived", "paid", "已办结"),
    ("closed", "archived", "lapsed", "已办结"),
    ("closed", "archived", None, "已办结"),
]
EVERY_LABEL = {row[3] for row in TABLE}


@pytest.mark.parametrize("report_state, case_state, reward_state, words", TABLE)
def test_the_one_status_of_every_combination(report_state, case_state, reward_state, words):
    with translation.override("zh-hans"):
        assert str(derive(report_state, case_state, reward_state).label) == words


def test_every_stage_is_reachable_and_has_its_own_words():
    stages = {derive(*row[:3]) for row in TABLE}
    assert stages == set(Stage)
    with translation.override("zh-hans"):
        assert len({str(s.label) for s in Stage}) == len(Stage)


def test_an_offer_past_its_claim_day_reads_as_not_claimed_in_time():
    reward = Reward(state="approved", claim_due=date(2026, 11, 17))
    assert reward_state_seen(reward, date(2026, 11, 17)) == "approved"  # the last day
    assert reward_state_seen(reward, date(2026, 11, 18)) == "lapsed"
    assert reward_state_seen(None, date(2026, 11, 18)) is None


# --- on the page and in the API ----------------------------------------------------------------


def status_lines(html: str) -> list[str]:
    return re.findall(r'<p class="status status-[a-z_]+" id="report-status">([^<]*)</p>', html)


def seen(client, receipt) -> tuple[str, str, str]:
    """(the page's one status line, the API's status_label, the API's stage); the page names
    no other status anywhere."""
    html = client.post("/receipt/", {"receipt": receipt}).content.decode()
    lines = status_lines(html)
    assert len(lines) == 1, lines
    assert html.count('id="report-status"') == 1
    others = {label for label in EVERY_LABEL if label != lines[0] and label not in lines[0]}
    assert not [label for label in others if label in html], "a second, competing status"
    body = client.post(
        "/api/v1/receipt/status", json.dumps({"receipt": receipt}), "application/json"
    ).json()
    return lines[0], body["status_label"], body["stage"]


def test_the_page_says_one_status_through_a_reports_life(client, township, cast, units):
    report, receipt = filed(township, reporter_name="李举报", reporter_phone="13912345678")
    assert seen(client, receipt) == ("已收到，等待受理审查", "已收到，等待受理审查", "received")

    case = investigate(report, cast, units)
    assert seen(client, receipt) == ("已受理，正在调查", "已受理，正在调查", "investigating")

    case = penalize(case, cast)  # the reward is proposed: not shown yet
    assert seen(client, receipt)[0] == "已作出处理决定"
    # Staff tell the reporter the outcome: a message, not a second status.
    services.give_feedback(case.pk, cast["supervisor"], "已依法查处，罚款三万元。")
    assert ReportMessage.objects.filter(report=report, visible_to_reporter=True).exists()
    assert seen(client, receipt)[0] == "已作出处理决定"

    reward = approve(reward_of(case), cast["leader"])
    assert seen(client, receipt) == (
        "已作出处理决定，奖励待领取",
        "已作出处理决定，奖励待领取",
        "reward_offered",
    )
    rewards.claim(reward.pk, receipt, **BANK, account_number=ACCOUNT)
    assert seen(client, receipt)[2] == "reward_claimed"
    pay(reward, cast["finance"])
    assert seen(client, receipt) == ("奖励已支付", "奖励已支付", "reward_paid")
    assert Case.objects.get(pk=case.pk).state == "rewarded"


def test_a_rejected_report_says_so_once(client, township, cast):
    report, receipt = filed(township)
    services.reject_report(report.pk, cast["clerk"], "no_facts", "没有具体对象。")
    assert seen(client, receipt)[:2] == ("不予受理", "不予受理")


def test_an_offer_left_unclaimed_reads_as_such_before_the_nightly_lapse(
    client, township, cast, units
):
    report, receipt = filed(township)
    reward = approve(reward_of(penalize(investigate(report, cast, units), cast)), cast["leader"])
    Reward.objects.filter(pk=reward.pk).update(claim_due=timezone.localdate() - timedelta(days=1))
    assert seen(client, receipt)[0] == "奖励逾期未领取"


def test_with_nothing_coming_the_page_says_so_instead_of_an_empty_list(
    client, township, cast, units
):
    report, receipt = filed(township)
    case = investigate(report, cast, units)
    Case.objects.filter(pk=case.pk).update(state="unfounded", feedback_due=None)
    html = client.post("/receipt/", {"receipt": receipt}).content.decode()
    steps = html.split('id="next-steps"', 1)[1].split("</section>", 1)[0]
    assert "目前无需您做什么：举报的新进展会显示在本页。" in steps
    assert status_lines(html) == ["已作出处理决定"]
