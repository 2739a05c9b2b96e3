"""Every error a member of the public can meet reads in Chinese: no English sentence on the
page. And the catalogue check CI runs finds an untranslated message when there is one."""

import html as html_lib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import RequestFactory
from django.utils import translation

from tipline import attachments, errors

from .helpers import form_data

pytestmark = pytest.mark.django_db

ROOT = Path(settings.BASE_DIR)
# Three Latin words in a row: a sentence left in English (file types such as "MP3/M4A" or
# "PDF" alone are not one).
ENGLISH = re.compile(r"\b[A-Za-z]{2,}(?:[ ,'’-]+[A-Za-z]{2,}){2,}")
CJK = re.compile(r"[\u4e00-\u9fff]")


def visible_text(page: str) -> str:
    """The text a person reads in <main> (tags, the public key block and attributes removed)."""
    main = page[page.index("<main") : page.index("</main>")] if "<main" in page else page
    main = re.sub(r"<pre.*?</pre>", " ", main, flags=re.S)
    main = re.sub(r"<[^>]+>", " ", main)
    return html_lib.unescape(main)


def assert_chinese(page: str, what: str):
    text = visible_text(page)
    assert CJK.search(text), f"{what}: no Chinese at all"
    found = ENGLISH.findall(text)
    assert not found, f"{what}: English left on the page: {found}"


def test_the_english_detector_finds_a_planted_sentence():
    assert ENGLISH.search(visible_text("<main><p>请上传 This file type is not accepted</p></main>"))
    assert not ENGLISH.search(visible_text("<main><p>请上传JPEG或PNG照片、PDF文件</p></main>"))


@pytest.mark.parametrize(
    "message",
    [value for name, value in vars(attachments).items() if name.startswith("MSG_")],
)
def test_every_upload_refusal_is_in_the_catalogue(message):
    with translation.override("zh-hans"):
        shown = translation.gettext(message)
    assert shown != message, f"not in the catalogue: {message!r}"
    assert CJK.search(shown) and not ENGLISH.search(shown), shown


def _error_pages():
    factory = RequestFactory()
    request = factory.get("/nowhere/")
    return {
        "400": errors.bad_request(request),
        "403": errors.forbidden(request),
        "403 csrf": errors.csrf_failure(request),
        "404": errors.not_found(request),
        "500": errors.server_error(request),
    }


def test_error_pages_are_chinese():
    with translation.override("zh-hans"):
        for name, response in _error_pages().items():
            assert_chinese(response.content.decode(), name)


def _pdf_with_password() -> bytes:
    import io

    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=72, height=72)
    writer.encrypt("secret")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


BAD_FILES = {
    "type": (b"just some text, not a photo", "notes.jpg", "image/jpeg"),
    "empty": (b"", "empty.jpg", "image/jpeg"),
    "broken image": (b"\xff\xd8\xff\xe0" + b"\x00" * 64, "broken.jpg", "image/jpeg"),
    "broken pdf": (b"%PDF-1.4\n garbage", "broken.pdf", "application/pdf"),
    "pdf with password": (None, "locked.pdf", "application/pdf"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_a_rejected_attachment_is_explained_in_chinese(client, township, case):
    content, name, mime = BAD_FILES[case]
    if content is None:
        content = _pdf_with_password()
    data = form_data(township)
    data["evidence"] = [SimpleUploadedFile(name, content, mime)]
    response = client.post("/report/", data)
    assert response.status_code == 400
    page = response.content.decode()
    evidence = page[page.index('name="evidence"') :]
    assert 'class="error"' in evidence[:1500], "the reason is shown at the file field"
    assert_chinese(page, f"report form, {case}")


PUBLIC_ERRORS = {
    "empty report form": ("/report/", {}),
    "bad fields": (
        "/report/",
        {
            "category": "nonsense",
            "township": "nowhere",
            "description": "短",
            "occurred_on": "2999-01-01",
            "subject_phone": "abc",
            "reporter_phone": "123",
            "reporter_id_number": "123456",
            "news_by_sms": "on",
        },
    ),
    "receipt malformed": ("/receipt/", {"receipt": "12"}),
    "receipt unknown": ("/receipt/", {"receipt": "1234 5678 9012 3456"}),
    "follow-up unknown receipt": ("/receipt/", {"action": "add", "receipt": "1" * 16}),
    "claim unknown receipt": ("/receipt/claim/", {"receipt": "1" * 16}),
    "verify nothing": ("/receipt/verify/", {}),
    "verify forged": ("/receipt/verify/", {"pasted": "TIPLINE RECEIPT v1\nreceipt: 1\n"}),
}


@pytest.mark.parametrize("case", sorted(PUBLIC_ERRORS))
def test_public_form_errors_are_chinese(client, township, case):
    url, data = PUBLIC_ERRORS[case]
    response = client.post(url, data)
    assert 400 <= response.status_code < 500, response.status_code
    assert_chinese(response.content.decode(), case)


def test_throttled_and_already_received_pages_are_chinese(client, township, settings):
    settings.TIPLINE_RATE_LIMITS = {**settings.TIPLINE_RATE_LIMITS, "report_per_client": (1, 3600)}
    data = {**form_data(township), "submission": "x" * 43}
    assert client.post("/report/", data).status_code == 200
    already = client.post("/report/", data)
    assert already.status_code == 409
    assert_chinese(already.content.decode(), "already received")
    throttled = client.post("/report/", form_data(township))
    assert throttled.status_code == 429
    assert_chinese(throttled.content.decode(), "throttled report form")
    for _ in range(12):
        guessed = client.post("/receipt/", {"receipt": "9" * 16})
    assert guessed.status_code == 429
    assert_chinese(guessed.content.decode(), "throttled receipt page")


def test_api_errors_are_chinese(client, township):
    response = client.post("/api/v1/reports", "{not json", content_type="application/json")
    assert response.status_code == 400
    body = response.json()
    assert CJK.search(body["error"]) and not ENGLISH.search(body["error"])
    response = client.post(
        "/api/v1/reports", json.dumps({"category": "x"}), content_type="application/json"
    )
    for messages in response.json()["errors"].values():
        for message in messages:
            assert CJK.search(message) and not ENGLISH.search(message), message


# --- the catalogue check CI runs --------------------------------------------------------------

needs_gettext = pytest.mark.skipif(
    shutil.which("msgattrib") is None, reason="GNU gettext is not installed"
)


@needs_gettext
def test_the_catalogue_check_fails_on_an_untranslated_message(tmp_path):
    """scripts/check_messages.sh on a copy of the project: clean as committed, failing once a
    view gains a message nobody translated."""
    copy = tmp_path / "project"
    shutil.copytree(
        ROOT,
        copy,
        ignore=shutil.ignore_patterns(".venv", "var", ".git", "__pycache__", "docs", "bench"),
    )
    env = {**os.environ, "PY": sys.executable}
    script = copy / "scripts/check_messages.sh"
    clean = subprocess.run([script], env=env, capture_output=True, text=True, timeout=300)
    assert clean.returncode == 0, clean.stdout + clean.stderr

    planted = copy / "tipline/planted.py"
    planted.write_text(
        "from django.utils.translation import gettext as _\n\n"
        "def words():\n    return _('A planted message nobody translated.')\n"
    )
    failed = subprocess.run([script], env=env, capture_output=True, text=True, timeout=300)
    assert failed.returncode == 1
    assert "A planted message nobody translated." in failed.stdout


def test_ci_runs_the_catalogue_check():
    ci = (ROOT / ".ci/run").read_text()
    assert "make check-messages" in ci
    assert "apt-get install -y -qq gettext" in ci
    assert "check-messages:" in (ROOT / "Makefile").read_text()
