"""Retention: rejected reports go after their period, identities and payee details of archived,
settled cases are crypto-shredded after theirs, case files and the audit log stay.

Everything is made through the services, with the clock set back for what happened long ago.
"""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.utils import timezone

from casework import audit, services
from casework import identity as identity_service
from casework.errors import NotAllowed, ServiceError
from casework.models import AuditEntry, Case, IdentityRequest
from casework.rewards import services as rewards
from casework.rewards.models import RewardClaim
from ops import retention
from tipline.attachments import sanitize
from tipline.models import Attachment, Report, ReporterIdentity, ReportMessage
from vault import storage

from ..rewards.helpers import (
    ACCOUNT,
    approve,
    file_doc,
    filed,
    investigate,
    pay,
    penalize,
    reward_of,
)
from ..tipline.helpers import VALID_ID, jpeg_with_gps

pytestmark = pytest.mark.django_db
TZ = ZoneInfo("Asia/Shanghai")
NAME = "周保留"


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.TIPLINE_RECEIPT_ARGON2 = {"memory_cost": 8, "iterations": 1, "lanes": 1}


def rejected(township, cast, *, identity=True):
    extra = {"reporter_name": NAME, "reporter_id_number": VALID_ID} if identity else {}
    report, _receipt = filed(township, **extra)
    services.reject_report(report.pk, cast["clerk"], "no_facts", "请补充具体地址")
    return report


def with_photo(township, cast):
    from tipline import services as intake

    report, _receipt = intake.create_report(
        intake.ReportInput(
            category="sex_determination",
            township_id=township.id,
            description="无具体对象的举报，附照片一张。",
            reporter_name=NAME,
        ),
        files=[sanitize(jpeg_with_gps(), max_bytes=1024 * 1024)],
    )
    services.reject_report(report.pk, cast["clerk"], "no_facts", "")
    return report


FULL_FILE = (
    "acceptance_approval",
    "interview_record",
    "inspection_record",
    "evidence",
    "service_receipt",
    "closing_report",
)


def archived_with_paid_reward(township, cast, units):
    report, receipt = filed(
        township, reporter_name=NAME, reporter_phone="13600001111", reporter_id_number=VALID_ID
    )
    case = penalize(investigate(report, cast, units), cast)
    services.generate_registration_form(case.pk, cast["investigator"])
    for code in FULL_FILE:
        file_doc(case, cast["investigator"], code)
    reward = approve(reward_of(case), cast["leader"])
    rewards.claim(
        reward.pk,
        receipt,
        method="bank",
        payee_name=NAME,
        bank_name="农业银行",
        account_number=ACCOUNT,
    )
    pay(reward, cast["finance"])  # paid: the reward is settled
    services.give_feedback(case.pk, cast["supervisor"], "已查处，奖励已发放。")
    return services.archive(case.pk, cast["supervisor"]), report


# --- rejected reports ---------------------------------------------------------------------------


def test_old_rejected_reports_go_with_their_evidence(
    township, cast, clock, settings, django_capture_on_commit_callbacks, file_storage
):
    clock(800)
    old = with_photo(township, cast)
    files = [storage.name_for(a) for a in Attachment.objects.filter(report=old)]
    asked = rejected(township, cast)
    identity_service.request_access(asked, cast["investigator"], "核实是否为恶意举报的需要")
    clock(100)
    recent = rejected(township, cast)
    clock(None)
    assert set(files) <= set(file_storage.stored()) and len(files) == 1

    with django_capture_on_commit_callbacks(execute=True):
        done = retention.run()

    assert (done.reports_deleted, done.files_removed) == (1, 1)
    assert not Report.objects.filter(pk=old.pk).exists()
    for model in (ReporterIdentity, ReportMessage, Attachment):
        assert not model.objects.filter(report_id=old.pk).exists()
    assert not set(files) & set(file_storage.stored())  # the file (object) itself is gone
    # Kept: the one an identity request refers to, and the one still within its period.
    assert set(Report.objects.values_list("pk", flat=True)) == {asked.pk, recent.pk}
    entry = AuditEntry.objects.get(action="retention.reports_deleted")
    assert entry.data == {"count": 1, "files": 1, "days": 730}
    assert audit.verify()[0]


def test_a_rollback_keeps_the_files(township, cast, clock, monkeypatch):
    clock(800)
    old = with_photo(township, cast)
    path = storage.path_for(Attachment.objects.get(report=old))
    clock(None)

    def boom(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(Report, "delete", boom)
    with pytest.raises(RuntimeError):
        retention.run()
    assert path.exists() and Report.objects.filter(pk=old.pk).exists()


def test_dry_run_lists_and_changes_nothing(township, cast, clock, capsys):
    clock(800)
    rejected(township, cast)
    asked = rejected(township, cast)
    identity_service.request_access(asked, cast["investigator"], "核实是否为恶意举报的需要")
    clock(None)
    before = (Report.objects.count(), AuditEntry.objects.count())

    call_command("purge", "--dry-run")

    out = capsys.readouterr().out
    assert "Would delete 1 rejected reports" in out
    assert f"keeping report {asked.pk}: an identity request refers to it" in out
    assert (Report.objects.count(), AuditEntry.objects.count()) == before


# --- identities -----------------------------------------------------------------------------------


@pytest.fixture
def private_ring(settings, tmp_path, _session_keys):
    """A copy of the session key ring that rotate_keys may rewrite (never the shared one)."""
    import shutil

    from vault import keyring

    path = tmp_path / "ring" / "keys.json"
    path.parent.mkdir()
    shutil.copy(_session_keys, path)
    settings.TIPLINE_KEYS_FILE = str(path)
    keyring.reset_cache()
    return path


def test_identities_and_payee_details_of_old_settled_cases_are_shredded(
    township, cast, units, clock, capsys, private_ring
):
    clock(400)
    case, report = archived_with_paid_reward(township, cast, units)
    clock(30)
    recent_case, recent_report = archived_with_paid_reward(township, cast, units)
    clock(None)
    identity = ReporterIdentity.objects.get(report=report)
    claim = RewardClaim.objects.get(reward__case=case)
    assert identity.reveal()["name"] == NAME and claim.payee()["account_number"]
    description = report.description

    call_command("purge")
    assert "identities shredded 1, claims shredded 1, cases 1" in capsys.readouterr().out

    identity = ReporterIdentity.objects.get(pk=identity.pk)
    claim = RewardClaim.objects.get(pk=claim.pk)
    for row in (identity, claim):
        assert row.is_shredded and bytes(row.wrapped_key) == b""
        assert all(getattr(row, f"{f}_sealed") is None for f in row.SEALED_FIELDS)
        assert all(getattr(row, f) == "" for f in row.BLIND_INDEXES)
    # The report keeps what it says, the case file stays whole.
    assert Report.objects.get(pk=report.pk).description == description
    assert Case.objects.get(pk=case.pk).documents.count() == case.documents.count()
    # The case's history says when; the log holds counts, never the identity.
    entry = AuditEntry.objects.get(action="identity.shredded")
    assert (entry.object_type, entry.object_id) == ("casework.case", str(case.pk))
    assert entry.data == {"identities": 1, "payee_details": 1, "days_after_archiving": 365}
    assert NAME not in str(entry.data)
    # The recent case keeps its identity.
    assert ReporterIdentity.objects.get(report=recent_report).reveal()["name"] == NAME
    assert not ReporterIdentity.objects.get(report=recent_report).is_shredded
    assert recent_case.pk != case.pk

    # Nobody can see the shredded identity, and the vault and the log still verify.
    with pytest.raises(ServiceError):
        identity_service.request_access(report, cast["investigator"], "需要当面核实举报的细节")
    call_command("verify_vault")
    assert "1 shredded" in capsys.readouterr().out
    assert audit.verify()[0]
    call_command("rotate_keys")  # a later rotation passes over shredded rows
    assert "Re-wrapped" in capsys.readouterr().out

    # Running again changes nothing.
    before = AuditEntry.objects.count()
    retention.run()
    assert AuditEntry.objects.count() == before


def test_an_approved_request_stops_working_once_shredded(township, cast, units, clock):
    clock(400)
    _case, report = archived_with_paid_reward(township, cast, units)
    clock(None)
    req = identity_service.request_access(report, cast["investigator"], "需要当面核实举报的细节")
    identity_service.decide(req.pk, cast["custodian"], True)
    retention.run()
    with pytest.raises(NotAllowed):
        identity_service.reveal(req.pk, cast["investigator"])
    assert IdentityRequest.objects.get(pk=req.pk).status == "approved"


def test_a_case_whose_reward_is_pending_is_never_shredded(township, cast, units, clock):
    """An archived case cannot have a pending reward; a penalized one (not archived) with its
    reward claimed keeps the payee details however old."""
    clock(400)
    report, _receipt = filed(township, reporter_name=NAME)
    case = penalize(investigate(report, cast, units), cast)
    clock(None)
    retention.run()
    assert not ReporterIdentity.objects.get(report=report).is_shredded
    assert Case.objects.get(pk=case.pk).state == "penalized"


def test_now_is_the_real_clock_again():
    """(The clock fixture restores itself; this guards the helper, not the product.)"""
    assert abs(timezone.now() - datetime.now(TZ)) < timedelta(minutes=1)
