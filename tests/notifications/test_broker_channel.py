"""config/broker.py: closing a kombu Redis channel after its connection was collected (what the
worker's consumer does after losing the broker) ends in the broker's ConnectionError, which
kombu and celery handle, not in AttributeError('NoneType' object has no attribute 'hostname'),
which stopped the worker. The whole story with a real worker is test_broker_loss.py
(PostgreSQL)."""

import pytest
from django.conf import settings
from kombu import Connection, Exchange, Producer, Queue

import config.celery  # noqa: F401  (installs the work-around, as the worker does)

from ..private_redis import needs_redis_server, private_redis  # noqa: F401

pytestmark = [pytest.mark.faults, needs_redis_server]


def test_closing_a_channel_waiting_on_a_dead_broker_is_a_connection_error(
    private_redis,  # noqa: F811
):
    conn = Connection(private_redis.url(0), transport_options={"socket_timeout": 1})
    try:
        channel = conn.default_channel
        queue = Queue("held", Exchange("held"), routing_key="held")
        producer = Producer(channel)
        producer.publish({"n": 1}, exchange=queue.exchange, routing_key="held", declare=[queue])
        held = queue(channel).get(no_ack=False)  # delivered, not acknowledged: a task in hand
        assert held is not None and held.payload == {"n": 1}
        private_redis.kill()
        # After the loss the worker's consumer collects the connection, which detaches the
        # transport from it; a channel that was waiting on BRPOP fails that first close and
        # stays open (test_broker_loss.py shows it with a real worker). This is that state:
        conn._do_close_transport()
        assert not channel.closed
        # Then the consumer closes the connection. Before the work-around: AttributeError.
        conn.close()
        assert channel.closed
    finally:
        conn.release()


def test_systemd_restarts_a_worker_that_exits_anyway():
    """The second line of defence stays: a worker that does exit (any cause) is started again."""
    unit = (settings.BASE_DIR / "deploy" / "systemd" / "tipline-worker.service").read_text()
    assert "\nRestart=on-failure\n" in unit
