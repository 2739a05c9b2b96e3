"""A clerk at her desk: the unread count in the header rises when a citizen's report arrives and
falls when she reads it; the notice leads to the report."""

import re

import pytest
from playwright.sync_api import expect

from notifications.models import Delivery
from tipline.models import Report

from .test_staff_journey import sign_in_first_time

pytestmark = pytest.mark.e2e

DESCRIPTION = "镇西头药店不凭处方出售终止妊娠药品。E2E-INBOX"


def test_unread_count_rises_when_a_report_arrives_and_falls_when_read(
    live_server, e2e_staff, desktop_page, eager_tasks
):
    base = live_server.url
    clerk = e2e_staff["clerk"]
    page = desktop_page()
    sign_in_first_time(page, base, clerk)
    unread = page.locator("nav.staffnav #inbox-unread")
    expect(unread).to_have_text("0")

    citizen = desktop_page()
    citizen.goto(base + "/report/")
    citizen.locator("select[name=category]").select_option(value="abortion_drug_sale")
    citizen.locator("select[name=township]").select_option(value="zhongshui")
    citizen.locator("textarea[name=description]").fill(DESCRIPTION)
    citizen.locator("main form button[type=submit]").click()
    expect(citizen.locator("#receipt-number")).to_be_visible()
    report = Report.objects.get()

    page.reload()
    expect(unread).to_have_text("1")  # it rose
    page.locator("nav.staffnav #inbox-link").click()
    expect(page).to_have_url(base + "/staff/inbox/")
    row = page.locator("#inbox tbody tr.unread")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("中水镇有新举报待审核")
    expect(page.locator("#inbox")).not_to_contain_text("E2E-INBOX")  # no content in the notice

    row.locator("a").first.click()
    expect(page).to_have_url(f"{base}/staff/reports/{report.pk}/")
    expect(page.locator("main")).to_contain_text("E2E-INBOX")  # the report itself, signed in
    expect(unread).to_have_text("0")  # it fell
    assert Delivery.objects.get(recipient=clerk, channel="inbox").read_at is not None

    page.goto(base + "/staff/inbox/")
    expect(page.locator("#inbox tbody tr.unread")).to_have_count(0)
    expect(page.locator("#inbox tbody tr.read")).to_have_count(1)
    assert re.fullmatch(r"\d+", unread.inner_text())
