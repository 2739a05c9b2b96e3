"""Encrypted files through Django's storage API, on the local disk and in S3 (SeaweedFS).

Each test runs on both storages (the ``file_storage`` fixture): what is stored is ciphertext under
the row's random id only, it opens byte for byte, a missing or damaged file is named by
verify_vault, a removed row's object is deleted, and with S3 nothing lands on the local disk.
"""

import hashlib
import os
import tempfile

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.core.management import CommandError, call_command

from ops import health
from tipline import services, submissions
from tipline.attachments import sanitize
from tipline.models import Attachment, Report
from vault import storage

from ..conftest import s3_storage
from ..tipline.helpers import GPS_MARKER, VALID_ID, form_data, jpeg_with_gps, upload

NAME = "孙存储"


def _report(make_report, *files):
    return make_report(
        files=list(files) or [jpeg_with_gps()],
        reporter_name=NAME,
        reporter_phone="13600001111",
        reporter_id_number=VALID_ID,
    )


def test_files_are_ciphertext_under_random_names_and_open_byte_for_byte(
    make_report, file_storage, settings
):
    report, _receipt = _report(make_report, jpeg_with_gps(), jpeg_with_gps((0, 0, 200)))
    attachments = list(Attachment.objects.filter(report=report))
    stored = file_storage.stored()

    assert sorted(stored) == sorted(f"{a.pk}.bin" for a in attachments)
    for attachment in attachments:
        plain = storage.read(attachment)
        assert plain[:2] == b"\xff\xd8" and len(plain) == attachment.size
        blob = stored[f"{attachment.pk}.bin"]
        assert plain not in blob and plain[:64] not in blob  # not the photo: its ciphertext
        for secret in (NAME.encode(), b"13600001111", VALID_ID.encode(), GPS_MARKER.encode()):
            assert secret not in blob
    if file_storage.kind == "s3":
        # Nothing of it on this host's disk.
        root = settings.TIPLINE_ATTACHMENT_DIR
        assert not root.exists() or not any(p.is_file() for p in root.rglob("*"))


def test_a_failed_report_leaves_no_file(make_report, file_storage, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("database went away")

    # After the files are written, as the statement that writes the report's rows is sent.
    monkeypatch.setattr(services.together, "insert", boom)
    with pytest.raises(RuntimeError):
        _report(make_report)
    assert file_storage.stored() == {}
    assert not Attachment.objects.exists()


def test_verify_vault_opens_every_file_and_names_a_damaged_or_missing_one(
    make_report, file_storage, capsys
):
    report, _ = _report(make_report, jpeg_with_gps(), jpeg_with_gps((0, 0, 200)))
    first, second = Attachment.objects.filter(report=report).order_by("pk")
    call_command("verify_vault")
    assert "Every sealed row opens with this key ring." in capsys.readouterr().out

    # One flipped bit in the stored ciphertext, written back through the storage.
    blob = bytearray(storage.read_sealed(storage.name_for(first)))
    blob[-1] ^= 0x01
    storage.files().save(storage.name_for(first), ContentFile(bytes(blob)))
    with pytest.raises(CommandError, match=str(first.pk)):
        call_command("verify_vault")

    # A file gone from the storage: named too, never passed over.
    storage.files().save(storage.name_for(first), ContentFile(bytes(blob[:-1] + b"\0")))
    storage.delete(second)
    assert not storage.exists(second)
    with pytest.raises(CommandError, match="do not open"):
        call_command("verify_vault")


def test_names_lists_every_stored_file(make_report, file_storage):
    report, _ = _report(make_report, jpeg_with_gps(), jpeg_with_gps((0, 0, 200)))
    expected = sorted(f"{a.pk}.bin" for a in Attachment.objects.filter(report=report))
    assert storage.names() == expected


def test_deep_health_check_says_where_files_go(client, settings, file_storage, db):
    settings.TIPLINE_HEALTH_TOKEN = "monitor-token-0123456789"
    auth = {"HTTP_AUTHORIZATION": "Bearer monitor-token-0123456789"}
    body = client.get("/healthz?deep=1", **auth).json()
    checks = body["checks"]
    if file_storage.kind == "s3":
        assert checks["attachment_storage"] == f"ok: s3 bucket {file_storage.bucket}"
    else:
        assert checks["attachment_storage"].startswith("ok: local, ")


@pytest.mark.s3
def test_a_bucket_that_does_not_answer_fails_the_deep_check(client, settings, seaweed):
    settings.STORAGES = {**settings.STORAGES, "vault": s3_storage(seaweed, "no-such-bucket-here")}
    status, results = health._run(health.DEEP, detailed=True)
    assert status == "fail"
    assert results["attachment_storage"].startswith("fail: ClientError")


@pytest.mark.s3
def test_a_report_while_the_bucket_is_unreachable_is_refused_whole(
    client, township, settings, seaweed
):
    """Object storage down: the report with a photo is refused with the storage page (send it
    without the files now, add them later), and nothing at all was kept."""
    seaweed.empty(seaweed.test_bucket)
    unreachable = s3_storage(seaweed, seaweed.test_bucket)
    unreachable["OPTIONS"]["endpoint_url"] = "http://127.0.0.1:9"  # nothing listens there
    settings.STORAGES = {**settings.STORAGES, "vault": unreachable}
    token = submissions.new_token()
    data = form_data(township, submission=token)
    response = client.post("/report/", {**data, "evidence": [upload()]})
    assert response.status_code == 503 and response["Retry-After"] == "30"
    html = response.content.decode()
    assert "证据文件的存储暂时无法连接" in html and "存储空间已满" not in html  # what happened
    assert "不带附件" in html  # and what to do: send it without the files
    assert Report.objects.count() == 0 and Attachment.objects.count() == 0
    assert submissions.spent_at(token) is None
    assert seaweed.objects(seaweed.test_bucket) == {}

    response = client.post("/report/", data)  # sent without the files: filed, once
    assert response.status_code == 200 and "receipt-number" in response.content.decode()
    assert Report.objects.count() == 1 and Attachment.objects.count() == 0


def test_purge_of_a_report_row_deletes_its_object(make_report, file_storage):
    report, _ = _report(make_report)
    attachment = Attachment.objects.get(report=report)
    name = storage.name_for(attachment)
    assert name in file_storage.stored()
    storage.delete(attachment)
    assert name not in file_storage.stored()
    storage.delete(attachment)  # again: nothing to delete is not an error


def test_the_same_bytes_come_back_from_a_file_written_elsewhere(
    make_report, file_storage, township
):
    """What one process wrote another opens: read through a fresh storage object."""
    clean = sanitize(jpeg_with_gps(), max_bytes=1024 * 1024)
    report, _ = services.create_report(
        services.ReportInput(
            category="sex_determination",
            township_id=township.id,
            description="另一台主机读取。",
        ),
        files=[clean],
    )
    digest = hashlib.sha256(clean.content).hexdigest()
    storages._storages = {}  # as a new process would build it
    attachment = Attachment.objects.get(report=report)
    assert hashlib.sha256(storage.read(attachment)).hexdigest() == digest


@pytest.mark.s3
def test_verify_vault_with_the_bucket_away_says_so(make_report, settings, seaweed):
    seaweed.empty(seaweed.test_bucket)
    settings.STORAGES = {**settings.STORAGES, "vault": s3_storage(seaweed, seaweed.test_bucket)}
    _report(make_report)
    away = s3_storage(seaweed, seaweed.test_bucket)
    away["OPTIONS"]["endpoint_url"] = "http://127.0.0.1:9"
    settings.STORAGES = {**settings.STORAGES, "vault": away}
    with pytest.raises(CommandError, match="the file storage does not answer"):
        call_command("verify_vault")


@pytest.mark.s3
def test_a_clean_up_that_fails_too_never_hides_the_first_failure(
    make_report, settings, seaweed, monkeypatch
):
    """The database fails after the photo was stored, and the bucket is gone by the time the
    clean-up runs: the caller still sees the database's error, and the orphan is logged."""
    seaweed.empty(seaweed.test_bucket)
    settings.STORAGES = {**settings.STORAGES, "vault": s3_storage(seaweed, seaweed.test_bucket)}
    away = s3_storage(seaweed, seaweed.test_bucket)
    away["OPTIONS"]["endpoint_url"] = "http://127.0.0.1:9"

    def database_fails_and_bucket_goes(*args, **kwargs):
        settings.STORAGES = {**settings.STORAGES, "vault": away}
        raise RuntimeError("database went away")

    monkeypatch.setattr(services.together, "insert", database_fails_and_bucket_goes)
    with pytest.raises(RuntimeError, match="database went away"):
        _report(make_report)
    assert not Attachment.objects.exists()


@pytest.mark.s3
def test_with_s3_no_temporary_file_is_made_to_upload_or_download(
    make_report, settings, seaweed, monkeypatch
):
    """Uploads go from memory, downloads are read into memory (a spooled file never rolls over
    to disk): a temporary file would be a copy of the ciphertext on this host's disk, and one
    unlinked at once would escape any walk of the disk, so none may be made at all."""
    seaweed.empty(seaweed.test_bucket)
    settings.STORAGES = {**settings.STORAGES, "vault": s3_storage(seaweed, seaweed.test_bucket)}

    def refuse(*args, **kwargs):
        raise AssertionError("a temporary file was made")

    for name in ("TemporaryFile", "NamedTemporaryFile", "mkstemp", "mkdtemp"):
        monkeypatch.setattr(tempfile, name, refuse)
    report, _ = _report(make_report, jpeg_with_gps())
    attachment = Attachment.objects.get(report=report)
    assert storage.read(attachment)[:2] == b"\xff\xd8"
    # A multipart upload (evidence may be 20 MB), written and read through the storage API.
    blob = os.urandom(9 * 1024 * 1024)  # past the 8 MB multipart threshold
    storage.files().save("large-test.bin", ContentFile(blob))
    assert storage.read_sealed("large-test.bin") == blob


def test_vault_files_copies_every_file_out_and_back_into_an_empty_storage(
    make_report, file_storage, tmp_path, capsys
):
    """What backup.sh and restore.sh run with S3 (here on both storages): the ciphertext, never
    decrypted, out into a .tar.gz and back; a storage that holds files is refused."""
    _report(make_report, jpeg_with_gps(), jpeg_with_gps((0, 0, 200)))
    before = file_storage.stored()
    archive = tmp_path / "files.tar.gz"
    call_command("vault_files", "--out", str(archive))
    assert "2 encrypted files written" in capsys.readouterr().out
    with pytest.raises(CommandError, match="already holds 2 files"):
        call_command("vault_files", "--check-empty")
    with pytest.raises(CommandError, match="refusing to restore"):
        call_command("vault_files", "--restore", str(archive))

    for name in before:
        storage.remove(name)
    call_command("vault_files", "--check-empty")
    call_command("vault_files", "--restore", str(archive))
    assert "2 encrypted files restored" in capsys.readouterr().out
    assert file_storage.stored() == before
    call_command("verify_vault")
