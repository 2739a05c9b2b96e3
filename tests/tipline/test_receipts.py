"""Receipts: random digits, slow peppered hash, look-up, signed receipt files."""

import base64
import hashlib
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from django.utils import timezone

from tipline import receipts, services
from tipline.models import Report
from vault import keyring


def test_generate_gives_16_random_ascii_digits(settings):
    assert settings.TIPLINE_RECEIPT_DIGITS >= 16
    codes = {receipts.generate() for _ in range(20)}
    assert len(codes) == 20
    for code in codes:
        assert len(code) == settings.TIPLINE_RECEIPT_DIGITS
        assert code.isascii() and code.isdigit()


def test_grouped_display():
    assert receipts.grouped("1234567890123456") == "1234 5678 9012 3456"


@pytest.mark.parametrize(
    "text",
    [
        "1234567890123456",
        "1234 5678 9012 3456",
        "1234-5678-9012-3456",
        " 1234 5678-9012.3456 ",
        "１２３４５６７８９０１２３４５６",  # full-width, from a Chinese input method
    ],
)
def test_normalise_accepts_separators(text):
    assert receipts.normalise(text) == "1234567890123456"


@pytest.mark.parametrize(
    "text",
    [
        "123456789012345",  # 15 digits
        "12345678901234567",  # 17 digits
        "1234 5678 9012 345a",
        "abcdefghijklmnop",
        "",
        "1" * 16 + " " * 60,  # too long to be a typed receipt
        "١٢٣٤٥٦٧٨٩٠١٢٣٤٥٦",  # Arabic-Indic digits: isdigit() but not a receipt
        "¹²³⁴⁵⁶⁷⁸⁹¹²³⁴⁵⁶⁷",  # superscripts: isdigit() too
        None,
        1234567890123456,
    ],
)
def test_normalise_rejects(text):
    assert receipts.normalise(text) is None


def test_normalised_receipt_is_always_hashable():
    # Whatever normalise accepts must be usable by the hash (ASCII), never a 500 later.
    for text in ["１２３４５６７８９０１２３４５６", "1234 5678 9012 3456"]:
        digits = receipts.normalise(text)
        assert digits.isascii()
        receipts.receipt_hash(digits)


def test_hash_is_deterministic_and_not_the_receipt():
    receipt = "1234567890123456"
    digest = receipts.receipt_hash(receipt)
    assert digest == receipts.receipt_hash(receipt)
    assert len(digest) == 64 and int(digest, 16) >= 0
    assert receipt not in digest
    assert digest != receipts.receipt_hash("1234567890123457")


def test_hash_depends_on_the_pepper():
    receipt = "1234567890123456"
    other = keyring.KeyRing.generate()
    assert receipts.receipt_hash(receipt) != receipts.receipt_hash(receipt, other)


def test_stored_hash_and_lookup(make_report):
    report, receipt = make_report()
    stored = Report.objects.get(pk=report.pk).receipt_hash
    assert stored == receipts.receipt_hash(receipt)
    assert receipt not in stored
    assert services.find_by_receipt(receipt) == report
    assert services.find_by_receipt(receipt[:-1] + str((int(receipt[-1]) + 1) % 10)) is None


def test_receipts_differ_between_reports(make_report):
    (_a, ra), (_b, rb) = make_report(), make_report()
    assert ra != rb


@pytest.fixture
def signed(make_report, client):
    report, receipt = make_report()
    text = receipts.receipt_file(receipt, report.received_at)
    response = client.get("/receipt-key.pem")
    assert response.status_code == 200
    pem = response.content.decode()
    assert pem.startswith("-----BEGIN PUBLIC KEY-----")
    return report, receipt, text, pem


def test_receipt_file_verifies_with_published_key(signed):
    report, receipt, text, pem = signed
    assert text.startswith(receipts.FILE_HEADER + "\n")
    assert f"receipt: {receipts.grouped(receipt)}" in text
    assert receipts.verify_receipt_file(text, pem) == (receipt, report.received_at)


def test_receipt_file_fails_after_editing_the_time(signed):
    report, _receipt, text, pem = signed
    original = timezone.localtime(report.received_at).isoformat()
    earlier = timezone.localtime(report.received_at - timedelta(days=1)).isoformat()
    edited = text.replace(f"received-at: {original}", f"received-at: {earlier}")
    assert edited != text
    assert receipts.verify_receipt_file(edited, pem) is None


def test_receipt_file_fails_after_editing_the_receipt(signed):
    _report, receipt, text, pem = signed
    other = receipt[:-1] + str((int(receipt[-1]) + 1) % 10)
    edited = text.replace(receipts.grouped(receipt), receipts.grouped(other))
    assert edited != text
    assert receipts.verify_receipt_file(edited, pem) is None


def test_receipt_file_fails_with_another_key_or_a_broken_signature(signed):
    _report, _receipt, text, pem = signed
    other_pem = keyring.KeyRing.generate().public_key_pem()
    assert receipts.verify_receipt_file(text, other_pem) is None
    lines = text.splitlines()
    sig_line = next(i for i, line in enumerate(lines) if line.startswith("signature-ed25519:"))
    lines[sig_line] = "signature-ed25519: not base64!"
    assert receipts.verify_receipt_file("\n".join(lines), pem) is None
    assert receipts.verify_receipt_file("", pem) is None
    assert receipts.verify_receipt_file("TIPLINE RECEIPT v1\nreceipt: 1\n", pem) is None


def test_receipt_file_verifies_as_documented_on_the_verify_page(signed, client):
    """A third party following /receipt/verify/ (no Tipline code) can check the signature."""
    _report, receipt, text, pem = signed
    lines = dict(line.split(": ", 1) for line in text.splitlines()[1:] if not line.startswith("#"))
    assert lines["receipt-sha256"] == hashlib.sha256(receipt.encode()).hexdigest()
    signed_text = "\n".join(
        [receipts.FILE_HEADER, lines["receipt-sha256"], lines["received-at"]]
    ).encode()
    key = load_pem_public_key(pem.encode())
    key.verify(base64.b64decode(lines["signature-ed25519"]), signed_text)  # raises if invalid
    assert pem in client.get("/receipt/verify/").content.decode()
