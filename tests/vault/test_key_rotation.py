"""Key ring files, generate_keys and rotate_keys."""

import json
import os
import shutil
import stat

import pytest
from django.core.management import CommandError, call_command

from tipline.models import Attachment, ReporterIdentity
from vault import keyring, storage
from vault.keyring import KeyRing, KeyRingError
from vault.models import sealed_models

from ..tipline.helpers import VALID_ID, jpeg_with_gps

IDENTITY = {"name": "赵轮换", "phone": "13600001111", "id_number": VALID_ID}


@pytest.fixture
def ring_file(settings, tmp_path, _session_keys):
    """A private copy of the session key ring that the commands may rewrite."""
    path = tmp_path / "ring" / "keys.json"
    path.parent.mkdir()
    shutil.copy(_session_keys, path)
    path.chmod(0o600)
    settings.TIPLINE_KEYS_FILE = str(path)
    keyring.reset_cache()
    return path


@pytest.fixture
def sealed_rows(ring_file, make_report):
    report, _ = make_report(
        files=[jpeg_with_gps(), jpeg_with_gps((0, 0, 200))],
        reporter_name=IDENTITY["name"],
        reporter_phone=IDENTITY["phone"],
        reporter_id_number=IDENTITY["id_number"],
    )
    make_report(reporter_phone="13700002222")
    contents = {a.pk: storage.read(a) for a in Attachment.objects.all()}
    return report, contents


def snapshot():
    rows = [row for model in sealed_models() for row in model.objects.all()]
    return {r.pk: (r.kek_version, bytes(r.wrapped_key)) for r in rows}


def test_rotate_rewraps_every_data_key(sealed_rows, ring_file, capsys, attachment_files):
    report, contents = sealed_rows
    before = snapshot()
    files_before = {p: p.read_bytes() for p in attachment_files()}
    assert len(files_before) == 2
    old_ring = KeyRing.from_json(ring_file.read_text())
    assert len(before) == 4 and {v for v, _ in before.values()} == {1}

    call_command("rotate_keys")
    assert "Re-wrapped 4 data keys under version 2" in capsys.readouterr().out

    new_ring = KeyRing.from_json(ring_file.read_text())
    assert new_ring.current_kek == 2
    assert new_ring.keks[1] == old_ring.keks[1]  # old KEK kept for older backups
    assert new_ring.keks[2] != old_ring.keks[1]
    assert new_ring.receipt_pepper == old_ring.receipt_pepper  # receipts still look up
    assert stat.S_IMODE(ring_file.stat().st_mode) == 0o600

    after = snapshot()
    assert after.keys() == before.keys()
    for pk, (version, wrapped) in after.items():
        assert version == 2
        assert wrapped != before[pk][1]

    keyring.reset_cache()
    identity = ReporterIdentity.objects.get(report=report)
    assert identity.reveal() == IDENTITY
    for attachment in Attachment.objects.all():
        assert storage.read(attachment) == contents[attachment.pk]
    # Only the data keys were re-wrapped: the encrypted files are untouched.
    for path, data in files_before.items():
        assert path.read_bytes() == data


def test_old_kek_alone_no_longer_opens_rotated_rows(sealed_rows, ring_file):
    old_ring = KeyRing.from_json(ring_file.read_text())
    call_command("rotate_keys")
    old_only = KeyRing.from_json(ring_file.read_text())
    old_only.keks = {1: old_ring.keks[1]}
    old_only.current_kek = 1
    ring_file.write_text(old_only.to_json())
    keyring.reset_cache()
    with pytest.raises(KeyRingError, match="version 2"):
        ReporterIdentity.objects.first().reveal()


def test_rewrap_only_is_a_no_op_when_current(sealed_rows, ring_file, capsys):
    before = snapshot()
    ring_text = ring_file.read_text()
    call_command("rotate_keys", "--rewrap-only")
    assert "Re-wrapped 0 data keys under version 1" in capsys.readouterr().out
    assert snapshot() == before
    assert ring_file.read_text() == ring_text


def test_rewrap_only_catches_up_rows_after_a_key_was_added(sealed_rows, ring_file, capsys):
    ring = KeyRing.from_json(ring_file.read_text())
    ring.add_kek()
    ring.save(ring_file)
    keyring.reset_cache()
    call_command("rotate_keys", "--rewrap-only")
    assert "Re-wrapped 4 data keys under version 2" in capsys.readouterr().out
    assert {v for v, _ in snapshot().values()} == {2}
    keyring.reset_cache()
    report, _contents = sealed_rows
    assert ReporterIdentity.objects.get(report=report).reveal() == IDENTITY


def test_new_rows_use_the_new_kek_after_rotation(sealed_rows, ring_file, make_report):
    call_command("rotate_keys")
    keyring.reset_cache()
    report, _ = make_report(reporter_name="新人")
    identity = ReporterIdentity.objects.get(report=report)
    assert identity.kek_version == 2
    assert identity.reveal()["name"] == "新人"


def test_generate_keys_writes_private_parseable_file(tmp_path):
    out = tmp_path / "new" / "keys.json"
    call_command("generate_keys", "--out", str(out))
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    ring = KeyRing.from_json(out.read_text())
    assert ring.current_kek == 1 and len(ring.keks[1]) == 32
    assert len({ring.blind_index_key, ring.receipt_pepper, ring.rate_limit_key}) == 3


def test_generate_keys_refuses_to_overwrite(tmp_path):
    out = tmp_path / "keys.json"
    call_command("generate_keys", "--out", str(out))
    original = out.read_text()
    with pytest.raises(CommandError, match="refusing to overwrite"):
        call_command("generate_keys", "--out", str(out))
    assert out.read_text() == original
    call_command("generate_keys", "--out", str(out), "--force")
    assert out.read_text() != original
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


def _ring_dict() -> dict:
    return json.loads(KeyRing.generate().to_json())


def _corrupt(**changes) -> str:
    data = _ring_dict()
    for key, value in changes.items():
        if value is None:
            del data[key]
        else:
            data[key] = value
    return json.dumps(data)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not json", "not valid JSON"),
        ("[]", "format must be"),
        (_corrupt(format="other-format"), "format must be"),
        (_corrupt(blind_index_key="%%% not base64 %%%"), "blind_index_key is not valid base64"),
        (_corrupt(receipt_pepper="c2hvcnQ="), "receipt_pepper must be 32 bytes, got 5"),
        (_corrupt(keks={"1": "@@@"}), "keks.1 is not valid base64"),
        (_corrupt(signing_key=None), "missing or has a bad entry"),
        (_corrupt(keks=None), "missing or has a bad entry"),
        (_corrupt(current_kek=7), "version 7 is not in the key ring"),
        (_corrupt(current_kek="one"), "missing or has a bad entry"),
        (_corrupt(keks=["x"]), "missing or has a bad entry"),
    ],
)
def test_corrupt_key_ring_raises_key_ring_error(text, message):
    with pytest.raises(KeyRingError, match=message):
        KeyRing.from_json(text)


def test_missing_key_ring_file_is_an_error_without_autocreate(settings, tmp_path):
    settings.TIPLINE_KEYS_FILE = str(tmp_path / "absent.json")
    settings.TIPLINE_KEYS_AUTOCREATE = False
    keyring.reset_cache()
    with pytest.raises(KeyRingError, match="does not exist"):
        keyring.get_keyring()
    assert not (tmp_path / "absent.json").exists()


def test_corrupt_key_ring_file_stops_report_intake(settings, tmp_path, make_report):
    path = tmp_path / "bad.json"
    path.write_text(_corrupt(rate_limit_key="AAAA"))
    settings.TIPLINE_KEYS_FILE = str(path)
    keyring.reset_cache()
    with pytest.raises(KeyRingError, match="rate_limit_key"):
        make_report(reporter_name="x")


def test_a_ring_written_before_the_backup_code_key_derives_a_stable_one(tmp_path):
    ring = KeyRing.generate()
    data = json.loads(ring.to_json())
    del data["backup_code_key"]
    old = KeyRing.from_json(json.dumps(data))
    assert len(old.backup_code_key) == 32
    assert old.backup_code_key == KeyRing.from_json(json.dumps(data)).backup_code_key
    assert old.backup_code_key not in (old.blind_index_key, ring.backup_code_key)


# --- several hosts: stage, copy, activate; running processes re-read the ring ------------------


def _install(ring: KeyRing, path, *, mtime_ns=None):
    """As an operator installs a ring copied from another host: beside the old, renamed over."""
    tmp = path.with_name(".keys.json.new")
    ring.save(tmp)
    if mtime_ns is not None:  # a copy that kept the old file's time (rsync -t, cp -p)
        os.utime(tmp, ns=(mtime_ns, mtime_ns))
    os.replace(tmp, path)


def test_a_running_process_picks_up_a_ring_with_an_added_key(ring_file):
    before = keyring.get_keyring()
    assert set(before.keks) == {1}
    copied = KeyRing.from_json(ring_file.read_text())
    copied.add_kek(make_current=False)
    # Even with the same modification time: the rename gives it another inode (and size).
    _install(copied, ring_file, mtime_ns=ring_file.stat().st_mtime_ns)
    after = keyring.get_keyring()  # no reset_cache(): what a running process does
    assert set(after.keks) == {1, 2} and after.current_kek == 1


def test_stage_adds_a_key_that_is_not_used_until_activated(
    sealed_rows, ring_file, capsys, make_report
):
    call_command("rotate_keys", "--stage")
    assert "Staged key-encryption key version 2" in capsys.readouterr().out
    ring = KeyRing.from_json(ring_file.read_text())
    assert set(ring.keks) == {1, 2} and ring.current_kek == 1 and ring.staged == [2]
    assert {v for v, _ in snapshot().values()} == {1}  # nothing re-wrapped yet
    report, _ = make_report(reporter_phone="13900003333")
    assert ReporterIdentity.objects.get(report=report).kek_version == 1  # not used yet

    call_command("rotate_keys", "--activate")
    out = capsys.readouterr().out
    assert "Key-encryption key version 2 is now current" in out
    assert "Re-wrapped 5 data keys under version 2" in out
    assert KeyRing.from_json(ring_file.read_text()).current_kek == 2
    assert {v for v, _ in snapshot().values()} == {2}
    call_command("verify_vault")


def test_activate_without_a_staged_key_is_refused_and_changes_nothing(sealed_rows, ring_file):
    before = ring_file.read_bytes()
    with pytest.raises(CommandError, match="rotate_keys --stage first"):
        call_command("rotate_keys", "--activate")
    assert ring_file.read_bytes() == before
    assert {v for v, _ in snapshot().values()} == {1}
