"""One request cannot make the server decode, hold or store without bound.

Before the fix, twelve requests with five 49-megapixel PNGs and a too-short description each
decoded every image before the form said no, were never counted against the client's limit,
and grew the server to 1.74 GB.
"""

import io
import os

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from tipline import forms as tipline_forms
from tipline.models import Attachment, Report
from tipline.uploads import BoundedMemoryUploadHandler, RefusedUpload

from .helpers import form_data, upload

pytestmark = pytest.mark.django_db
MB = 1024 * 1024


def big_png(width=2000, height=1500) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (10, 200, 30)).save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def decoded(monkeypatch):
    """Every file the forms hand to the sanitiser (the expensive, decoding step)."""
    calls = []
    real = tipline_forms.sanitize

    def counting(data, **kwargs):
        calls.append(len(data))
        return real(data, **kwargs)

    monkeypatch.setattr(tipline_forms, "sanitize", counting)
    return calls


def post_report(client, township, files, **fields):
    return client.post("/report/", {**form_data(township, **fields), "evidence": files})


def test_an_invalid_report_decodes_none_of_its_files(client, township, decoded, attachment_files):
    png = big_png()
    files = [SimpleUploadedFile(f"p{i}.png", png, "image/png") for i in range(5)]
    response = post_report(client, township, files, description="太短")
    assert response.status_code == 400
    assert "description" in response.context["form"].errors
    assert decoded == []
    assert Report.objects.count() == 0 and attachment_files() == []


def test_invalid_attempts_with_files_are_counted_and_then_refused(
    client, township, decoded, attachment_files
):
    png = big_png(400, 300)
    for _ in range(10):
        files = [SimpleUploadedFile("p.png", png, "image/png")]
        assert post_report(client, township, files, description="太短").status_code == 400
    response = post_report(client, township, [SimpleUploadedFile("p.png", png, "image/png")])
    assert response.status_code == 429
    assert decoded == []
    assert Report.objects.count() == 0 and attachment_files() == []


def test_a_valid_report_decodes_its_files_once(client, township, decoded):
    assert post_report(client, township, [upload(), upload()]).status_code == 200
    assert len(decoded) == 2
    assert Attachment.objects.count() == 2


def test_a_file_over_the_cap_is_not_kept_in_memory(client, township, settings, attachment_files):
    settings.TIPLINE_ATTACHMENT_MAX_BYTES = 1 * MB
    big = SimpleUploadedFile("big.jpg", os.urandom(3 * MB), "image/jpeg")
    response = post_report(client, township, [big])
    assert response.status_code == 400
    (error,) = response.context["form"].errors["evidence"]
    assert error == "每个文件不能超过1 MB。"
    assert error in response.content.decode()
    assert Report.objects.count() == 0 and attachment_files() == []


def test_files_of_one_request_together_are_capped(client, township, settings, attachment_files):
    settings.TIPLINE_ATTACHMENT_MAX_BYTES = 1 * MB
    settings.TIPLINE_UPLOAD_MAX_BYTES = 2 * MB
    files = [
        SimpleUploadedFile(f"f{i}.jpg", os.urandom(900 * 1024), "image/jpeg") for i in range(3)
    ]
    response = post_report(client, township, files)
    assert response.status_code == 400
    (error,) = response.context["form"].errors["evidence"]
    assert "2 MB" in error and error in response.content.decode()
    assert Report.objects.count() == 0 and attachment_files() == []


def test_the_upload_handler_stops_storing_at_the_caps(settings):
    settings.TIPLINE_ATTACHMENT_MAX_BYTES = 1 * MB
    settings.TIPLINE_UPLOAD_MAX_BYTES = 2 * MB
    handler = BoundedMemoryUploadHandler()
    chunk = b"x" * (64 * 1024)
    held = []

    def send(name, size):
        handler.new_file("evidence", name, "image/jpeg", None)
        for start in range(0, size, len(chunk)):
            handler.receive_data_chunk(chunk, start)
            held.append(handler.buffer.tell() if handler.buffer is not None else 0)
        return handler.file_complete(size)

    small = send("a.jpg", 512 * 1024)
    assert small.read() == chunk * 8
    huge = send("b.jpg", 50 * MB)
    assert isinstance(huge, RefusedUpload) and huge.refused == "file_too_large"
    assert huge.read() == b"" and huge.size == 50 * MB
    after = send("c.jpg", 512 * 1024)
    assert isinstance(after, RefusedUpload) and after.refused == "request_too_large"
    assert max(held) <= 1 * MB
