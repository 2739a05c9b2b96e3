"""Celery tasks. They take ids, re-read state, and are safe to run twice."""

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from org.roles import CLERK
from org.scope import staff_for_township
from tipline.models import Report

from .models import Notification

EVENT_NEW_REPORT = "report.received"


@shared_task(bind=True, max_retries=5, default_retry_delay=30)
def notify_new_report(self, report_id: str) -> int:
    """Tell the township's clerks that a report awaits review. Content stays in the system."""
    report = Report.objects.select_related("township").filter(id=report_id).first()
    if report is None or report.status != Report.Status.RECEIVED:
        return 0
    sent = 0
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("New report awaiting review in %(township)s") % {"township": report.township}
        body = _(
            "A new report was received for %(township)s. Please sign in to the staff site to "
            "review it within the acceptance deadline. For the reporter's safety, no details are "
            "sent by e-mail."
        ) % {"township": report.township}
    for user in staff_for_township(report.township, CLERK):
        if not user.email:
            continue
        note, _created = Notification.objects.get_or_create(
            recipient=user,
            event=EVENT_NEW_REPORT,
            object_id=str(report.id),
            channel=Notification.Channel.EMAIL,
            defaults={"subject": subject, "body": body},
        )
        if note.sent_at:
            continue  # sent by an earlier delivery of this task
        send_mail(note.subject, note.body, None, [user.email])
        Notification.objects.filter(pk=note.pk).update(sent_at=timezone.now())
        sent += 1
    return sent
