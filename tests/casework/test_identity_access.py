"""Seeing a reporter's identity: a request with a reason, a custodian's approval, a time limit,
the requester only, every view audited — and the identity nowhere else."""

import logging
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import Group
from django.contrib.messages import constants as message_levels
from django.contrib.messages import get_messages
from django.utils import timezone

from casework import identity, services
from casework.models import AuditEntry, CaseDocument, IdentityRequest
from casework.services import NotAllowed, ServiceError
from notifications.tasks import sweep_outbox
from org import roles
from tipline import services as intake
from tipline.models import Category
from vault import storage

from .conftest import make_staff

pytestmark = pytest.mark.django_db

NAME, PHONE, ID_NUMBER = "欧阳明月", "13912345678", "11010519491231002X"
SECRETS = (NAME, PHONE, ID_NUMBER)
REASON = "需要当面核实举报的具体细节"


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.TIPLINE_RECEIPT_ARGON2 = {"memory_cost": 8, "iterations": 1, "lanes": 1}


def identified_report(township):
    report, _receipt = intake.create_report(
        intake.ReportInput(
            category=Category.SEX_DETERMINATION,
            township_id=township.id,
            description="某诊所鉴定胎儿性别，地址在镇东街",
            subject_name="某某诊所",
            reporter_name=NAME,
            reporter_phone=PHONE,
            reporter_id_number=ID_NUMBER,
        )
    )
    return report


@pytest.fixture
def secret_report(township, cast):
    return identified_report(township)


def assert_no_identity(text, where):
    for value in SECRETS:
        assert value not in text, f"reporter identity {value!r} shown in {where}"


def flashed(response, level):
    return [str(m) for m in get_messages(response.wsgi_request) if m.level == level]


def approved_request(report, cast):
    req = identity.request_access(report, cast["investigator"], REASON)
    return identity.decide(req.pk, cast["custodian"], True)


# --- asking ---------------------------------------------------------------------------------


def test_request_needs_a_reason_of_ten_characters(login, cast, secret_report):
    client = login(cast["investigator"])
    url = f"/staff/reports/{secret_report.pk}/identity/"
    response = client.post(url, {"reason": "想看一下"})
    assert response.status_code == 302
    assert response["Location"] == f"/staff/reports/{secret_report.pk}/"
    assert flashed(response, message_levels.ERROR)
    response = client.post(url, {"reason": "   " + "理" * 9 + "   "})  # 9 once stripped
    assert flashed(response, message_levels.ERROR)
    assert not IdentityRequest.objects.exists()

    with pytest.raises(ServiceError):
        identity.request_access(secret_report, cast["investigator"], "  " + "理" * 9 + "  ")
    assert not IdentityRequest.objects.exists()
    req = identity.request_access(secret_report, cast["investigator"], "理" * 10)
    assert req.status == IdentityRequest.Status.PENDING

    response = client.post(url, {"reason": REASON})
    assert response.status_code == 302 and response["Location"] == "/staff/identity/"
    assert IdentityRequest.objects.filter(reason=REASON, requested_by=cast["investigator"]).exists()
    assert AuditEntry.objects.filter(action="identity.requested").count() == 2


def test_request_needs_an_identity(login, cast, report):
    """An anonymous report has nothing to see; no request is recorded."""
    with pytest.raises(ServiceError):
        identity.request_access(report, cast["investigator"], REASON)
    client = login(cast["investigator"])
    response = client.post(f"/staff/reports/{report.pk}/identity/", {"reason": REASON})
    assert response.status_code == 302
    assert flashed(response, message_levels.ERROR)
    assert not IdentityRequest.objects.exists()


def test_roles_without_the_permission_cannot_ask(cast, secret_report):
    for who in ("clerk", "custodian", "auditor", "finance"):
        with pytest.raises(NotAllowed):
            identity.request_access(secret_report, cast[who], REASON)


# --- deciding -------------------------------------------------------------------------------


def test_the_custodians_note_box_has_a_label(login, cast, secret_report):
    req = identity.request_access(secret_report, cast["investigator"], REASON)
    html = login(cast["custodian"]).get("/staff/identity/").content.decode()
    assert f'<label for="note-{req.pk}">给申请人的说明</label>' in html
    assert f'<input type="text" name="note" id="note-{req.pk}">' in html


def test_custodian_approves(login, cast, secret_report, settings):
    settings.TIPLINE_IDENTITY_ACCESS_MINUTES = 7
    req = identity.request_access(secret_report, cast["investigator"], REASON)
    for who in ("investigator", "supervisor", "clerk", "auditor"):
        client = login(cast[who])
        response = client.post(f"/staff/identity/{req.pk}/decide/", {"decision": "approve"})
        assert response.status_code == 403, who
    req.refresh_from_db()
    assert req.status == IdentityRequest.Status.PENDING

    client = login(cast["custodian"])
    response = client.post(
        f"/staff/identity/{req.pk}/decide/", {"decision": "approve", "note": "限当面核实"}
    )
    assert response.status_code == 302
    assert flashed(response, message_levels.SUCCESS)
    req.refresh_from_db()
    assert req.status == IdentityRequest.Status.APPROVED
    assert req.decided_by == cast["custodian"]
    assert req.expires_at - req.decided_at == timedelta(minutes=7)
    entry = AuditEntry.objects.get(action="identity.approved")
    assert entry.actor == cast["custodian"] and entry.object_id == str(req.pk)

    # Decided once: a second decision (e.g. a refusal racing the approval) is refused.
    with pytest.raises(ServiceError):
        identity.decide(req.pk, cast["custodian"], False)
    req.refresh_from_db()
    assert req.status == IdentityRequest.Status.APPROVED


@pytest.fixture
def root(db):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_superuser("root", "root@example.invalid", "pw-root")


def test_a_superuser_is_not_a_custodian(login, cast, secret_report, root):
    req = identity.request_access(secret_report, cast["investigator"], REASON)
    client = login(root)
    page = client.get("/staff/identity/")
    assert page.status_code == 200
    assert f"/staff/identity/{req.pk}/decide/" not in page.content.decode()  # no approve button
    response = client.post(f"/staff/identity/{req.pk}/decide/", {"decision": "approve"})
    assert response.status_code == 403
    with pytest.raises(NotAllowed):
        identity.decide(req.pk, root, True)
    req.refresh_from_db()
    assert req.status == IdentityRequest.Status.PENDING and req.decided_by is None
    assert not AuditEntry.objects.filter(action__in=["identity.approved", "identity.refused"])
    # So the requester sees nothing.
    response = login(cast["investigator"]).get(f"/staff/identity/{req.pk}/", follow=True)
    assert_no_identity(response.content.decode(), "the identity page")
    assert not AuditEntry.objects.filter(action="identity.viewed").exists()


def test_a_superuser_in_the_custodian_group_may_decide(login, cast, secret_report, root):
    root.groups.add(Group.objects.get(name=roles.CUSTODIAN))
    req = identity.request_access(secret_report, cast["investigator"], REASON)
    response = login(root).post(f"/staff/identity/{req.pk}/decide/", {"decision": "refuse"})
    assert response.status_code == 302
    req.refresh_from_db()
    assert req.status == IdentityRequest.Status.REFUSED and req.decided_by == root


def test_custodian_cannot_approve_own_request(login, cast, units, secret_report):
    both = make_staff("both", roles.CUSTODIAN, units["county_discipline"])
    both.groups.add(Group.objects.get(name=roles.INVESTIGATOR))
    both = type(both).objects.get(pk=both.pk)
    req = identity.request_access(secret_report, both, REASON)

    with pytest.raises(NotAllowed):
        identity.decide(req.pk, both, True)
    client = login(both)
    assert (
        f"/staff/identity/{req.pk}/decide/" not in client.get("/staff/identity/").content.decode()
    )
    response = client.post(f"/staff/identity/{req.pk}/decide/", {"decision": "approve"})
    assert response.status_code == 302
    assert flashed(response, message_levels.ERROR)
    req.refresh_from_db()
    assert req.status == IdentityRequest.Status.PENDING
    assert req.expires_at is None
    response = client.get(f"/staff/identity/{req.pk}/")
    assert response.status_code == 302
    assert_no_identity(client.get(response["Location"]).content.decode(), "own pending request")

    # Another custodian may approve it.
    identity.decide(req.pk, cast["custodian"], True)
    response = client.get(f"/staff/identity/{req.pk}/")
    assert response.status_code == 200
    assert NAME in response.content.decode()


# --- seeing ---------------------------------------------------------------------------------


def test_approval_is_valid_for_the_configured_minutes(
    login, cast, secret_report, settings, monkeypatch
):
    settings.TIPLINE_IDENTITY_ACCESS_MINUTES = 12
    before = timezone.now()
    req = approved_request(secret_report, cast)
    assert (
        before + timedelta(minutes=12) <= req.expires_at <= timezone.now() + timedelta(minutes=12)
    )
    client = login(cast["investigator"])
    url = f"/staff/identity/{req.pk}/"

    def at(moment):
        monkeypatch.setattr(
            "casework.models.identity.timezone", SimpleNamespace(now=lambda: moment)
        )

    at(req.expires_at - timedelta(seconds=1))
    response = client.get(url)
    assert response.status_code == 200
    assert PHONE in response.content.decode()

    at(req.expires_at)
    response = client.get(url)
    assert response.status_code == 302 and response["Location"] == "/staff/identity/"
    assert flashed(response, message_levels.ERROR)

    at(req.expires_at + timedelta(minutes=60))
    response = client.get(url)
    assert response.status_code == 302
    assert AuditEntry.objects.filter(action="identity.viewed").count() == 1
    with pytest.raises(NotAllowed):
        identity.reveal(req.pk, cast["investigator"])


def test_only_the_requester_can_view(login, cast, units, secret_report):
    req = approved_request(secret_report, cast)
    colleague = make_staff("investigator2", roles.INVESTIGATOR, units["zs_fp"])
    url = f"/staff/identity/{req.pk}/"
    for user, status in [
        (cast["custodian"], 403),
        (cast["supervisor"], 404),
        (cast["clerk"], 404),
        (cast["auditor"], 404),
        (cast["finance"], 403),  # reads no report at all: 403 whatever the id
        (cast["other_investigator"], 404),
        (colleague, 404),
    ]:
        response = login(user).get(url)
        assert response.status_code == status, user.username
        assert_no_identity(response.content.decode(), f"identity view for {user.username}")
        with pytest.raises(NotAllowed):
            identity.reveal(req.pk, user)
    assert not AuditEntry.objects.filter(action="identity.viewed").exists()


def test_each_view_is_audited(login, cast, secret_report):
    req = approved_request(secret_report, cast)
    client = login(cast["investigator"])
    for n in (1, 2, 3):
        response = client.get(f"/staff/identity/{req.pk}/")
        assert response.status_code == 200
        views = AuditEntry.objects.filter(action="identity.viewed")
        assert views.count() == n
    assert {(e.actor_id, e.object_type, e.object_id) for e in views} == {
        (cast["investigator"].pk, "casework.identityrequest", str(req.pk))
    }
    assert views.first().data == {"report": str(secret_report.pk)}


def test_refused_or_pending_request_cannot_be_viewed(login, cast, secret_report):
    pending = identity.request_access(secret_report, cast["investigator"], REASON)
    refused = identity.request_access(secret_report, cast["investigator"], REASON + "（二）")
    identity.decide(refused.pk, cast["custodian"], False, "理由不充分")
    refused.refresh_from_db()
    assert refused.status == IdentityRequest.Status.REFUSED and refused.expires_at is None

    client = login(cast["investigator"])
    for req in (pending, refused):
        response = client.get(f"/staff/identity/{req.pk}/", follow=True)
        assert response.redirect_chain == [("/staff/identity/", 302)]
        assert_no_identity(response.content.decode(), "refused/pending request")
        with pytest.raises(NotAllowed):
            identity.reveal(req.pk, cast["investigator"])
    assert not AuditEntry.objects.filter(action="identity.viewed").exists()


# --- nowhere else -----------------------------------------------------------------------------


def test_identity_appears_only_on_the_time_limited_view(
    login, cast, units, township, caplog, mailoutbox
):
    caplog.set_level(logging.DEBUG)
    report = identified_report(township)
    # Run the outbox in-process whether or not a broker is configured (CI has one).
    sweep_outbox.apply()
    assert mailoutbox, "the clerks were not told about the new report"
    waiting = identified_report(township)  # stays in the queue of new reports

    # A tip taken on the phone, with the caller's identity typed in by the clerk.
    clerk = login(cast["clerk"])
    response = clerk.post(
        "/staff/reports/new/",
        {
            "category": Category.SEX_DETERMINATION,
            "township": township.code,
            "description": "电话举报：某诊所鉴定胎儿性别",
            "channel": "phone",
            "received_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "reporter_name": NAME,
            "reporter_phone": PHONE,
            "reporter_id_number": ID_NUMBER,
        },
    )
    assert response.status_code == 200
    assert_no_identity(response.content.decode(), "staff tip receipt page")

    case = services.open_case(report.pk, cast["clerk"])
    services.assign(
        case.pk, cast["supervisor"], unit_id=units["zs_fp"].pk, investigator=cast["investigator"]
    )
    services.start_investigation(case.pk, cast["investigator"])
    investigator = login(cast["investigator"])
    assert investigator.post(f"/staff/cases/{case.pk}/documents/generate/").status_code == 302
    doc = CaseDocument.objects.get(case=case, doc_type__code="registration_form")
    form_html = storage.read(doc).decode()
    assert case.number in form_html  # the right document
    assert_no_identity(form_html, "举报登记表")

    investigator.post(f"/staff/reports/{report.pk}/identity/", {"reason": REASON})
    req = IdentityRequest.objects.get(report=report)
    custodian = login(cast["custodian"])
    custodian.post(f"/staff/identity/{req.pk}/decide/", {"decision": "approve"})

    # The one place it shows: for the requester, while the approval lasts, never cached.
    investigator = login(cast["investigator"])
    response = investigator.get(f"/staff/identity/{req.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    for value in SECRETS:
        assert value in html
    assert "no-store" in response["Cache-Control"]

    pages = [
        "/staff/",
        "/staff/reports/",
        "/staff/reports/?status=accepted",
        f"/staff/reports/{report.pk}/",
        f"/staff/reports/{waiting.pk}/",
        "/staff/cases/",
        "/staff/cases/?state=all",
        "/staff/cases/files/",
        f"/staff/cases/{case.pk}/",
        f"/staff/cases/{case.pk}/index/",
        f"/staff/cases/{case.pk}/documents/{doc.pk}/",
        "/staff/identity/",
        "/staff/inbox/",
    ]
    sweep_outbox.apply()  # every notice so far, in each person's inbox and mail
    for who in ("clerk", "investigator", "supervisor", "custodian", "auditor", "finance"):
        client = login(cast[who])
        for url in pages:
            response = client.get(url)
            # Finance reads no report and no case (403 on their pages).
            opens = who != "finance" or url in ("/staff/", "/staff/inbox/")
            assert response.status_code == (200 if opens else 403), (who, url)
            assert_no_identity(response.content.decode(), f"{url} for {who}")
    auditor = login(cast["auditor"])
    for url in ("/staff/audit/", "/staff/audit/?action=identity", "/staff/audit/?action=staff"):
        response = auditor.get(url)
        assert response.status_code == 200
        assert_no_identity(response.content.decode(), url)
    assert "identity.viewed" in auditor.get("/staff/audit/").content.decode()

    for message in mailoutbox:
        assert_no_identity(f"{message.subject}\n{message.body}\n{message.alternatives}", "e-mail")
    assert_no_identity(caplog.text, "log output")
    for record in caplog.records:
        assert_no_identity(repr(vars(record)), f"log record {record.name}")
    assert_no_identity(repr(list(AuditEntry.objects.values("data"))), "audit data")
