"""Keeps the Celery worker alive when the Redis broker dies while it holds tasks.

With celery 5.7 / kombu 5.7 a worker (prefork pool) that loses Redis while tasks are reserved
or running exits with ``Unrecoverable error: AttributeError('NoneType' object has no attribute
'hostname')``. After the loss the consumer first *collects* the broken connection, which drops
the transport's link to its ``kombu.Connection`` (``transport.client = None``), then *closes*
it. The Redis channel waiting on BRPOP fails its first close (reading the BRPOP reply raises)
before it is marked closed, so the second close runs again: it tries to give the unacknowledged
tasks back, rebuilds its connection pool from the dropped link, and ``_connparams`` reads
``None.hostname``. An AttributeError is not a connection error, so nothing handles it and the
worker stops. Acknowledging a task that finishes after the loss takes the same path.

A channel whose connection is gone cannot reach the broker: say so with the broker's own
ConnectionError, which kombu and celery already handle (a close ignores it, an ack is logged as
not acknowledged, the consumer reconnects). Nothing changes while the link is there. The tasks
are safe to run twice and the outbox sweep sends whatever the broker lost.
"""

import redis
from kombu.transport import redis as kombu_redis

_connparams = kombu_redis.Channel._connparams


def _connparams_or_connection_error(self, asynchronous=False):
    if self.connection is None or self.connection.client is None:
        raise redis.exceptions.ConnectionError("the broker connection was closed")
    return _connparams(self, asynchronous=asynchronous)


def install() -> None:
    """Idempotent: patch kombu's Redis channel once per process."""
    if kombu_redis.Channel._connparams is not _connparams_or_connection_error:
        kombu_redis.Channel._connparams = _connparams_or_connection_error
