"""Rate limits: counted before they are checked (so parallel requests cannot slip under them),
IPv6 bucketed by /64, and a guesser with many addresses slowed down without locking citizens out.

The concurrency tests run on whatever cache the settings name: the in-process cache here, Redis
in CI (CACHE_URL), where several processes share the counters.
"""

import threading
import time
from types import SimpleNamespace

import pytest

from tipline import services, throttle

# 300 s into a 900 s window (and a whole number of pace slots), so no test straddles a boundary.
NOW = 900 * 2_000_000 + 300
TIMEOUT = 30


@pytest.fixture
def clock(monkeypatch):
    state = SimpleNamespace(now=float(NOW))
    monkeypatch.setattr(throttle, "time", SimpleNamespace(time=lambda: state.now))
    return state


@pytest.fixture
def limits(settings):
    """Small, explicit limits: 5 wrong receipts per client, 20 for everyone, 3 per network."""
    settings.TIPLINE_RATE_LIMITS = {
        **settings.TIPLINE_RATE_LIMITS,
        "receipt_fail_per_client": (5, 900),
        "receipt_fail_global": (20, 900),
        "receipt_fail_per_network": (3, 900),
    }
    settings.TIPLINE_RECEIPT_PACE_SECONDS = 30
    return settings.TIPLINE_RATE_LIMITS


def in_parallel(n, call):
    """Run ``call(i)`` in n threads released together; return [(result, exception)]."""
    barrier = threading.Barrier(n)
    outcomes = [None] * n

    def run(i):
        try:
            barrier.wait(timeout=TIMEOUT)
            outcomes[i] = (call(i), None)
        except Exception as exc:
            outcomes[i] = (None, exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=TIMEOUT)
    assert not any(t.is_alive() for t in threads)
    return outcomes


class FakeReceipts:
    """Stands in for the Argon2id look-up: slow (so racing requests overlap), counts each call."""

    def __init__(self, right=(), delay=0.0):
        self.right, self.delay = set(right), delay
        self.checked = 0
        self.lock = threading.Lock()

    def __call__(self, receipt):
        with self.lock:
            self.checked += 1
        time.sleep(self.delay)
        return object() if receipt in self.right else None


@pytest.fixture
def fake(monkeypatch):
    receipts = FakeReceipts(right={"1" * 16})
    monkeypatch.setattr(services, "find_by_receipt", receipts)
    return receipts


RIGHT, WRONG = "1" * 16, "2" * 16


def guess(address, receipt=WRONG):
    """One receipt look-up from ``address``: 'found', 'wrong' or 'throttled'."""
    try:
        found = services.lookup_receipt(
            receipt, throttle.client_bucket(address), throttle.network_bucket(address)
        )
    except throttle.Throttled:
        return "throttled"
    return "found" if found is not None else "wrong"


# --- buckets ----------------------------------------------------------------------------------


def test_ipv6_addresses_of_one_64_share_a_bucket():
    a = throttle.client_bucket("2001:db8:1:2::1")
    assert throttle.client_bucket("2001:db8:1:2:ffff:ffff:ffff:fffe") == a
    assert throttle.client_bucket("[2001:db8:1:2::99]") == a
    assert throttle.client_bucket("2001:db8:1:3::1") != a
    # The network is the /48.
    assert throttle.network_bucket("2001:db8:1:3::1") == throttle.network_bucket("2001:db8:1::1")
    assert throttle.network_bucket("2001:db8:2::1") != throttle.network_bucket("2001:db8:1::1")


def test_ipv4_bucket_is_the_address_and_its_network_the_24():
    assert throttle.client_bucket("::ffff:203.0.113.7") == throttle.client_bucket("203.0.113.7")
    assert throttle.client_bucket("203.0.113.8") != throttle.client_bucket("203.0.113.7")
    assert throttle.network_bucket("203.0.113.8") == throttle.network_bucket("203.0.113.200")
    assert throttle.network_bucket("203.0.114.8") != throttle.network_bucket("203.0.113.8")
    # Not an address at all: its own bucket, no error.
    assert throttle.client_bucket("unknown") == throttle.client_bucket("unknown")


# --- counted before checked -------------------------------------------------------------------


def test_parallel_takes_never_pass_the_limit(limits):
    outcomes = in_parallel(40, lambda i: throttle.take("receipt_fail_per_client", "b"))
    admitted = [r for r, exc in outcomes if exc is None]
    refused = [exc for _r, exc in outcomes if exc is not None]
    assert len(admitted) == 5
    assert len(refused) == 35 and all(isinstance(e, throttle.Throttled) for e in refused)
    assert throttle.current("receipt_fail_per_client", "b") == 5


def test_forty_parallel_wrong_receipts_check_only_the_limit(limits, settings, fake, clock):
    # One client only: a global budget this burst cannot reach (in flight, refused attempts
    # count for a moment before they are given back).
    limits["receipt_fail_global"] = (1000, 900)
    fake.delay = 0.05  # each check overlaps every other one
    outcomes = in_parallel(40, lambda i: guess("203.0.113.7"))
    results = [r for r, _exc in outcomes]
    # Five checked within the limit, and one more on the first paced slot.
    assert fake.checked == 6
    assert results.count("wrong") == 6
    assert results.count("throttled") == 34


# --- one client: a pace, never a lock-out ----------------------------------------------------


def test_after_the_limit_a_client_is_paced_not_locked_out(limits, fake, clock):
    for _ in range(5):
        assert guess("203.0.113.7") == "wrong"
    assert guess("203.0.113.7") == "wrong"  # the first paced try of this 30 s slot
    with pytest.raises(throttle.Throttled) as exc:
        services.lookup_receipt(RIGHT, throttle.client_bucket("203.0.113.7"))
    assert 0 < exc.value.retry_after <= 31
    assert fake.checked == 6  # the refused look-up was not even tried
    # A neighbour behind the same carrier address waits one slot, then gets in.
    clock.now += 30
    assert guess("203.0.113.7", RIGHT) == "found"
    assert guess("203.0.113.7", RIGHT) == "throttled"
    clock.now += 30
    assert guess("203.0.113.7") == "wrong"
    # Another address was never affected.
    assert guess("198.51.100.2", RIGHT) == "found"


def test_right_receipts_never_count(limits, fake, clock):
    for _ in range(50):
        assert guess("203.0.113.7", RIGHT) == "found"
    for _ in range(5):
        assert guess("203.0.113.7") == "wrong"
    assert throttle.current("receipt_fail_per_client", throttle.client_bucket("203.0.113.7")) == 5


def test_rotating_ipv6_addresses_in_one_64_does_not_help(limits, fake, clock):
    for i in range(5):
        assert guess(f"2001:db8:1:2::{i + 1:x}") == "wrong"
    assert guess("2001:db8:1:2::ff") == "wrong"  # paced
    assert guess("2001:db8:1:2::fe") == "throttled"
    assert fake.checked == 6


# --- many addresses: slowed to one guess each, citizens still served --------------------------


def test_a_guesser_with_sixty_addresses_cannot_lock_citizens_out(limits, fake, clock):
    attacker = [f"192.0.2.{i}" for i in range(1, 61)]
    outcomes = {"wrong": 0, "throttled": 0}
    for _round in range(10):
        for address in attacker:
            outcomes[guess(address)] += 1
    # The global budget is 20 and every address of the guesser is in one /24 network: after
    # the budget, its network has used up its share and every further guess is refused.
    assert outcomes["wrong"] == 20
    assert fake.checked == 20
    # A citizen from a clean address is served; the right receipt works at once.
    assert guess("203.0.113.7", RIGHT) == "found"
    # A clean citizen who mistypes gets one wrong answer, then waits for the window.
    assert guess("198.51.100.9") == "wrong"
    assert guess("198.51.100.9", RIGHT) == "throttled"
    clock.now += 600  # the window ends: everything back to normal
    assert guess("198.51.100.9", RIGHT) == "found"
    assert guess(attacker[0]) == "wrong"


def test_past_the_budget_each_address_gets_one_guess_and_each_network_a_few(limits, fake, clock):
    for i in range(20):  # the global budget, spent from twenty networks
        assert guess(f"10.{i}.0.1") == "wrong"
    # Attack mode: one guess for a clean address, none for one that already failed...
    assert guess("10.0.0.1") == "throttled"
    assert guess("10.50.0.1") == "wrong"
    assert guess("10.50.0.1") == "throttled"
    # ... and at most three in one network (IPv6 /48), however many /64s it has.
    results = [guess(f"2001:db8:7:{i:x}::1") for i in range(10)]
    assert results == ["wrong"] * 3 + ["throttled"] * 7
    assert fake.checked == 20 + 1 + 3


def test_counts_of_refused_attempts_are_given_back(limits, fake, clock):
    for _ in range(5):
        guess("203.0.113.7")
    guess("203.0.113.7")  # paced try
    for _ in range(20):
        guess("203.0.113.7")  # refused: must not spend the global budget
    assert throttle.current("receipt_fail_global", throttle.GLOBAL) == 6
