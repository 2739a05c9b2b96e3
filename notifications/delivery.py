"""From an event to notices: who hears of it, on which channels, and sending each notice once.

``process(event_id)`` is what the hand-over task runs: it works out the recipients once (the
event row is locked and marked processed), writes one delivery per (event, recipient, channel)
under a unique key, and sends what is due. ``sweep()`` is what ``manage.py send_outbox`` and
beat run: it processes every event nobody processed yet (the broker never took it, lost it, or
no worker has run it yet) and sends every delivery whose next attempt is due.

Sending claims the delivery first (a lease in the row), so two processes never send the same
notice at the same time; a sender that dies loses its claim when the lease ends. A failed
attempt is retried after 1, 2, 4, … times TIPLINE_NOTIFY_RETRY_SECONDS; after
TIPLINE_NOTIFY_MAX_ATTEMPTS the delivery is marked failed and the administrators are told.
"""

import logging
import re
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone, translation

from casework import audit
from casework.audit_catalogue import Action
from tipline.models import ReporterIdentity

from . import channels, inbox, outbox
from .catalogue import describe
from .channels import staff_channels
from .models import Delivery, Event, Preferences
from .outbox import INBOX, SMS

log = logging.getLogger(__name__)


def lease() -> timedelta:
    """How long a sender holds a delivery it claimed (TIPLINE_NOTIFY_LEASE_SECONDS): longer
    than any one send may take, so a slow sender is never doubled; a killed one is replaced by
    the next sweep after it."""
    return timedelta(seconds=settings.TIPLINE_NOTIFY_LEASE_SECONDS)


def handover_grace() -> timedelta:
    """An event no worker processed within this of being recorded counts as waiting in the
    deep health check (TIPLINE_NOTIFY_HANDOVER_SECONDS): a worker normally takes it within
    milliseconds. The sweep does not wait for it: it takes every event nobody processed."""
    return timedelta(seconds=settings.TIPLINE_NOTIFY_HANDOVER_SECONDS)


FAILED_KIND = "notification.failed"


# --- recipients and channels --------------------------------------------------------------------


def _unique(recipients):
    seen = set()
    for recipient in recipients:
        if recipient.key not in seen:
            seen.add(recipient.key)
            yield recipient


def _texted_reports(report_ids) -> set[str]:
    """The reports whose reporter gave a mobile number and asked to be told of news."""
    return {
        str(pk)
        for pk in ReporterIdentity.objects.filter(
            report_id__in=list(report_ids), news_by_sms=True, phone_sealed__isnull=False
        ).values_list("report_id", flat=True)
    }


@dataclass(frozen=True)
class Notice:
    subject: str
    body: str
    link: str  # a path on this site


def render(kind, event) -> Notice:
    """The notice in the site's language: a reference and a link, nothing of the report."""
    context = {"reference": "", "township": "", "due": "", "deadline": "", "link": "/staff/"}
    context.update(describe(event))
    if kind.context is not None:
        context.update(kind.context(event))
    with translation.override(settings.LANGUAGE_CODE):
        values = {k: str(v) for k, v in context.items()}
        return Notice(
            subject=" ".join((str(kind.subject) % values).split())[:200],
            body=str(kind.body) % values,
            link=values["link"],
        )


def _external_text(kind, event, notice: Notice, channel: str) -> tuple[str, str]:
    """Subject and text as they leave the system: the notice and one link. Staff links go
    through the inbox (it marks the notice read), never to a report's address."""
    site = settings.TIPLINE_SITE_URL
    if kind.for_reporters:
        return "", notice.body  # the text carries its own link to /receipt/
    url = site + (reverse("inbox:event", args=[event.pk]) if kind.inbox else notice.link)
    with translation.override(settings.LANGUAGE_CODE):
        if channel == SMS:
            return "", f"{notice.subject} {url}"
        footer = channels.email_footer()
    return notice.subject, f"{notice.body}\n\n{url}\n\n{footer}"


def fan_out(event_id) -> bool:
    """Write the event's deliveries, once. Returns False when it had been done already."""
    with transaction.atomic():
        event = (
            Event.objects.select_for_update(of=("self",))
            .select_related("township")
            .filter(pk=event_id)
            .first()
        )
        if event is None or event.processed_at is not None:
            return False
        now = timezone.now()
        kind = outbox.KINDS.get(event.kind)
        if kind is None:
            log.error("notification of an unknown kind dropped", extra={"event": event.pk})
        elif kind.relevant is None or kind.relevant(event):
            Delivery.objects.bulk_create(_deliveries(kind, event, now), ignore_conflicts=True)
        event.processed_at = now
        event.save(update_fields=["processed_at"])
    return True


def _deliveries(kind, event, now) -> list[Delivery]:
    recipients = list(_unique(kind.recipients(event)))
    if not recipients:
        return []
    notice = render(kind, event)
    rows = []

    def row(recipient, channel):
        subject, body = (
            (notice.subject, notice.body)
            if channel == INBOX
            else _external_text(kind, event, notice, channel)
        )
        inbox = channel == INBOX
        return Delivery(
            event=event,
            key=f"{event.pk}:{recipient.key}:{channel}",
            recipient=recipient.user,
            reporter_of=recipient.report_id,
            channel=channel,
            subject=subject,
            body=body,
            link=notice.link,
            # The inbox needs no sending: the row is the notice.
            status=Delivery.Status.SENT if inbox else Delivery.Status.PENDING,
            sent_at=now if inbox else None,
            next_attempt_at=now,
            created_at=now,
        )

    if kind.for_reporters:
        texted = _texted_reports(r.report_id for r in recipients if r.report_id)
        rows = [row(r, SMS) for r in recipients if r.report_id in texted]
        return rows
    users = [r for r in recipients if r.user is not None]
    prefs = {p.user_id: p for p in Preferences.objects.filter(user__in=[r.user.pk for r in users])}
    for recipient in users:
        for channel in staff_channels(kind, recipient.user, prefs.get(recipient.user.pk)):
            rows.append(row(recipient, channel))
    return rows


# --- sending ------------------------------------------------------------------------------------

_DIGITS = re.compile(r"\d{7,}")
_ADDRESS = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")


def describe_error(exc: Exception) -> str:
    """What went wrong, for administrators: no number and no address, even if the error had one."""
    text = f"{type(exc).__name__}: {exc}"
    return _ADDRESS.sub("<address>", _DIGITS.sub("<number>", text))[:300]


def backoff(attempts: int) -> timedelta:
    """Wait after the n-th failed attempt: 1, 2, 4, 8, … times the base."""
    return timedelta(seconds=settings.TIPLINE_NOTIFY_RETRY_SECONDS * 2 ** (attempts - 1))


def _claim(delivery_id, now) -> bool:
    return bool(
        Delivery.objects.filter(
            pk=delivery_id, status=Delivery.Status.PENDING, next_attempt_at__lte=now
        )
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .update(claimed_until=now + lease())
    )


def attempt(delivery_id) -> str | None:
    """Try to send one delivery if it is due and nobody else holds it. Returns its new status
    (sent, pending again, failed, skipped), or None when it was not this call's to send."""
    now = timezone.now()
    if not _claim(delivery_id, now):
        return None
    delivery = Delivery.objects.select_related("event", "event__township", "recipient").get(
        pk=delivery_id
    )
    kind = outbox.KINDS.get(delivery.event.kind)
    if kind is not None and kind.relevant is not None and not kind.relevant(delivery.event):
        return _finish(delivery, Delivery.Status.SKIPPED)
    try:
        sent = channels.send(delivery)
    except Exception as exc:
        return _failed(delivery, exc)
    return _finish(delivery, Delivery.Status.SENT if sent else Delivery.Status.SKIPPED)


def _finish(delivery, status) -> str:
    Delivery.objects.filter(pk=delivery.pk).update(
        status=status,
        sent_at=timezone.now() if status == Delivery.Status.SENT else None,
        attempts=F("attempts") + (1 if status == Delivery.Status.SENT else 0),
        claimed_until=None,
    )
    return status


def _failed(delivery, exc) -> str:
    attempts = delivery.attempts + 1
    error = describe_error(exc)
    log.warning(
        "notification not delivered",
        extra={"delivery": delivery.pk, "channel": delivery.channel, "attempts": attempts},
    )
    with transaction.atomic():
        if attempts >= settings.TIPLINE_NOTIFY_MAX_ATTEMPTS:
            status = Delivery.Status.FAILED
            Delivery.objects.filter(pk=delivery.pk).update(
                status=status, attempts=attempts, last_error=error, claimed_until=None
            )
            if delivery.event.kind != FAILED_KIND:  # a failure notice never begets another
                outbox.record(
                    FAILED_KIND,
                    delivery,
                    township_id=delivery.event.township_id,
                    channel=delivery.channel,
                    attempts=attempts,
                )
        else:
            status = Delivery.Status.PENDING
            Delivery.objects.filter(pk=delivery.pk).update(
                attempts=attempts,
                last_error=error,
                next_attempt_at=timezone.now() + backoff(attempts),
                claimed_until=None,
            )
    return status


def process(event_id) -> int:
    """Fan the event out (once) and send its deliveries that are due. Returns notices sent.
    News about an object often means a task about it is done (the report triaged, the reward
    approved): the unread notices about the same object are settled at once."""
    fan_out(event_id)
    about = Event.objects.filter(pk=event_id).values_list("object_type", "object_id").first()
    if about and about[0]:
        inbox.settle(object_type=about[0], object_id=about[1])
    due = Delivery.objects.filter(
        event_id=event_id, status=Delivery.Status.PENDING, next_attempt_at__lte=timezone.now()
    ).values_list("pk", flat=True)
    return sum(attempt(pk) == Delivery.Status.SENT for pk in list(due))


@dataclass
class SweepResult:
    events: int = 0
    sent: int = 0
    retry: int = 0
    failed: int = 0
    skipped: int = 0
    settled: int = 0  # inbox notices whose task was done


def sweep(limit: int = 1000) -> SweepResult:
    """One pass of the outbox: events nobody processed, then every delivery that is due, then
    the inbox notices whose task is done (settled)."""
    now = timezone.now()
    result = SweepResult()
    # Every event nobody processed: the broker refused it, lost it, or still holds its task (a
    # worker about to run it then finds it processed; fan_out is once-only whoever runs it).
    waiting = (
        Event.objects.filter(processed_at__isnull=True)
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
    for event_id in list(waiting):
        try:
            result.events += fan_out(event_id)
        except Exception:  # one bad event must not hold up the others; it is tried again
            log.exception("notification event not processed", extra={"event": event_id})
    now = timezone.now()  # deliveries just written are due too
    due = (
        Delivery.objects.filter(status=Delivery.Status.PENDING, next_attempt_at__lte=now)
        .exclude(claimed_until__gt=now)
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    for delivery_id in list(due):
        try:
            status = attempt(delivery_id)
        except Exception:  # not the channel's failure (that is handled): log, go on
            log.exception("notification not attempted", extra={"delivery": delivery_id})
            continue
        if status == Delivery.Status.SENT:
            result.sent += 1
        elif status == Delivery.Status.PENDING:
            result.retry += 1
        elif status == Delivery.Status.FAILED:
            result.failed += 1
        elif status == Delivery.Status.SKIPPED:
            result.skipped += 1
    result.settled = inbox.settle()
    return result


# --- administrators ----------------------------------------------------------------------------


def retry(delivery_ids, user) -> int:
    """Send failed deliveries again (an administrator's action); audited. Returns how many."""
    if not user.has_perm("notifications.retry_delivery"):
        raise PermissionDenied
    with transaction.atomic():
        rows = list(
            Delivery.objects.select_for_update()
            .filter(pk__in=list(delivery_ids), status=Delivery.Status.FAILED)
            .select_related("event")
        )
        for delivery in rows:
            Delivery.objects.filter(pk=delivery.pk).update(
                status=Delivery.Status.PENDING,
                attempts=0,
                next_attempt_at=timezone.now(),
                claimed_until=None,
            )
            audit.record(
                user,
                Action.NOTIFICATION_RETRIED,
                delivery,
                kind=delivery.event.kind,
                channel=delivery.channel,
            )
            transaction.on_commit(lambda pk=delivery.event_id: outbox.hand_over(pk), robust=True)
    return len(rows)


def staff_users():
    """Everyone the digest and preferences are for: active users with a staff profile."""
    return get_user_model().objects.filter(is_active=True, staff_profile__isnull=False)
