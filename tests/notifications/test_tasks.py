"""notify_new_report run in-process (no broker): who is told, only once, and with what."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from notifications.models import Notification
from notifications.tasks import EVENT_NEW_REPORT, notify_new_report
from org import roles
from org.models import StaffProfile, Unit
from tipline import services
from tipline.models import Report

pytestmark = pytest.mark.django_db

DESCRIPTION = "DESCRIPTION-MARKER: 东头诊所周三下午用B超查胎儿性别"
SUBJECT_NAME = "SUBJECT-NAME-MARKER"
SUBJECT_ADDRESS = "SUBJECT-ADDRESS-MARKER 中水镇东街12号"
SUBJECT_PHONE = "13912345678"
REPORTER_NAME = "REPORTER-NAME-MARKER"
REPORTER_PHONE = "13800138000"
REPORTER_ID = "11010519491231002X"


def make_staff(username, township, role=roles.CLERK, *, county_level=False, **user_fields):
    """A user in `role`, working in the township's unit (or the county-level unit)."""
    user_fields.setdefault("email", f"{username}@gov.example.cn")
    user = get_user_model().objects.create_user(username, **user_fields)
    user.groups.add(Group.objects.get_or_create(name=role)[0])
    unit, _ = Unit.objects.get_or_create(
        county=township.county,
        township=None if county_level else township,
        kind=Unit.Kind.FAMILY_PLANNING,
        defaults={"name": f"{'county' if county_level else township.code} family planning"},
    )
    StaffProfile.objects.create(user=user, unit=unit)
    return user


def make_report(township, **fields):
    data = {
        "category": "sex_determination",
        "township_id": township.id,
        "description": DESCRIPTION,
        **fields,
    }
    report, _receipt = services.create_report(services.ReportInput(**data))
    return report


@pytest.fixture
def staff(township, other_township):
    """Clerks who must be told about a report in `township`, and staff who must not."""
    return {
        "township_clerk": make_staff("clerk-zhongshui", township),
        "county_clerk": make_staff("clerk-county", township, county_level=True),
        "other_clerk": make_staff("clerk-xishan", other_township),
        "investigator": make_staff("investigator-zhongshui", township, roles.INVESTIGATOR),
        "inactive_clerk": make_staff("clerk-retired", township, is_active=False),
        "clerk_without_email": make_staff("clerk-no-mail", township, email=""),
    }


def test_one_email_per_clerk_of_the_township_and_county(staff, township, mailoutbox):
    report = make_report(township)

    assert notify_new_report.apply(args=[str(report.id)]).get() == 2

    recipients = sorted(address for mail in mailoutbox for address in mail.to)
    assert recipients == sorted([staff["township_clerk"].email, staff["county_clerk"].email])
    assert all(len(mail.to) == 1 for mail in mailoutbox)
    notes = Notification.objects.filter(event=EVENT_NEW_REPORT, object_id=str(report.id))
    assert {n.recipient for n in notes} == {staff["township_clerk"], staff["county_clerk"]}
    assert all(n.sent_at is not None for n in notes)


def test_clerks_of_another_township_only_hear_of_their_own(
    staff, township, other_township, mailoutbox
):
    report = make_report(other_township)

    assert notify_new_report.apply(args=[str(report.id)]).get() == 2

    recipients = sorted(address for mail in mailoutbox for address in mail.to)
    assert recipients == sorted([staff["other_clerk"].email, staff["county_clerk"].email])
    assert staff["township_clerk"].email not in recipients


def test_running_twice_sends_nothing_more(staff, township, mailoutbox):
    report = make_report(township)

    assert notify_new_report.apply(args=[str(report.id)]).get() == 2
    assert notify_new_report.apply(args=[str(report.id)]).get() == 0

    assert len(mailoutbox) == 2
    assert Notification.objects.filter(object_id=str(report.id)).count() == 2


def test_redelivery_after_a_partial_run_sends_only_the_missing_mail(staff, township, mailoutbox):
    report = make_report(township)
    # A first delivery that e-mailed the township clerk, then died before the county clerk.
    Notification.objects.create(
        recipient=staff["township_clerk"],
        event=EVENT_NEW_REPORT,
        object_id=str(report.id),
        channel=Notification.Channel.EMAIL,
        subject="s",
        body="b",
        sent_at=report.received_at,
    )

    assert notify_new_report.apply(args=[str(report.id)]).get() == 1

    assert [mail.to for mail in mailoutbox] == [[staff["county_clerk"].email]]


def test_email_carries_no_report_content_and_no_reporter_identity(staff, township, mailoutbox):
    report = make_report(
        township,
        subject_name=SUBJECT_NAME,
        subject_address=SUBJECT_ADDRESS,
        subject_phone=SUBJECT_PHONE,
        reporter_name=REPORTER_NAME,
        reporter_phone=REPORTER_PHONE,
        reporter_id_number=REPORTER_ID,
    )

    notify_new_report.apply(args=[str(report.id)]).get()

    assert len(mailoutbox) == 2
    forbidden = [
        DESCRIPTION,
        "DESCRIPTION-MARKER",
        "B超",
        SUBJECT_NAME,
        "SUBJECT-ADDRESS-MARKER",
        SUBJECT_PHONE,
        REPORTER_NAME,
        REPORTER_PHONE,
        REPORTER_ID,
        str(report.id),
        report.receipt_hash,
    ]
    for mail in mailoutbox:
        text = "\n".join([mail.subject, mail.body, *(str(a) for a in mail.attachments)])
        assert mail.attachments == []
        assert township.name in mail.subject  # it is the notice we think it is
        for secret in forbidden:
            assert secret not in text, f"{secret!r} leaked into the e-mail"
    for note in Notification.objects.all():
        for secret in forbidden:
            assert secret not in note.subject + note.body


@pytest.mark.parametrize("status", ["accepted", "rejected", "closed"])
def test_report_no_longer_received_sends_nothing(staff, township, mailoutbox, status):
    report = make_report(township)
    Report.objects.filter(pk=report.pk).update(status=status)

    assert notify_new_report.apply(args=[str(report.id)]).get() == 0

    assert mailoutbox == []
    assert not Notification.objects.exists()


def test_unknown_report_sends_nothing(staff, mailoutbox):
    assert notify_new_report.apply(args=["00000000-0000-0000-0000-000000000000"]).get() == 0
    assert mailoutbox == []


def test_new_report_notifies_on_commit_in_eager_mode(
    staff, township, mailoutbox, monkeypatch, django_capture_on_commit_callbacks
):
    """Laptop mode (no broker): creating a report e-mails the clerks once it is committed."""
    monkeypatch.setitem(notify_new_report.app.conf, "task_always_eager", True)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        report = make_report(township)
    assert mailoutbox == []  # nothing before the commit
    assert len(callbacks) == 1
    callbacks[0]()

    assert sorted(address for mail in mailoutbox for address in mail.to) == sorted(
        [staff["township_clerk"].email, staff["county_clerk"].email]
    )
    assert Notification.objects.filter(object_id=str(report.id), sent_at__isnull=False).count() == 2
