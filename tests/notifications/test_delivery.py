"""Retries with exponential back-off, failure after the last attempt, the administrators' view
of failed notices and their audited retry, and the claim that keeps two senders apart."""

import dataclasses
import smtplib
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.core.mail.backends.base import BaseEmailBackend

from casework.models import AuditEntry
from notifications import delivery
from notifications.models import Delivery, Event
from org import roles

from .conftest import make_staff, new_report, notices, run_outbox

pytestmark = pytest.mark.django_db

PLANTED_PHONE = "13800138000"


class FailingBackend(BaseEmailBackend):
    """A mail server that refuses, naming the address and a number in its answer."""

    def send_messages(self, messages):
        raise smtplib.SMTPRecipientsRefused(
            {m.to[0]: (550, f"{PLANTED_PHONE} mailbox unavailable".encode()) for m in messages}
        )


@pytest.fixture
def failing_mail(settings):
    settings.EMAIL_BACKEND = "tests.notifications.test_delivery.FailingBackend"
    settings.TIPLINE_NOTIFY_MAX_ATTEMPTS = 4
    settings.TIPLINE_NOTIFY_RETRY_SECONDS = 60
    return settings


@pytest.fixture
def administrator(units):
    user = make_staff("admin", roles.ADMINISTRATOR, units["county_fp"])
    user.is_staff = True
    user.save()
    return user


def the_mail():
    return notices(channel="email", event__kind="report.received").get()


def test_back_off_doubles_then_the_notice_fails_and_administrators_are_told(
    cast, township, clock, failing_mail, administrator
):
    """Four attempts: at 0, after 60 s, after 120 s more, after 240 s more; then failed."""
    start = clock(2026, 11, 2, 9, 0, 0)
    new_report(township)

    schedule = []
    for seconds in (0, 59, 60, 179, 180, 419, 420, 10_000):
        moment = start + timedelta(seconds=seconds)
        clock(*moment.timetuple()[:6])
        run_outbox()
        mail = the_mail()
        schedule.append((seconds, mail.attempts, mail.status))

    assert schedule == [
        (0, 1, "pending"),
        (59, 1, "pending"),  # next attempt at 60
        (60, 2, "pending"),  # then 60 + 120 = 180
        (179, 2, "pending"),
        (180, 3, "pending"),  # then 180 + 240 = 420
        (419, 3, "pending"),
        (420, 4, "failed"),  # the last of TIPLINE_NOTIFY_MAX_ATTEMPTS
        (10_000, 4, "failed"),  # never again by itself
    ]
    mail = the_mail()
    assert mail.last_error.startswith("SMTPRecipientsRefused")
    assert PLANTED_PHONE not in mail.last_error and cast["clerk"].email not in mail.last_error
    assert "<address>" in mail.last_error and "<number>" in mail.last_error
    # The administrators hear of it in their inbox (not by e-mail, which is what failed).
    failed = notices(event__kind="notification.failed")
    assert [(n.recipient, n.channel) for n in failed] == [(administrator, "inbox")]
    assert failed.get().link == "/admin/notifications/delivery/?status__exact=failed"


def test_backoff_pinned():
    assert [delivery.backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [60, 120, 240, 480]


@pytest.fixture
def failed_mail(cast, township, failing_mail):
    failing_mail.TIPLINE_NOTIFY_MAX_ATTEMPTS = 1
    new_report(township)
    run_outbox()
    mail = the_mail()
    assert mail.status == "failed"
    failing_mail.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    return mail


def test_administrators_see_failed_notices_and_send_them_again(
    login, administrator, failed_mail, mailoutbox
):
    client = login(administrator)
    page = client.get("/admin/notifications/delivery/?status__exact=failed")
    assert page.status_code == 200
    html = page.content.decode()
    assert "SMTPRecipientsRefused" in html and "clerk" in html
    assert "report.received" in html  # the notice's kind is shown

    response = client.post(
        "/admin/notifications/delivery/",
        {"action": "retry", "_selected_action": [failed_mail.pk]},
    )
    assert response.status_code == 302
    failed_mail.refresh_from_db()
    assert (failed_mail.status, failed_mail.attempts) == ("pending", 0)
    entry = AuditEntry.objects.get(action="notification.retried")
    assert (entry.actor, entry.object_id) == (administrator, str(failed_mail.pk))

    run_outbox()
    failed_mail.refresh_from_db()
    assert failed_mail.status == "sent"
    assert len(mailoutbox) == 1


def test_others_cannot_retry(login, cast, failed_mail):
    with pytest.raises(PermissionDenied):
        delivery.retry([failed_mail.pk], cast["supervisor"])
    client = login(cast["supervisor"])
    assert client.get("/admin/notifications/delivery/").status_code in (302, 403)
    failed_mail.refresh_from_db()
    assert failed_mail.status == "failed"
    assert not AuditEntry.objects.filter(action="notification.retried").exists()


def test_a_claimed_notice_is_left_to_its_sender_until_the_lease_ends(
    cast, township, clock, mailoutbox
):
    moment = clock(2026, 11, 2, 9)
    new_report(township)
    delivery.fan_out(Event.objects.get().pk)  # the notices are written, not yet sent
    mail = the_mail()
    # Another process is sending it right now.
    Delivery.objects.filter(pk=mail.pk).update(claimed_until=moment + delivery.lease())

    run_outbox()
    assert mailoutbox == []

    later = moment + delivery.lease() + timedelta(seconds=1)  # that sender died
    clock(*later.timetuple()[:6])
    run_outbox()
    assert len(mailoutbox) == 1
    mail.refresh_from_db()
    assert (mail.status, mail.claimed_until) == ("sent", None)


def test_one_broken_event_does_not_hold_up_the_others(cast, township, monkeypatch, caplog):
    from notifications import outbox

    new_report(township)
    broken = outbox.record("case.assigned", cast["investigator"], investigator=0)
    kind = outbox.get("case.assigned")

    def explode(event):
        raise RuntimeError("a recipe that fails")

    broken_kind = dataclasses.replace(kind, recipients=explode, relevant=None)
    monkeypatch.setitem(outbox.KINDS, "case.assigned", broken_kind)
    result = run_outbox()

    assert result.events == 1 and result.sent == 1  # the report's notice went out
    broken.refresh_from_db()
    assert broken.processed_at is None  # left for the next sweep
    assert "notification event not processed" in caplog.text


def test_a_notice_held_by_a_killed_worker_is_sent_by_the_sweep_after_two_minutes(
    cast, township, clock, mailoutbox
):
    """The default lease is 120 s (it was 10 minutes): a worker killed while sending leaves its
    claim; the sweep a little after 2 minutes sends the notice, not before."""
    moment = clock(2026, 11, 2, 9)
    new_report(township)
    delivery.fan_out(Event.objects.get().pk)
    mail = the_mail()
    assert delivery.lease() == timedelta(seconds=120)
    delivery._claim(mail.pk, moment)  # the worker claimed it, then was killed

    clock(*(moment + timedelta(seconds=119)).timetuple()[:6])
    run_outbox()
    assert mailoutbox == []
    clock(*(moment + timedelta(seconds=121)).timetuple()[:6])
    run_outbox()
    assert len(mailoutbox) == 1
    mail.refresh_from_db()
    assert (mail.status, mail.attempts) == ("sent", 1)


def test_the_next_sweep_takes_an_event_even_while_the_broker_holds_its_task(
    cast, township, mailoutbox
):
    """No hand-over mark and no grace (the mark was a second committed write after every
    report): the sweep takes every event nobody processed; the broker's task, run after it,
    finds the event processed and sends nothing twice."""
    new_report(township)  # its hand-over (after the commit) is the task run late below
    event = Event.objects.get()

    assert run_outbox().events == 1
    assert len(mailoutbox) == 1
    assert delivery.process(event.pk) == 0  # the broker's copy of the task, run late
    assert run_outbox().events == 0
    assert len(mailoutbox) == 1


def test_the_lease_and_the_grace_are_settings(settings):
    settings.TIPLINE_NOTIFY_LEASE_SECONDS = 300
    settings.TIPLINE_NOTIFY_HANDOVER_SECONDS = 30
    assert (delivery.lease(), delivery.handover_grace()) == (
        timedelta(minutes=5),
        timedelta(seconds=30),
    )
