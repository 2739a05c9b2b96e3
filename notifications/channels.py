"""Which channels a staff member gets, and sending one delivery on its channel: e-mail, or a
text message to staff or to a reporter."""

from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables

from casework import audit
from casework.audit_catalogue import Action
from tipline.models import ReporterIdentity

from . import sms
from .models import Delivery, Preferences
from .outbox import EMAIL, INBOX, SMS


def staff_channels(kind, user, prefs: Preferences | None) -> list[str]:
    """The channels this staff member gets for this kind: the inbox always (when the kind has
    one), e-mail and text as they chose (else the kind's default), where they can be reached."""
    if not user.is_active:
        return []
    chosen = kind.channels
    if prefs is not None and kind.name in prefs.channels:
        chosen = tuple(prefs.channels[kind.name])
    out = [INBOX] if kind.inbox else []
    if EMAIL in chosen and user.email:
        out.append(EMAIL)
    if SMS in chosen and prefs is not None and prefs.mobile:
        out.append(SMS)
    return out


def email_footer() -> str:
    return _(
        "This message carries no report content and no details of any reporter: sign in to "
        "see them. Do not forward it."
    )


def send(delivery: Delivery) -> bool:
    """Send it; True when sent, False when there is no longer anyone to send it to. Raises when
    the mail server or the gateway fails (the caller retries later)."""
    if delivery.channel == Delivery.Channel.EMAIL:
        return _email(delivery)
    if delivery.channel == Delivery.Channel.SMS:
        if delivery.reporter_of:
            return _text_reporter(delivery)
        return _text_staff(delivery)
    return True  # the inbox row is the notice


def message_id(delivery: Delivery) -> str:
    """The e-mail's Message-ID: the same on every attempt of one delivery, another for every
    other delivery. E-mail is at-least-once (a connection cut after the server took the message
    but before it said so is retried), and a repeat carries the same id, so mail programs and
    people can tell it is a repeat. A keyed hash of the delivery's id, so the header does not
    count the site's notices."""
    tag = salted_hmac("tipline.notifications.message-id", str(delivery.pk)).hexdigest()[:32]
    domain = urlsplit(settings.TIPLINE_SITE_URL).hostname or "localhost"
    return f"<{tag}.notice@{domain}>"


def _email(delivery) -> bool:
    user = delivery.recipient
    if user is None or not user.is_active or not user.email:
        return False
    EmailMultiAlternatives(
        delivery.subject,
        delivery.body,
        None,
        [user.email],
        headers={"Message-ID": message_id(delivery)},
    ).send()
    return True


def _text_staff(delivery) -> bool:
    user = delivery.recipient
    prefs = Preferences.objects.filter(user=user).first() if user is not None else None
    if prefs is None or not prefs.mobile or not user.is_active:
        return False
    sms.send(prefs.mobile, delivery.body, link=_last_url(delivery.body))
    return True


@sensitive_variables("phone")
def _text_reporter(delivery) -> bool:
    """The reporter's number is decrypted here, for this message only. Each decryption is
    recorded in the audit log first (by the system, naming the report, never the number)."""
    identity = ReporterIdentity.objects.filter(report_id=delivery.reporter_of).first()
    if identity is None or not identity.news_by_sms or not identity.phone_sealed:
        return False  # the identity was shredded, or the reporter changed their mind
    with transaction.atomic():
        audit.record(
            None,
            Action.NOTIFICATION_REPORTER_TEXTED,
            object_type="tipline.report",
            object_id=delivery.reporter_of,
            delivery=delivery.pk,
        )
    phone = identity.unseal("phone", bytes(identity.phone_sealed)).decode()
    sms.send(phone, delivery.body, link=settings.TIPLINE_SITE_URL + "/receipt/")
    return True


def _last_url(text: str) -> str:
    words = text.split()
    return words[-1] if words and words[-1].startswith("http") else ""
