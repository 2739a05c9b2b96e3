"""Two senders at the same moment (PostgreSQL only): the beat's sweep and a worker's task, or
two sweeps that overlap, never send one notice twice and never lose one.

Threads with their own database connections are held at a barrier so they really run into each
other; a slow mail server widens the window. SQLite serialises writers and ignores row locks, so
these tests prove nothing there.
"""

import time

import pytest
from django.conf import settings
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend

from notifications import delivery, outbox
from notifications.models import Delivery, Event
from org import roles

from ..threads import race
from .conftest import make_staff, new_report

pytestmark = [
    pytest.mark.skipif(
        "postgresql" not in settings.DATABASES["default"]["ENGINE"],
        reason="row locks and claims racing need PostgreSQL; SQLite serialises all writers",
    ),
    pytest.mark.django_db(transaction=True),
]


class SlowBackend(EmailBackend):
    """A mail server that takes a while: a second sender would have time to send it too."""

    def send_messages(self, messages):
        time.sleep(0.3)
        return super().send_messages(messages)


def test_overlapping_senders_send_each_notice_exactly_once(units, township, settings, monkeypatch):
    settings.EMAIL_BACKEND = "tests.notifications.test_concurrency.SlowBackend"
    # The events wait in the outbox (as when no worker took them), whether or not this run has
    # a broker: the race below is what delivers them.
    monkeypatch.setattr(outbox, "hand_over", lambda event_id: None)
    clerks = [make_staff(f"clerk{i}", roles.CLERK, units["zs_fp"]) for i in range(4)]
    for _ in range(3):
        new_report(township)
    events = list(Event.objects.values_list("pk", flat=True))
    mail.outbox = []

    outcomes = race(
        delivery.sweep,
        delivery.sweep,
        lambda: [delivery.process(pk) for pk in events],  # a worker running the tasks
        lambda: [delivery.process(pk) for pk in reversed(events)],
    )

    assert [exc for _result, exc in outcomes] == [None] * 4
    expected = len(clerks) * len(events)  # one e-mail per clerk and report
    sent = Delivery.objects.filter(channel="email", status="sent")
    assert sent.count() == expected
    assert len(mail.outbox) == expected, "a notice was sent twice (or lost)"
    assert len({(m.to[0], m.body) for m in mail.outbox}) == expected
    assert Delivery.objects.filter(channel="inbox").count() == expected
    assert not Event.objects.filter(processed_at__isnull=True).exists()
