"""Rate limits without tracking, that hold under concurrency and cannot be turned on citizens.

A client is known only by buckets: keyed hashes, under a key that rotates every day, of its
address (IPv4) or its /64 (IPv6: one household or phone, however many addresses it rotates
through) and of its network (IPv4 /24, IPv6 /48). Buckets live only in the cache, with a short
expiry, so yesterday's cannot be linked to today's and nothing about a visitor reaches a disk.

Every limit counts before it checks: the cache's ``add`` + ``incr`` are atomic (Redis, locmem),
so of forty parallel requests against a limit of five exactly five get through. On Redis the
counters of one step are created and incremented in one MULTI (one round trip for all of them).
An attempt that is refused, or that turns out not to count (a correct receipt), gives its count
back.

A tip line must keep taking reports when the shared cache (Redis) is down. Then each process
counts in its own memory (nothing reaches a disk, as with Redis) and allows its share of each
limit, rounded up: the limit divided by TIPLINE_WEB_WORKERS, so all web processes together stay
near the configured limit, and a client served by one process is held to less. The outage is
logged (never with a bucket) and the shared cache is tried again every few seconds.
"""

import contextlib
import hashlib
import hmac
import ipaddress
import logging
import math
import threading
import time
import weakref
from dataclasses import dataclass, field

import redis
from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from django.utils import timezone

from vault.keyring import get_keyring

log = logging.getLogger(__name__)

GLOBAL = "all"


class Throttled(Exception):
    def __init__(self, retry_after: int):
        super().__init__(f"retry after {retry_after}s")
        self.retry_after = max(1, int(retry_after))

    @property
    def minutes(self) -> int:
        return max(1, math.ceil(self.retry_after / 60))


# --- buckets --------------------------------------------------------------------------------


def _daily_key() -> bytes:
    day = timezone.localdate().isoformat().encode()
    return hmac.new(get_keyring().rate_limit_key, day, hashlib.sha256).digest()


def _digest(text: str) -> str:
    return hmac.new(_daily_key(), text.encode(), hashlib.sha256).hexdigest()[:32]


def _parts(address: str) -> tuple[str, str]:
    """(client, network) as text: IPv4 /32 and /24; IPv6 /64 and /48; anything else as is."""
    try:
        ip = ipaddress.ip_address(address.strip().strip("[]").split("%")[0])
    except ValueError:
        return address, address
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.version == 4:
        return str(ip), str(ipaddress.ip_network(f"{ip}/24", strict=False))
    return (
        str(ipaddress.ip_network(f"{ip}/64", strict=False)),
        str(ipaddress.ip_network(f"{ip}/48", strict=False)),
    )


def client_bucket(address: str) -> str:
    """The client's bucket: its IPv4 address, or its IPv6 /64, hashed under today's key."""
    return _digest(_parts(address)[0])


def network_bucket(address: str) -> str:
    """The client's network bucket: IPv4 /24 or IPv6 /48, hashed under today's key."""
    return _digest("net:" + _parts(address)[1])


# --- where the counters live -----------------------------------------------------------------

# What a cache that cannot be reached raises (redis-py's errors, or the socket's).
CACHE_ERRORS = (redis.exceptions.RedisError, OSError)
# While the shared cache is down, a request tries it again at most this often (per process).
RETRY_SECONDS = 5
# This process's counters while the shared cache is down. Large enough that a flood of buckets
# does not cull the counters that matter (each entry is a few hundred bytes).
_local = LocMemCache("tipline-throttle-fallback", {"OPTIONS": {"MAX_ENTRIES": 50_000}})
_outage_lock = threading.Lock()
_outage = {"since": None, "retry_at": 0.0}


def in_fallback() -> bool:
    """True while this process counts on its own because the shared cache did not answer."""
    return _outage["since"] is not None


def _cache_failed(exc: Exception) -> None:
    with _outage_lock:
        now = time.time()
        first = _outage["since"] is None
        if first:
            _outage["since"] = now
        _outage["retry_at"] = now + RETRY_SECONDS
    if first:
        # The error's class only: its text names the cache, never a client, but keep it short.
        log.warning(
            "rate-limit cache unreachable: counting in this process until it answers",
            extra={"error": type(exc).__name__},
        )


def _cache_answered() -> None:
    if _outage["since"] is None:
        return
    with _outage_lock:
        since, _outage["since"] = _outage["since"], None
    if since is not None:
        seconds = int(time.time() - since)
        log.warning("rate-limit cache answers again", extra={"seconds_in_fallback": seconds})


def _call(operation: str, *args, **kwargs):
    """(result, store): the operation on the shared cache, or on this process's counters while
    the shared cache is unreachable (then tried again every RETRY_SECONDS)."""
    if _outage["since"] is not None and time.time() < _outage["retry_at"]:
        return getattr(_local, operation)(*args, **kwargs), _local
    try:
        result = getattr(cache, operation)(*args, **kwargs)
    except CACHE_ERRORS as exc:
        _cache_failed(exc)
        return getattr(_local, operation)(*args, **kwargs), _local
    _cache_answered()
    return result, cache


# --- counters -------------------------------------------------------------------------------


def _window(name: str) -> tuple[int, int, int, int]:
    """(limit, window seconds, current slot, seconds until the next slot)."""
    limit, window = settings.TIPLINE_RATE_LIMITS[name]
    now = time.time()
    slot = int(now // window)
    return limit, window, slot, int((slot + 1) * window - now) + 1


def limit_of(name: str) -> int:
    return settings.TIPLINE_RATE_LIMITS[name][0]


def _limit_in(name: str, store) -> int:
    """The limit as one store applies it: all of it in the shared cache, this process's share
    (rounded up) in its own counters."""
    limit = limit_of(name)
    return limit if store is not _local else math.ceil(limit / settings.TIPLINE_WEB_WORKERS)


@dataclass
class Count:
    """One event counted in one bucket; ``give_back`` undoes it (at most once)."""

    key: str
    value: int
    retry_after: int
    limit: int = 0  # the limit that applies where it was counted
    store: object = field(default=None, repr=False)
    _returned: bool = field(default=False, repr=False)

    def give_back(self) -> None:
        if self._returned:
            return
        self._returned = True
        # ValueError: the window ended meanwhile, nothing left to give back. A cache that went
        # away keeps the count: erring towards the limit.
        with contextlib.suppress(ValueError, *CACHE_ERRORS):
            (self.store or cache).decr(self.key)


def _shared_redis():
    """The shared cache when it is Redis (Django's RedisCache), for counting in one round trip;
    None for any other cache (locmem in development), or while it is down and not yet due to
    be tried again."""
    shared = caches["default"]
    if not isinstance(shared, RedisCache):
        return None
    if _outage["since"] is not None and time.time() < _outage["retry_at"]:
        return None
    return shared


# The shared cache's write pool -> one client of it. Django builds a new redis.Redis per call,
# and redis-py's constructor costs about 0.1 ms of CPU (it copies its reply callbacks); a client
# holds no connection of its own (the pool does, and starts afresh in a forked process).
_clients: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _write_client(shared):
    backend = shared._cache
    pool = backend._get_connection_pool(True)  # the write pool, as get_client(write=True)
    client = _clients.get(pool)
    if client is None:
        client = _clients[pool] = backend._client(connection_pool=pool)
    return client


def _count_in_redis(shared, keys) -> list[int]:
    """Create each (key, timeout) at 0 if absent, then increment it: one MULTI in one round
    trip, so no key can expire between its creation and its increment, and no two callers see
    the same count. Values are stored as Django's cache.add/incr store them (plain integers)."""
    client = _write_client(shared)
    with client.pipeline(transaction=True) as pipe:
        for key, timeout in keys:
            full = shared.make_and_validate_key(key)
            pipe.set(full, 0, nx=True, ex=timeout)
            pipe.incr(full)
        return pipe.execute()[1::2]


def counts(*events: tuple[str, str]) -> list[Count]:
    """Count one event in each (limit name, bucket) now, in one round trip to Redis; the new
    counts in order (each atomic, as with count)."""
    slots = []
    for name, bucket in events:
        _limit, window, slot, retry_after = _window(name)
        slots.append((name, f"rl:{name}:{bucket}:{slot}", window, retry_after))
    shared = _shared_redis()
    if shared is not None:
        try:
            values = _count_in_redis(shared, [(key, window + 5) for _n, key, window, _r in slots])
        except CACHE_ERRORS as exc:
            _cache_failed(exc)  # counted in this process's counters below
        else:
            _cache_answered()
            return [
                Count(key, value, retry_after, limit=_limit_in(name, cache), store=cache)
                for (name, key, _w, retry_after), value in zip(slots, values, strict=True)
            ]
    return [_count_one(*slot) for slot in slots]


def count(name: str, bucket: str) -> Count:
    """Count one event now and return the new count (atomic: no two callers see the same)."""
    return counts((name, bucket))[0]


def _count_one(name: str, key: str, window: int, retry_after: int) -> Count:
    """count through the cache API (any cache, and this process's counters in an outage)."""
    for _ in range(3):
        _call("add", key, 0, timeout=window + 5)
        try:
            value, store = _call("incr", key)
        except ValueError:  # expired between add and incr (or the cache changed): add again
            continue
        return Count(key, value, retry_after, limit=_limit_in(name, store), store=store)
    raise RuntimeError(f"rate-limit counter {key} keeps expiring")  # pragma: no cover


def take(name: str, bucket: str) -> Count:
    """Count one attempt, then refuse it with Throttled if that took the bucket over its limit."""
    counted = count(name, bucket)
    if counted.value > counted.limit:
        counted.give_back()
        raise Throttled(counted.retry_after)
    return counted


def current(name: str, bucket: str) -> int:
    _limit, _window_s, slot, _retry = _window(name)
    return _call("get", f"rl:{name}:{bucket}:{slot}")[0] or 0


def _paced(name: str, bucket: str, seconds: int) -> tuple[bool, int]:
    """One attempt per ``seconds`` for this bucket: (whether this one is it, seconds to wait)."""
    now = time.time()
    slot = int(now // seconds)
    first, _store = _call("add", f"rl:pace:{name}:{bucket}:{slot}", 1, timeout=seconds + 5)
    return first, int((slot + 1) * seconds - now) + 1


# --- receipt guesses ------------------------------------------------------------------------


@dataclass
class Guess:
    """A receipt look-up admitted by ``admit_receipt_guess``: a wrong receipt keeps its counts,
    a right one gives them back (a citizen reading their own status is never throttled)."""

    counts: list[Count]

    def was_right(self) -> None:
        for counted in self.counts:
            counted.give_back()


def admit_receipt_guess(bucket: str, network: str | None = None) -> Guess:
    """Admit one receipt look-up from this client, or raise Throttled.

    Normal times: a client (one IPv4 address, one IPv6 /64) has a number of wrong receipts per
    window; after that it is slowed to one try per TIPLINE_RECEIPT_PACE_SECONDS instead of shut
    out, so neighbours behind one carrier address still get in after a short wait.

    When the wrong receipts of all clients together pass the global budget (someone is guessing
    from many addresses), only clients with a clean record are served: no wrong receipt of their
    own in this window, and few in their network (IPv4 /24, IPv6 /48). Each of the guesser's
    addresses then gets one guess per window, while a citizen typing a correct receipt from a
    clean address still gets in. The README works out how long guessing takes.
    """
    network = network or bucket
    counted = counts(
        ("receipt_fail_per_client", bucket),
        ("receipt_fail_per_network", network),
        ("receipt_fail_global", GLOBAL),
    )
    own, net, everyone = counted
    if everyone.value > everyone.limit:
        admitted = own.value == 1 and net.value <= net.limit
        retry_after = own.retry_after
    elif own.value <= own.limit:
        admitted, retry_after = True, 0
    else:
        admitted, retry_after = _paced("receipt", bucket, settings.TIPLINE_RECEIPT_PACE_SECONDS)
    if not admitted:
        for each in counted:
            each.give_back()
        raise Throttled(retry_after)
    return Guess(counted)


def record_wrong_guess(bucket: str, network: str | None = None) -> None:
    """Count a failure found after an admitted look-up (e.g. a reward claim with the right
    receipt but the wrong payee name) exactly like a wrong receipt, so that no form answering
    after the receipt check becomes a free oracle."""
    counts(
        ("receipt_fail_per_client", bucket),
        ("receipt_fail_per_network", network or bucket),
        ("receipt_fail_global", GLOBAL),
    )


# --- new reports ----------------------------------------------------------------------------


def admit_report_attempt(bucket: str) -> Count:
    """Every attempt to file a report counts against the client, valid or not, before any of it
    is read: a flood of invalid reports with large files is refused as early as a valid one."""
    return take("report_per_client", bucket)


def admit_filing(bucket: str) -> None:
    """A valid report is about to be filed. Past the global budget, a client that has not filed
    in this window may still file one, so a flood from many addresses cannot shut citizens out."""
    everyone, filed = counts(("report_global", GLOBAL), ("report_filed_per_client", bucket))
    if everyone.value > everyone.limit and filed.value > filed.limit:
        everyone.give_back()
        filed.give_back()
        raise Throttled(filed.retry_after)


def report_bucket(report_id) -> str:
    """The bucket of one report, for limits per receipt (follow-ups)."""
    return _digest(f"report:{report_id}")


def first_refusal(name: str, bucket: str) -> bool:
    """True once per window and bucket: for recording that a limit was reached, not each hit."""
    _limit, window, slot, _retry = _window(name)
    return _call("add", f"rl:refused:{name}:{bucket}:{slot}", 1, timeout=window + 5)[0]
