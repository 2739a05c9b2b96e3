"""Whole-vault operations cover every sealed model the app registry knows, not a fixed list.

The models are enumerated the way the commands enumerate them (``sealed_models``); each needs a
planter here that makes a row through the app's own services. A sealed model added later fails
``test_every_sealed_model_is_planted`` until it gets one, so rotation is never untested on it.
"""

import shutil

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.utils import timezone

from casework import services as casework
from casework.assessment import inspections
from casework.models import DocumentType
from casework.rewards import services as rewards
from casework.rewards.models import Reward
from org.models import Unit
from tipline.attachments import sanitize
from vault import keyring, storage
from vault.keyring import KeyRing
from vault.models import sealed_models

from ..rewards.helpers import step_up
from ..tipline.helpers import VALID_ID, jpeg_with_gps

pytestmark = pytest.mark.django_db


@pytest.fixture
def ring_file(settings, tmp_path, _session_keys):
    path = tmp_path / "ring" / "keys.json"
    path.parent.mkdir()
    shutil.copy(_session_keys, path)
    path.chmod(0o600)
    settings.TIPLINE_KEYS_FILE = str(path)
    keyring.reset_cache()
    return path


@pytest.fixture
def superuser(db):
    return get_user_model().objects.create_superuser("root", "root@example.invalid", "pw")


def _plant_report(make_report):
    report, _ = make_report(
        files=[jpeg_with_gps()],
        reporter_name="赵全库",
        reporter_phone="13600001111",
        reporter_id_number=VALID_ID,
    )
    return report


def _plant_claim(ctx):
    """A bank-transfer claim of a paid-out case's reward: investigated by one superuser,
    approved (after a step-up) by another, claimed with the receipt."""
    report, receipt = ctx["make_report"](reporter_name="赵全库")
    boss = ctx["user"]
    investigator = get_user_model().objects.create_superuser("inv", "inv@example.invalid", "pw")
    township = report.township
    unit = Unit.objects.create(
        county=township.county, township=township, kind=Unit.Kind.HEALTH_CENTER, name="卫生院"
    )
    case = casework.open_case(report.pk, boss)
    casework.assign(case.pk, boss, unit_id=unit.pk, investigator=investigator)
    casework.start_investigation(case.pk, investigator)
    casework.add_document(
        case.pk,
        investigator,
        DocumentType.objects.get(code="penalty_decision"),
        sanitize(jpeg_with_gps(), max_bytes=1024 * 1024),
    )
    casework.penalize(case.pk, boss, "罚款三万元")
    reward = Reward.objects.get(case=case)
    # Four eyes: the proposer (boss took 查处) may not approve; a second superuser does.
    approver = get_user_model().objects.create_superuser("approver", "ap@example.invalid", "pw")
    step_up(approver, reward)
    rewards.approve(reward.pk, approver)
    rewards.claim(
        reward.pk,
        receipt,
        method="bank",
        payee_name="赵全库",
        bank_name="农业银行",
        account_number="6228480402564890018",
    )


def _plant_sheet_evidence(ctx):
    """An inspection record behind a township's points on the assessment sheet."""
    report, _ = ctx["make_report"]()
    record = sanitize(jpeg_with_gps(), max_bytes=1024 * 1024)
    inspections.enter_round(
        report.township.pk,
        timezone.localdate().year,
        "q2",
        {"art04": inspections.ItemInput("8", "督查记录", [record])},
        ctx["user"],
    )


PLANTERS = {
    # label → makes at least one row of that model, through the services the app uses
    "tipline.ReporterIdentity": lambda ctx: _plant_report(ctx["make_report"]),
    "tipline.Attachment": lambda ctx: _plant_report(ctx["make_report"]),
    "casework.CaseDocument": lambda ctx: casework.add_document(
        casework.open_case(_plant_report(ctx["make_report"]).pk, ctx["user"]).pk,
        ctx["user"],
        DocumentType.objects.get(code="evidence"),
        sanitize(jpeg_with_gps(), max_bytes=1024 * 1024),
    ),
    "rewards.RewardClaim": _plant_claim,
    "assessment.SheetEvidence": _plant_sheet_evidence,
}


@pytest.fixture
def planted(ring_file, make_report, superuser):
    ctx = {"make_report": make_report, "user": superuser}
    for model in sealed_models():
        planter = PLANTERS.get(model._meta.label)
        if planter is not None:
            planter(ctx)
    return ctx


def test_every_sealed_model_is_planted(planted):
    models = sealed_models()
    assert models, "the registry finds no sealed model at all"
    for model in models:
        assert model._meta.label in PLANTERS, (
            f"{model._meta.label} is sealed but has no planter here: add one so key rotation "
            "and verification are tested on it"
        )
        assert model.objects.exists(), f"the planter made no {model._meta.label} row"


def _all_rows():
    return [row for model in sealed_models() for row in model.objects.all()]


def test_rotate_then_every_row_of_every_sealed_model_opens(
    file_storage, planted, ring_file, capsys
):
    before = {(type(r), r.pk): bytes(r.wrapped_key) for r in _all_rows()}
    files = {r.pk: storage.read(r) for r in _all_rows() if r.HAS_FILE}
    assert files, "no encrypted file was planted"

    call_command("rotate_keys")
    out = capsys.readouterr().out
    assert f"Re-wrapped {len(before)} data keys under version 2" in out

    keyring.reset_cache()
    assert KeyRing.from_json(ring_file.read_text()).current_kek == 2
    rows = _all_rows()
    assert len(rows) == len(before)
    for row in rows:
        assert row.kek_version == 2, f"{row._meta.label} {row.pk} was not re-wrapped"
        assert bytes(row.wrapped_key) != before[(type(row), row.pk)]
        assert row.open_everything() >= 1
        if row.HAS_FILE:
            assert storage.read(row) == files[row.pk]

    call_command("verify_vault")
    out = capsys.readouterr().out
    assert "Every sealed row opens with this key ring." in out
    for model in sealed_models():
        assert model._meta.label in out


def test_verify_vault_names_a_row_that_does_not_open(planted, capsys):
    victim = next(r for r in _all_rows() if r.HAS_FILE)
    path = storage.path_for(victim)
    data = bytearray(path.read_bytes())
    data[-1] ^= 0x01  # one flipped bit in the ciphertext's tag
    path.write_bytes(bytes(data))

    with pytest.raises(CommandError, match=str(victim.pk)):
        call_command("verify_vault")


def test_verify_vault_fails_with_a_ring_that_lacks_the_rows_key(planted, ring_file):
    other = KeyRing.generate()
    other.save(ring_file)
    keyring.reset_cache()

    with pytest.raises(CommandError, match="do not open"):
        call_command("verify_vault")
