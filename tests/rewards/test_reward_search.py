"""The rewards list: searched by case number, state and township (the user's own), with the
count it shows; each role's home card opens it filtered to what the card counts."""

import re

import pytest

from casework.rewards import services as rewards

from .helpers import approve, filed, investigate, penalize, reward_of

pytestmark = pytest.mark.django_db


def penalized(township, cast, units):
    report, receipt = filed(township)
    return reward_of(penalize(investigate(report, cast, units), cast)), receipt


def shown_count(html):
    return int(re.search(r'id="result-count">共 (\d+) 件<', html).group(1))


def listed(html):
    table = re.search(r'<table[^>]*id="reward-list".*?</table>', html, re.S).group(0)
    return re.findall(r'href="/staff/rewards/(\d+)/"', table)


@pytest.fixture
def three(township, cast, units):
    """Two proposed rewards and one claimed."""
    first, _ = penalized(township, cast, units)
    penalized(township, cast, units)
    claimed, receipt = penalized(township, cast, units)
    approve(claimed, cast["leader"])
    rewards.claim(claimed.pk, receipt, method="in_person")
    return first, claimed


def test_each_reward_card_counts_what_its_list_shows(three, cast, login):
    for who, card in (("supervisor", "rewards-proposed"), ("finance", "rewards-claimed")):
        client = login(cast[who])
        home = client.get("/staff/").content.decode()
        url, text = re.search(rf'<a href="([^"]+)" id="{card}">([^<]+)</a>', home).groups()
        n = int(re.search(r"\d+", text).group(0))
        html = client.get(url.replace("&amp;", "&")).content.decode()
        assert shown_count(html) == n == len(listed(html))
        assert shown_count(client.get("/staff/rewards/").content.decode()) == 3 != n


def test_search_by_case_number_and_township(three, cast, login, township, other_township):
    first, claimed = three
    client = login(cast["finance"])
    html = client.get(f"/staff/rewards/?number={first.case.number.lower()}").content.decode()
    assert listed(html) == [str(first.pk)] and shown_count(html) == 1
    html = client.get(f"/staff/rewards/?state=claimed&township={township.pk}").content.decode()
    assert listed(html) == [str(claimed.pk)]
    assert (
        listed(client.get(f"/staff/rewards/?township={other_township.pk}").content.decode()) == []
    )
    for bad in ("township=999999", "township=abc", "state=bogus"):
        response = client.get(f"/staff/rewards/?{bad}")
        assert response.status_code == 400 and listed(response.content.decode()) == []
