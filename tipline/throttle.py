"""Rate limits without tracking.

The client address is turned into a keyed hash whose key rotates every day (derived from the key
ring and the date), so yesterday's buckets cannot be linked to today's, and buckets only ever live
in the cache with a short expiry. Fixed windows keep it to one cache increment per check.
"""

import hashlib
import hmac
import math
import time

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from vault.keyring import get_keyring

GLOBAL = "all"


class Throttled(Exception):
    def __init__(self, retry_after: int):
        super().__init__(f"retry after {retry_after}s")
        self.retry_after = retry_after

    @property
    def minutes(self) -> int:
        return max(1, math.ceil(self.retry_after / 60))


def client_bucket(address: str) -> str:
    day = timezone.localdate().isoformat().encode()
    daily_key = hmac.new(get_keyring().rate_limit_key, day, hashlib.sha256).digest()
    return hmac.new(daily_key, address.encode(), hashlib.sha256).hexdigest()[:32]


def _key(name: str, bucket: str) -> tuple[str, int, int, int]:
    limit, window = settings.TIPLINE_RATE_LIMITS[name]
    now = time.time()
    slot = int(now // window)
    retry_after = int((slot + 1) * window - now) + 1
    return f"rl:{name}:{bucket}:{slot}", limit, window, retry_after


def check(name: str, bucket: str) -> None:
    """Raise Throttled if the bucket has used up its limit, without counting."""
    key, limit, _window, retry_after = _key(name, bucket)
    if (cache.get(key) or 0) >= limit:
        raise Throttled(retry_after)


def hit(name: str, bucket: str) -> int:
    """Count one event and return the new count."""
    key, _limit, window, _retry = _key(name, bucket)
    cache.add(key, 0, timeout=window + 5)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window + 5)
        return 1
