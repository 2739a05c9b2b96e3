"""The hand-over written straight to a Redis broker: one LPUSH of the message Celery would send.

``apply_async`` builds, routes and publishes the task message through kombu: about 0.5 ms of
the web process's CPU per report (a new Redis client object per publish, a result object,
routing, signals), more than the rest of the hand-over. Here Celery still builds the task
message (``app.amqp.as_task_v2``: protocol 2, its headers and body) and only the envelope of
kombu's Redis transport is written here, as kombu writes it for a queue's own list (default
exchange, priority 0, JSON body in base64), through one client kept per broker URL with the
broker's timeouts and no retries. tests/notifications/test_redis_broker.py holds it to what
kombu itself writes, so a Celery or kombu upgrade that changes the format fails there; the
worker tests deliver through it.

Only for a redis:// or rediss:// broker without a key prefix; anything else returns None and
the caller publishes with ``apply_async`` (so do eager tasks, without a broker).
"""

import base64
import json
import uuid

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

# broker URL -> client (its pool starts afresh in a forked process)
_clients: dict[str, redis.Redis] = {}
_PLAIN_OPTIONS = {"socket_connect_timeout", "socket_timeout", "max_retries", "visibility_timeout"}


def _client(app) -> redis.Redis | None:
    conf = app.conf
    url = conf.broker_write_url or conf.broker_url
    if not isinstance(url, str) or not url.startswith(("redis://", "rediss://")):
        return None
    options = conf.broker_transport_options or {}
    if set(options) - _PLAIN_OPTIONS:
        return None  # a key prefix, priorities, Sentinel …: kombu knows them, this does not
    client = _clients.get(url)
    if client is None:
        client = _clients[url] = redis.Redis.from_url(
            url,
            socket_connect_timeout=options.get("socket_connect_timeout"),
            socket_timeout=options.get("socket_timeout"),
            retry=Retry(NoBackoff(), 0),  # as the publisher's max_retries 0: the sweep retries
        )
    return client


def envelope(app, name: str, args: list, queue: str) -> bytes:
    """What kombu's Redis transport stores for ``name(*args)`` sent to ``queue``."""
    task_id = str(uuid.uuid4())
    message = app.amqp.as_task_v2(
        task_id, name, args=args, reply_to=app.thread_oid, ignore_result=True
    )
    body = json.dumps(message.body).encode("utf-8")
    return json.dumps(
        {
            "body": base64.b64encode(body).decode("ascii"),
            "content-encoding": "utf-8",
            "content-type": "application/json",
            "headers": message.headers,
            "properties": {
                **message.properties,
                "delivery_mode": 2,
                "delivery_info": {"exchange": "", "routing_key": queue},
                "priority": 0,
                "body_encoding": "base64",
                "delivery_tag": str(uuid.uuid4()),
            },
        }
    ).encode("utf-8")


def send(app, name: str, args: list, queue: str) -> bool:
    """Push the task message onto the queue's list; False when this broker is not for it."""
    client = _client(app)
    if client is None:
        return False
    client.lpush(queue, envelope(app, name, args, queue))
    return True
