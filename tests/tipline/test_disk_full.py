"""A full evidence disk: the citizen keeps what they typed and can file without the files; the
database and the disk stay consistent (no report row without its files, no orphan file).

The disk is a real 64 KiB tmpfs filled to the last byte where mounting is permitted (root);
elsewhere the attachment storage raises ENOSPC part-way through a write, as the kernel would.
"""

import errno
import json
import os
import shutil
import subprocess

import pytest
from django.test import RequestFactory

from tipline import outage, services, submissions
from tipline.models import Attachment, Report, ReportMessage
from vault import storage

from .helpers import form_data, upload

pytestmark = [pytest.mark.django_db, pytest.mark.faults]

TYPED = "镇卫生院B超室有人夜里给孕妇看胎儿性别，收费一千二百元，门口停一辆白色面包车。"
FILLER = "filler.bin"


def _mount_tmpfs(path) -> bool:
    if os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k,mode=0700", "tmpfs", str(path)],
        capture_output=True,
        timeout=10,
        check=False,
    )
    return done.returncode == 0


def _fill(path) -> None:
    """Write until the disk refuses: afterwards not one more block fits."""
    fd = os.open(path / FILLER, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for _ in range(1024):  # 64 KiB in 4 KiB writes, with room to spare
            try:
                os.write(fd, b"\0" * 4096)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC
                return
    finally:
        os.close(fd)
    raise AssertionError("the tmpfs never filled up")


@pytest.fixture
def full_disk(tmp_path, settings, monkeypatch):
    """The attachment directory on a full disk; yields a function that frees it."""
    root = tmp_path / "attachments"
    root.mkdir()
    settings.TIPLINE_ATTACHMENT_DIR = root
    if _mount_tmpfs(root):
        try:
            _fill(root)
            yield lambda: (root / FILLER).unlink()
        finally:
            subprocess.run(["umount", str(root)], timeout=10, check=False)
        return
    real_write, full = storage.write, [True]

    def write(row, content):  # as the kernel does: part of the file, then ENOSPC
        if not full[0]:
            return real_write(row, content)
        (storage.path_for(row).with_suffix(".tmp")).write_bytes(b"\0" * 10)
        storage.path_for(row).with_suffix(".tmp").unlink()
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(storage, "write", write)
    yield lambda: full.__setitem__(0, False)


def stored_files(settings):
    return sorted(p.name for p in settings.TIPLINE_ATTACHMENT_DIR.rglob("*") if p.is_file())


def test_a_full_disk_keeps_the_text_and_files_the_report_without_the_files(
    client, township, full_disk, settings
):
    token = submissions.new_token()
    data = form_data(township, description=TYPED, submission=token)
    before = stored_files(settings)
    response = client.post("/report/", {**data, "evidence": [upload()]})
    assert response.status_code == 507
    html = response.content.decode()
    assert "存储空间已满" in html and "不带附件" in html  # what happened, what to do
    assert TYPED in html and "某某诊所" in html  # what was typed is still in the form
    assert f'value="{token}"' in html  # the same unspent token: a resend files once
    assert 'name="township"' in html
    # Consistent: no report row, no attachment row, no file left behind.
    assert Report.objects.count() == 0 and Attachment.objects.count() == 0
    assert stored_files(settings) == before
    assert submissions.spent_at(token) is None

    response = client.post("/report/", data)  # "send it without the files"
    assert response.status_code == 200 and "receipt-number" in response.content.decode()
    assert Report.objects.count() == 1 and Attachment.objects.count() == 0
    assert client.post("/report/", data).status_code == 409  # and only once

    full_disk()  # room again: a report with files is filed with them (another one: the same
    # text again from this browser would be answered as already received)
    response = client.post(
        "/report/",
        {**form_data(township, description=TYPED + "又见一次。"), "evidence": [upload()]},
    )
    assert response.status_code == 200
    assert Attachment.objects.count() == 1
    assert len(stored_files(settings)) == len(before) + 1 - (FILLER in before)


def test_a_follow_up_on_a_full_disk_keeps_its_text(client, township, full_disk, settings):
    report, receipt = services.create_report(
        services.ReportInput(
            category="sex_determination",
            township_id=township.id,
            description="某诊所鉴定胎儿性别，收费八百元",
        )
    )
    before = stored_files(settings)
    response = client.post(
        "/receipt/",
        {
            "action": "add",
            "receipt": receipt,
            "body": TYPED,
            "evidence": [upload()],
            "submission": submissions.new_token(),
        },
    )
    assert response.status_code == 507
    html = response.content.decode()
    assert TYPED in html and "存储空间已满" in html
    assert ReportMessage.objects.filter(report=report).count() == 0
    assert Attachment.objects.count() == 0 and stored_files(settings) == before


@pytest.mark.parametrize("path", ["/api/v1/reports", "/report/"])
def test_disk_full_anywhere_else_is_a_507_in_chinese(path, township):
    """A disk-full error outside the report and follow-up forms (the API takes no files, but a
    temporary upload file can meet a full disk too): 507, JSON for the API, never a 500."""
    request = RequestFactory().post(path, {"description": TYPED})
    response = outage.for_exception(request, OSError(errno.ENOSPC, "No space left on device"))
    assert response.status_code == 507
    body = response.content.decode()
    assert "存储空间已满" in body
    if path.startswith("/api/"):
        assert response["Content-Type"] == "application/json"
        assert "存储空间已满" in json.loads(body)["error"]
    else:
        assert TYPED in body
    assert outage.for_exception(request, OSError(errno.EACCES, "denied")) is None


def test_deep_health_reports_the_free_space_of_the_evidence_disk(client, settings, tmp_path):
    settings.TIPLINE_HEALTH_TOKEN = "t" * 32
    settings.TIPLINE_ATTACHMENT_DIR = tmp_path / "attachments"
    auth = {"HTTP_AUTHORIZATION": "Bearer " + "t" * 32}
    free_mb = shutil.disk_usage(tmp_path).free // (1024 * 1024)
    settings.TIPLINE_ATTACHMENT_MIN_FREE_MB = max(free_mb - 50, 0)
    response = client.get("/healthz?deep=1", **auth)
    assert response.json()["checks"]["attachment_storage"].startswith("ok: ")
    settings.TIPLINE_ATTACHMENT_MIN_FREE_MB = free_mb + 1000
    response = client.get("/healthz?deep=1", **auth)
    assert response.status_code == 503
    check = response.json()["checks"]["attachment_storage"]
    assert check.startswith("fail: ") and "TIPLINE_ATTACHMENT_MIN_FREE_MB" in check
    # The load balancer's shallow check does not take a web server out for a full disk.
    assert "attachment_storage" not in client.get("/healthz").json()["checks"]
