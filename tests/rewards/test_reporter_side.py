"""What the reporter sees of their reward on the receipt page and through the status API."""

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from casework import services
from casework.rewards import services as rewards
from tipline.openapi import schema

from .helpers import ACCOUNT, BANK, approve, filed, pay, reward_of

pytestmark = pytest.mark.django_db

STATUS = "/api/v1/receipt/status"
CSS = Path(settings.BASE_DIR) / "static" / "tipline.css"


def page(client, receipt) -> str:
    response = client.post("/receipt/", {"receipt": receipt})
    assert response.status_code == 200
    return response.content.decode()


def api(client, receipt) -> dict:
    response = client.post(STATUS, json.dumps({"receipt": receipt}), "application/json")
    assert response.status_code == 200
    return response.json()


@pytest.fixture
def freeze(monkeypatch):
    def _freeze(moment: datetime):
        monkeypatch.setattr(timezone, "now", lambda: moment)

    return _freeze


def test_nothing_while_proposed(client, proposed):
    _reward, receipt = proposed
    assert 'id="reward"' not in page(client, receipt)
    assert api(client, receipt)["reward"] is None


def test_the_offer_in_plain_chinese_with_deadline_and_working_days(client, proposed, cast, freeze):
    reward, receipt = proposed
    freeze(datetime(2026, 9, 30, 2, 0, tzinfo=UTC))
    approve(reward, cast["leader"])
    freeze(datetime(2026, 11, 9, 2, 0, tzinfo=UTC))  # a Monday; 2026-11-17 is the last day
    html = page(client, receipt)
    assert "您的举报已核实" in html
    assert "3000.00" in html
    assert "2026-11-17" in html
    # 10–13, 16, 17 November: six working days after today.
    assert "还剩 6 个工作日" in html
    assert "银行转账" in html and "当面领取" in html
    assert 'action="/receipt/claim/"' in html  # a plain form: no JavaScript needed
    assert "<script" not in html
    assert api(client, receipt)["reward"] == {
        "state": "approved",
        "amount": "3000.00",
        "currency": "CNY",
        "claim_deadline": "2026-11-17",
        "working_days_left": 6,
        "method": None,
        "paid_on": None,
    }
    freeze(datetime(2026, 11, 17, 2, 0, tzinfo=UTC))
    assert "今天是最后一天" in page(client, receipt)


def test_the_receipt_page_stays_small(client, approved):
    _reward, receipt = approved
    response = client.post("/receipt/", {"receipt": receipt})
    total = len(response.content) + CSS.stat().st_size
    assert total <= 20 * 1024, total


def test_claimed_paid_and_lapsed_are_shown(client, approved, cast):
    reward, receipt = approved
    rewards.claim(reward.pk, receipt, **BANK, account_number=ACCOUNT)
    html = page(client, receipt)
    assert 'id="reward-claimed"' in html and "银行转账" in html
    assert ACCOUNT not in html and "农业银行" not in html  # the payee is never shown back
    assert api(client, receipt)["reward"]["state"] == "claimed"
    pay(reward, cast["finance"], paid_on=date(2026, 3, 2))
    html = page(client, receipt)
    assert 'id="reward-paid"' in html and "2026-03-02" in html
    body = api(client, receipt)["reward"]
    assert (body["state"], body["paid_on"], body["method"]) == ("paid", "2026-03-02", "bank")
    assert 'id="claim-form"' not in html


def test_the_reporter_sees_a_lapse(client, approved):
    reward, receipt = approved
    rewards.lapse_overdue(today=reward.claim_due.fromordinal(reward.claim_due.toordinal() + 1))
    html = page(client, receipt)
    assert 'id="reward-lapsed"' in html
    assert api(client, receipt)["reward"]["state"] == "lapsed"
    assert api(client, receipt)["reward"]["working_days_left"] is None


def test_only_the_report_that_earned_it_sees_the_reward(client, township, cast, units, approved):
    reward, receipt = approved
    later, later_receipt = filed(township)
    services.link_report(later.pk, reward.case_id, cast["clerk"])
    assert 'id="reward"' not in page(client, later_receipt)
    assert api(client, later_receipt)["reward"] is None
    assert 'id="reward"' in page(client, receipt)


def test_the_openapi_document_describes_the_reward(client, db):
    doc = schema()
    status = doc["components"]["schemas"]["ReportStatus"]
    assert "reward" in status["required"]
    reward = status["properties"]["reward"]
    assert reward["nullable"] is True
    assert set(reward["required"]) == {
        "state",
        "amount",
        "currency",
        "claim_deadline",
        "working_days_left",
    }
    assert reward["properties"]["amount"]["type"] == "string"
    assert "proposed" not in reward["properties"]["state"]["enum"]
    served = client.get("/api/v1/openapi.json").json()
    assert served["components"]["schemas"]["ReportStatus"]["properties"]["reward"] == reward


def test_every_api_reward_matches_its_schema(client, claimed):
    """The served object has exactly the documented keys, of the documented types."""
    _reward, receipt = claimed
    body = api(client, receipt)["reward"]
    props = schema()["components"]["schemas"]["ReportStatus"]["properties"]["reward"]["properties"]
    assert set(body) == set(props)
    assert body["state"] in props["state"]["enum"]
    assert isinstance(body["amount"], str) and body["amount"] == "3000.00"
    assert reward_of  # (helpers imported for the fixtures)
