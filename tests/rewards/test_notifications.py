"""Who hears of a reward: proposed → the supervisors who may approve it (not its proposer);
offered → the reporter (a text saying only that there is news, if they asked for it); claimed →
finance; lapsing in 5 working days → the reporter, once. Events are recorded in the services'
transactions and sent by the sweep."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from casework.rewards import services as rewards
from notifications import delivery, sms
from notifications.deadline_scan import scan
from notifications.models import Delivery, Event

from .helpers import ACCOUNT, BANK, approve, filed, investigate, penalize, reward_of

pytestmark = pytest.mark.django_db
PHONE = "13712340000"


@pytest.fixture(autouse=True)
def _texts_in_memory(settings):
    settings.TIPLINE_SMS_BACKEND = "notifications.sms.LocmemBackend"
    sms.outbox.clear()
    yield
    sms.outbox.clear()


def inbox(kind):
    return {
        d.recipient.username
        for d in Delivery.objects.filter(event__kind=kind, channel="inbox").select_related(
            "recipient"
        )
    }


@pytest.fixture
def asked_for_news(township, cast, units):
    """A case at 查处 whose reward is proposed for a reporter who asked to be texted."""
    report, receipt = filed(township, reporter_phone=PHONE, news_by_sms=True)
    case = penalize(investigate(report, cast, units), cast)
    return reward_of(case), receipt


def test_each_step_tells_the_people_who_act_next(asked_for_news, cast):
    reward, receipt = asked_for_news
    assert reward.proposed_by == cast["supervisor"]
    cast["leader"]  # a second county supervisor, who may approve it
    delivery.sweep()
    # Four eyes: the proposer may not approve his own proposal, so he is not asked to.
    assert inbox("reward.proposed") == {"leader"}

    texted = len(sms.outbox)  # the acceptance was news too
    approve(reward, cast["leader"])
    delivery.sweep()
    offered = Event.objects.get(kind="reward.offered")
    assert offered.data["reports"] == [str(reward.report_id)]
    assert [phone for phone, _text in sms.outbox[texted:]] == [PHONE]
    text = sms.outbox[-1][1]
    # Only that there is news: no amount, no receipt, no case number.
    assert "3000" not in text and receipt not in text and reward.case.number not in text

    rewards.claim(reward.pk, receipt, **BANK, account_number=ACCOUNT)
    delivery.sweep()
    assert inbox("reward.claimed") == {"finance"}
    body = Delivery.objects.get(event__kind="reward.claimed", channel="inbox").body
    for secret in (BANK["payee_name"], BANK["bank_name"], ACCOUNT, ACCOUNT.replace(" ", "")):
        assert secret not in body


def test_a_refused_approval_records_no_event(asked_for_news, cast):
    reward, _receipt = asked_for_news
    before = Event.objects.count()
    with pytest.raises(rewards.ServiceError):
        approve(reward, cast["investigator"])  # the case's own investigator may not approve
    assert Event.objects.count() == before


def test_the_reporter_hears_once_five_working_days_before_the_reward_lapses(
    asked_for_news, cast, monkeypatch
):
    reward, _receipt = asked_for_news
    reward = approve(reward, cast["leader"])
    due = reward.claim_due
    tz = ZoneInfo("Asia/Shanghai")
    # Five working days before the deadline, worked out by hand for the deadline in force.
    from org.deadlines import subtract_working_days

    notice_day = subtract_working_days(due, 5)
    assert notice_day < due

    def at(day: date):
        moment = datetime(day.year, day.month, day.day, 9, tzinfo=tz)
        monkeypatch.setattr(timezone, "now", lambda: moment)

    at(notice_day)
    scan()
    assert Event.objects.filter(kind="reward.lapsing").count() == 1
    assert scan() == 0  # idempotent: nothing new for any deadline
    at(due)
    scan()  # due today: nothing more for the reporter
    events = Event.objects.filter(kind="reward.lapsing")
    assert [(e.data["deadline"], e.data["stage"]) for e in events] == [("reward_claim", "soon")]
    assert events.get().data["reports"] == [str(reward.report_id)]


def test_a_claimed_reward_is_not_reminded(asked_for_news, cast, monkeypatch):
    reward, receipt = asked_for_news
    reward = approve(reward, cast["leader"])
    rewards.claim(reward.pk, receipt, **BANK, account_number=ACCOUNT)
    from org.deadlines import subtract_working_days

    day = subtract_working_days(reward.claim_due, 1)
    moment = datetime(day.year, day.month, day.day, 9, tzinfo=ZoneInfo("Asia/Shanghai"))
    monkeypatch.setattr(timezone, "now", lambda: moment)
    scan()
    assert not Event.objects.filter(kind="reward.lapsing").exists()
