"""A citizen on a phone: report with a photo, keep the receipt, come back and add information."""

import io
import re

import pytest
from PIL import Image
from playwright.sync_api import expect

from tipline import receipts
from tipline.models import Attachment, Report, ReportMessage
from vault import storage
from vault.keyring import get_keyring

pytestmark = pytest.mark.e2e

DESCRIPTION = "镇东头诊所用B超给孕妇看胎儿性别，每次收费八百元。E2E-DESCRIPTION"
FOLLOW_UP = "他们每周三下午营业，后门进出。E2E-FOLLOW-UP"
GPS_MARKER = "E2E-GPS-DATUM"


def _photo_with_gps(path):
    """A real JPEG carrying camera and GPS EXIF, as a phone camera would write it."""
    img = Image.new("RGB", (120, 80), (200, 40, 40))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0110] = "Phone-X1"  # Model
    gps = exif.get_ifd(0x8825)  # GPSInfo IFD
    gps[1] = "N"
    gps[2] = (28.0, 12.0, 30.5)
    gps[3] = "E"
    gps[4] = (112.0, 58.0, 1.25)
    gps[18] = GPS_MARKER  # GPSMapDatum
    img.save(path, "JPEG", quality=90, exif=exif)
    # The fixture must really carry what the server is supposed to remove.
    with Image.open(path) as check:
        assert check.getexif().get_ifd(0x8825)[2] == (28.0, 12.0, 30.5)
    assert GPS_MARKER.encode() in path.read_bytes()
    return path


def _no_horizontal_scroll(page):
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"page scrolls sideways on a phone: {width[0]}px > {width[1]}px"


def test_report_with_photo_then_follow_up_with_receipt(live_server, e2e_township, page, tmp_path):
    photo = _photo_with_gps(tmp_path / "IMG_20240101_120000.jpg")

    # Start page: Simplified Chinese, even for an English-language phone.
    response = page.goto(live_server.url + "/")
    assert response.ok
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    assert response.headers["content-language"] == "zh-hans"
    expect(page.locator("header form.lang button[value=en]")).to_be_visible()
    expect(page.locator("header form.lang button[value=zh-hans]")).to_have_count(0)
    expect(page.locator("main h1")).to_be_visible()

    # To the report form.
    page.locator("main a.button.primary").click()
    expect(page).to_have_url(live_server.url + "/report/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    _no_horizontal_scroll(page)

    page.locator("select[name=category]").select_option(value="sex_determination")
    page.locator("select[name=township]").select_option(value="zhongshui")
    page.locator("textarea[name=description]").fill(DESCRIPTION)

    # First the wrong file: the reason is given in Chinese, at the file field; nothing is filed.
    not_a_photo = tmp_path / "IMG_0001.jpg"
    not_a_photo.write_bytes(b"This is a text file with a photo's name.")
    page.locator("input[name=evidence]").set_input_files(not_a_photo)
    page.locator("main form button[type=submit]").click()
    refused = page.locator(".field.has-error:has(input[name=evidence]) p.error")
    expect(refused).to_be_visible()
    expect(refused).to_contain_text("不接受此类文件")
    assert "not accepted" not in refused.inner_text()
    assert Report.objects.count() == 0
    # What was typed is still there; the photo is chosen again.
    expect(page.locator("textarea[name=description]")).to_have_value(DESCRIPTION)
    page.locator("input[name=evidence]").set_input_files(photo)
    page.locator("main form button[type=submit]").click()

    # The receipt, shown once.
    number = page.locator("#receipt-number")
    expect(number).to_be_visible()
    shown = number.inner_text().strip()
    assert re.fullmatch(r"\d{4} \d{4} \d{4} \d{4}", shown), shown
    receipt = shown.replace(" ", "")
    assert len(receipt) == 16
    page.screenshot(path=tmp_path / "receipt-phone.png", full_page=True)
    _no_horizontal_scroll(page)

    # The signed receipt file, in Chinese with Beijing time, checked by uploading it.
    with page.expect_download() as download_info:
        page.locator("section.receipt form button[type=submit]").click()
    download = download_info.value
    text = download.path().read_text(encoding="utf-8")
    assert text.startswith(receipts.FILE_HEADER + "\n")
    assert f"# 回执号：{shown}\n" in text and "（北京时间）" in text
    assert f"receipt: {shown}\n" in text
    assert re.search(r"^received-at: .*\+08:00$", text, re.M), text
    assert re.search(r"^signature-ed25519: [A-Za-z0-9+/]{86}==$", text, re.M), text
    verified = receipts.verify_receipt_file(text, get_keyring().public_key_pem())
    assert verified is not None, "receipt file signature does not verify"
    assert verified[0] == receipt

    # Reloading the receipt page posts the form again: one report, and the receipt is not shown
    # a second time; the page explains what happened and what to do without the receipt.
    page.reload()
    expect(page.locator("#already-received")).to_be_visible()
    expect(page.locator("main h1")).to_have_text("该举报已经收到")
    expect(page.locator("#receipt-number")).to_have_count(0)
    assert receipt not in page.content() and shown not in page.content()
    assert Report.objects.count() == 1
    _no_horizontal_scroll(page)

    page.goto(live_server.url + "/receipt/verify/")
    page.locator("input[name=file]").set_input_files(download.path())
    page.locator("#verify-form button[type=submit]").click()
    expect(page.locator("#verify-result")).to_contain_text("真实有效")

    # Stored on the server: one report in the chosen township, the photo without its EXIF.
    report = Report.objects.get()
    assert report.receipt_hash == receipts.receipt_hash(receipt)
    assert report.township == e2e_township
    assert report.category == "sex_determination"
    assert report.description == DESCRIPTION
    attachment = Attachment.objects.get(report=report)
    assert attachment.mime == "image/jpeg"
    stored = storage.read(attachment)
    assert GPS_MARKER.encode() not in stored
    assert b"PhoneMaker" not in stored
    with Image.open(io.BytesIO(stored)) as img:
        assert img.format == "JPEG"
        assert img.size == (120, 80)
        assert "exif" not in img.info
        assert len(img.getexif()) == 0

    # Later: look the report up with the receipt as written down (grouped, with spaces).
    page.goto(live_server.url + "/receipt/")
    page.locator("input[name=receipt]").fill(shown)
    page.locator("main form button[type=submit]").click()
    expect(page.locator("#report-status")).to_be_visible()
    expect(page.locator("#report-status")).to_have_class(re.compile(r"\bstatus-received\b"))

    # Add information from the status page.
    expect(page.locator("#next-steps")).to_contain_text("决定是否受理")
    followup = page.locator("#followup-form")
    followup.locator("textarea[name=body]").fill(FOLLOW_UP)
    followup.locator("button[type=submit]").click()
    expect(page.locator("p.notice[role=status]")).to_be_visible()
    expect(page.locator(".message.from-reporter")).to_contain_text("E2E-FOLLOW-UP")
    # The address bar shows the receipt page, which opens again (no POST-only address).
    expect(page).to_have_url(live_server.url + "/receipt/")
    message = ReportMessage.objects.get(report=report)
    assert message.author == ReportMessage.Author.REPORTER
    assert message.body == FOLLOW_UP


def test_header_button_switches_to_english(live_server, e2e_township, page):
    page.goto(live_server.url + "/report/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")

    page.locator("header form.lang button[value=en]").click()

    # Back on the same page, now in English (the source language: no compiled catalogue needed).
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page).to_have_url(live_server.url + "/report/")
    expect(page.locator("main h1")).to_have_text("Make a report")
    expect(page.locator("header form.lang button[value=zh-hans]")).to_be_visible()

    # The choice sticks for the next page.
    page.goto(live_server.url + "/")
    expect(page.locator("html")).to_have_attribute("lang", "en")


def test_back_after_filing_then_send_again_files_once(live_server, e2e_township, page):
    """Back from the receipt loads a fresh form (a fresh one-time token); sending the same
    report again from this browser within the window is answered as a reload is."""
    text = "西街药店不凭处方出售终止妊娠药品。E2E-BACK"

    def fill_and_send():
        page.locator("select[name=category]").select_option(value="abortion_drug_sale")
        page.locator("select[name=township]").select_option(value="zhongshui")
        page.locator("textarea[name=description]").fill(text)
        page.locator("main form button[type=submit]").click()

    page.goto(live_server.url + "/report/")
    fill_and_send()
    expect(page.locator("#receipt-number")).to_be_visible()
    expect(page.locator("#next-steps")).to_contain_text("决定是否受理")

    page.go_back()
    expect(page.locator("textarea[name=description]")).to_be_visible()
    fill_and_send()
    expect(page.locator("#already-received")).to_be_visible()
    expect(page.locator("#receipt-number")).to_have_count(0)
    assert Report.objects.filter(description=text).count() == 1
