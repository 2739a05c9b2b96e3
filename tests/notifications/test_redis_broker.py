"""The hand-over's one LPUSH (notifications.outbox.redis_broker) writes what kombu writes.

Held to a message Celery's apply_async publishes to the same Redis broker, field by field (only
the fresh ids differ), so a Celery or kombu upgrade that changes the format fails here. The
worker tests (test_worker.py, test_broker_loss.py) deliver reports through it end to end.
"""

import json
import uuid

import pytest
import redis
from celery import current_app
from django.conf import settings

from notifications import outbox
from notifications.outbox import redis_broker

pytestmark = pytest.mark.skipif(
    settings.CELERY_TASK_ALWAYS_EAGER or not settings.CELERY_BROKER_URL.startswith("redis"),
    reason="needs a Redis broker (CELERY_BROKER_URL=redis://…)",
)


@pytest.fixture
def queue():
    """A queue of its own on the configured broker; its list and kombu's keys removed after."""
    name = f"tipline-test-{uuid.uuid4().hex[:12]}"
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    yield name, client
    client.delete(name, f"_kombu.binding.{name}", f"_kombu.binding_permanent.{name}")
    client.close()


def _without_ids(raw: bytes) -> dict:
    message = json.loads(raw)
    headers, properties = message["headers"], message["properties"]
    task_id = headers.pop("id")
    assert headers.pop("root_id") == properties.pop("correlation_id") == task_id
    assert properties.pop("delivery_tag")
    return message


def test_the_message_is_the_one_celery_sends(queue):
    name, client = queue
    current_app.tasks[outbox.PROCESS_TASK].apply_async(args=[41], queue=name)
    assert redis_broker.send(current_app, outbox.PROCESS_TASK, [41], name)
    ours, celerys = client.lrange(name, 0, -1)  # LPUSH: the newest first
    assert _without_ids(ours) == _without_ids(celerys)


def test_the_hand_over_is_one_lpush_onto_the_queue(queue, settings, monkeypatch):
    name, client = queue
    settings.CELERY_TASK_DEFAULT_QUEUE = name
    task = current_app.tasks[outbox.PROCESS_TASK]

    def refuse(*args, **kwargs):
        raise AssertionError("apply_async is not the Redis broker's path")

    monkeypatch.setattr(task, "apply_async", refuse)
    outbox.hand_over(42)
    (raw,) = client.lrange(name, 0, -1)
    message = json.loads(raw)
    assert message["headers"]["task"] == outbox.PROCESS_TASK
    assert message["properties"]["delivery_info"] == {"exchange": "", "routing_key": name}


def test_another_broker_goes_through_apply_async():
    conf = current_app.conf
    saved = conf.broker_url, conf.get("broker_write_url")
    conf.broker_url = conf.broker_write_url = "amqp://127.0.0.1:9//"
    try:
        assert redis_broker.send(current_app, outbox.PROCESS_TASK, [43], "celery") is False
    finally:
        conf.broker_url, conf.broker_write_url = saved
