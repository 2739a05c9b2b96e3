"""`make screenshots`: the main citizen pages on a phone (390×844) and staff pages on a desktop,
taken in Debian's Chromium from the demo county, into docs/screenshots/ (small optimised PNGs,
shown in the README so a county IT office can see the product before installing it).

Skipped unless TIPLINE_SCREENSHOTS names the directory to write to (the Makefile target sets
it): the pages themselves are tested by the other journeys.
"""

import io
import os
import re
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice
from PIL import Image
from playwright.sync_api import expect

from casework.models import Case, State
from tipline.models import Report

from .conftest import DESKTOP, PHONE

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not os.environ.get("TIPLINE_SCREENSHOTS"),
        reason="screenshots are made by `make screenshots` (TIPLINE_SCREENSHOTS=<directory>)",
    ),
]

OUT = Path(os.environ.get("TIPLINE_SCREENSHOTS", "docs/screenshots"))
PHONE_1X = {**PHONE, "device_scale_factor": 1, "locale": "zh-CN"}
DESKTOP_SMALL = {**DESKTOP, "viewport": {"width": 1200, "height": 760}}
COLOURS = 96  # a palette this size keeps text crisp and each file a few tens of KB


def save(page, name: str, *, scroll_to: str | None = None, block: str = "start") -> Path:
    """The visible part of the page (not the whole length), quantised and optimised."""
    if scroll_to:
        page.locator(scroll_to).first.scroll_into_view_if_needed()
        page.evaluate(
            "([sel, block]) => document.querySelector(sel).scrollIntoView({block})",
            [scroll_to, block],
        )
    png = page.screenshot(full_page=False)
    image = Image.open(io.BytesIO(png)).convert("RGB")
    small = image.quantize(
        colors=COLOURS, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE
    )
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"{name}.png"
    small.save(path, optimize=True)
    return path


def signed_in(browser, base_url, username, options):
    """A browser context already past the password and the second factor (screenshots are not
    about signing in: that journey is tested elsewhere)."""
    user = get_user_model().objects.get(username=username)
    device, _ = TOTPDevice.objects.get_or_create(
        user=user, name="手机", defaults={"confirmed": True}
    )
    client = Client()
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    context = browser.new_context(**options)
    context.add_cookies([{"name": "sessionid", "value": session.session_key, "url": base_url}])
    return context.new_page()


def test_screenshots(live_server, browser, tmp_path):
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    to_claim = re.search(r"reward to claim on /receipt/: (\d{16})", out.getvalue()).group(1)
    base = live_server.url
    written = []

    # --- a citizen on a phone ------------------------------------------------------------
    phone = browser.new_context(**PHONE_1X).new_page()
    phone.goto(base + "/")
    written.append(save(phone, "citizen-home"))

    phone.goto(base + "/report/")
    phone.locator("select[name=category]").select_option(value="sex_determination")
    phone.locator("select[name=township]").select_option(value="zhongshui")
    phone.locator("textarea[name=description]").fill(
        "镇东头某诊所晚上用B超给孕妇看胎儿性别，每次收费八百元，后门进出。"
    )
    not_a_photo = tmp_path / "IMG_0001.jpg"
    not_a_photo.write_bytes(b"not really a photo")
    phone.locator("input[name=evidence]").set_input_files(not_a_photo)
    phone.locator("main form button[type=submit]").click()
    written.append(
        save(phone, "citizen-file-refused", scroll_to=".field.has-error", block="center")
    )

    phone.locator("input[name=evidence]").set_input_files([])
    phone.locator("main form button[type=submit]").click()
    expect(phone.locator("#receipt-number")).to_be_visible()
    written.append(save(phone, "citizen-receipt"))
    phone.reload()
    expect(phone.locator("#already-received")).to_be_visible()
    written.append(save(phone, "citizen-already-received"))

    phone.goto(base + "/receipt/")
    phone.locator("input[name=receipt]").fill(to_claim)
    phone.locator("main form button[type=submit]").click()
    expect(phone.locator("#next-steps")).to_be_visible()
    written.append(save(phone, "citizen-status", scroll_to="#next-steps"))

    # --- staff at their desks -----------------------------------------------------------
    supervisor = signed_in(browser, base, "supervisor", DESKTOP_SMALL)
    supervisor.goto(base + "/staff/")
    written.append(save(supervisor, "staff-home-supervisor"))

    suggested = Report.objects.filter(
        status=Report.Status.RECEIVED, township__code="xishan", subject_name__contains="李记"
    ).first()
    supervisor.goto(f"{base}/staff/reports/{suggested.pk}/")
    written.append(save(supervisor, "staff-triage", scroll_to="#triage"))

    investigating = (
        Case.objects.filter(state=State.INVESTIGATING, township__code="zhongshui")
        .order_by("pk")
        .first()
    )
    supervisor.goto(f"{base}/staff/cases/{investigating.pk}/")
    written.append(save(supervisor, "staff-case-next-step", scroll_to="#outlook"))
    decide = supervisor.locator("#step-find_unfounded")
    decide.locator("textarea[name=outcome]").fill("经走访核查，未发现违法事实。")
    decide.locator("button[type=submit]").click()
    expect(supervisor.locator("#confirm-step")).to_be_visible()
    written.append(save(supervisor, "staff-confirm-decision"))

    archived = Case.objects.filter(state=State.ARCHIVED).first()
    supervisor.goto(f"{base}/staff/cases/{archived.pk}/")
    written.append(save(supervisor, "staff-case-deadlines", scroll_to="#deadlines"))
    written.append(save(supervisor, "staff-case-history", scroll_to="#history", block="end"))

    auditor = signed_in(browser, base, "auditor", DESKTOP_SMALL)
    auditor.goto(base + "/staff/audit/")
    written.append(save(auditor, "staff-audit-log"))

    finance = signed_in(browser, base, "finance", DESKTOP_SMALL)
    finance.goto(base + "/staff/rewards/ledger/")
    expect(finance.locator("#ledger-totals")).to_be_visible()
    written.append(save(finance, "staff-ledger"))

    admin = signed_in(browser, base, "admin", DESKTOP_SMALL)
    admin.goto(base + "/admin/tipline/report/")
    written.append(save(admin, "staff-admin-reports"))

    # The assessment: the county's ranking by total, a township's whole 1000-point sheet, and
    # the inspector's entry form for a round.
    supervisor.goto(base + "/staff/assessment/")
    written.append(save(supervisor, "staff-assessment-county"))
    supervisor.goto(base + "/staff/assessment/townships/zhongshui/")
    written.append(save(supervisor, "staff-assessment-sheet", scroll_to="#sheet"))
    inspector = signed_in(browser, base, "inspector", DESKTOP_SMALL)
    inspector.goto(base + "/staff/assessment/townships/xishan/inspect/?round=q4")
    written.append(save(inspector, "staff-assessment-inspect", scroll_to="#round-form"))

    clerk_phone = signed_in(browser, base, "clerk", PHONE_1X)
    clerk_phone.goto(base + "/staff/cases/")
    written.append(save(clerk_phone, "staff-cases-on-a-phone"))
    # A search: reports in every status with these words, the count above the list.
    supervisor.goto(base + "/staff/reports/?status=all&words=B超")
    expect(supervisor.locator("#result-count")).to_be_visible()
    written.append(save(supervisor, "staff-search"))

    for path in written:
        assert path.stat().st_size < 150_000, f"{path} is {path.stat().st_size} bytes"
