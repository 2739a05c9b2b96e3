"""Loaded with ``-p`` before Django's settings are read: under pytest-xdist each worker gets a
cache of its own.

Every test empties the cache (tests/conftest.py), and with a Redis cache (CACHE_URL in CI) that
empties the whole Redis database: two workers sharing one would wipe each other's throttle
counters mid-test. Worker ``gwN`` uses database number base + N. The databases are per worker
already (pytest-django suffixes the test database's name), and the one test that runs a real
Celery worker gives it a queue of its own.
"""

import os
import re


def worker_cache_url(url: str, worker: str) -> str:
    match = re.fullmatch(r"(rediss?://[^/]+)/(\d+)", url)
    if not (worker.startswith("gw") and match):
        return url
    return f"{match[1]}/{int(match[2]) + int(worker[2:])}"


if os.environ.get("CACHE_URL"):
    os.environ["CACHE_URL"] = worker_cache_url(
        os.environ["CACHE_URL"], os.environ.get("PYTEST_XDIST_WORKER", "")
    )
