"""Accessibility: axe-core (bundled in axe-playwright-python, injected from the installed package,
never fetched) runs on every public page and the main staff pages of the demo county, in Debian's
Chromium, and finds no serious or critical violation.

One browser, one seeded demo county (seed_demo, as `make screenshots` does), one pass over the
pages: each page is loaded once and checked once.
"""

import io
import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.contrib.auth import get_user_model
from django.core.management import call_command
from playwright.sync_api import expect

from casework import identity
from casework.errors import ServiceError
from casework.models import Case, IdentityRequest, State
from org.models import Township
from tipline.models import Report, ReporterIdentity

from .conftest import DESKTOP, PHONE
from .test_screenshots import signed_in

pytestmark = pytest.mark.e2e

BLOCKING = ("serious", "critical")


def blocking(results) -> list[dict]:
    return [v for v in results.response["violations"] if v.get("impact") in BLOCKING]


def explain(name: str, url: str, violations: list[dict]) -> str:
    """Each violation with the rule, its help page, and each offending element's selector and
    axe's own summary of what to fix: enough to find it in the template."""
    lines = [f"{name} ({url}):"]
    for v in violations:
        lines.append(f"  [{v['impact']}] {v['id']}: {v['help']} ({v.get('helpUrl', '')})")
        for node in v["nodes"][:8]:
            target = " ".join(str(t) for t in node.get("target", []))
            lines.append(f"      at {target}: {node.get('html', '')[:160]}")
            summary = (node.get("failureSummary") or "").replace("\n", " / ")
            if summary:
                lines.append(f"        {summary[:300]}")
    return "\n".join(lines)


class Checker:
    def __init__(self):
        self.axe = Axe()
        self.failures: list[str] = []
        self.checked: list[str] = []
        self.lesser: list[str] = []  # moderate and minor: printed (pytest -s), not failed

    def check(self, page, name: str) -> None:
        page.wait_for_load_state("load")
        assert "/staff/login/" not in page.url, f"{name}: not signed in ({page.url})"
        results = self.axe.run(page)
        self.checked.append(name)
        found = blocking(results)
        lesser = [v for v in results.response["violations"] if v not in found]
        if lesser:
            self.lesser.append(explain(name, page.url, lesser))
        if found:
            self.failures.append(explain(name, page.url, found))


def pending_request() -> None:
    """A request to see a reporter's identity awaiting the custodian (the demo may hold one)."""
    if IdentityRequest.objects.filter(status=IdentityRequest.Status.PENDING).exists():
        return
    asker = get_user_model().objects.get(username="investigator")
    for held in ReporterIdentity.objects.filter(report__township__code="zhongshui").order_by(
        "-report__received_at"
    ):
        try:
            identity.request_access(held.report, asker, "需要核实举报人提供的线索细节。")
            return
        except ServiceError:
            continue
    pytest.fail("the demo county holds no reporter identity to ask for")


def test_no_serious_or_critical_violations(live_server, browser, tmp_path):
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    to_claim = re.search(r"reward to claim on /receipt/: (\d{16})", out.getvalue()).group(1)
    base = live_server.url
    axe = Checker()

    # --- the public pages, on a phone ---------------------------------------------------------
    phone = browser.new_context(**{**PHONE, "device_scale_factor": 1}).new_page()
    # The check itself finds a planted violation (a text box without a label).
    phone.set_content('<html lang="zh"><title>t</title><main><input type="text"></main></html>')
    assert "label" in {v["id"] for v in blocking(axe.axe.run(phone))}
    phone.goto(base + "/")
    axe.check(phone, "home")
    phone.goto(base + "/report/")
    axe.check(phone, "report form")
    phone.locator("select[name=category]").select_option(value="sex_determination")
    phone.locator("select[name=township]").select_option(value="zhongshui")
    phone.locator("textarea[name=description]").fill("镇东头某诊所晚上用B超给孕妇看胎儿性别。")
    phone.locator("input[name=reporter_name]").fill("李四")  # an identity to ask for, below
    phone.locator("main form button[type=submit]").click()
    expect(phone.locator("#receipt-number")).to_be_visible()
    axe.check(phone, "receipt issued")
    phone.goto(base + "/receipt/")
    axe.check(phone, "receipt lookup")
    phone.locator("input[name=receipt]").fill(to_claim)
    phone.locator("main form button[type=submit]").click()
    expect(phone.locator("#claim-form")).to_be_visible()
    axe.check(phone, "status page with the claim form")
    phone.locator("#claim-form input[value=in_person]").check()
    phone.locator("#claim-form button[type=submit]").click()
    phone.wait_for_load_state("load")
    axe.check(phone, "claim done")
    phone.goto(base + "/receipt/verify/")
    axe.check(phone, "verify")

    # --- the main staff pages, on a desktop -----------------------------------------------------
    report = Report.objects.filter(status=Report.Status.RECEIVED).order_by("received_at").first()
    case = (
        Case.objects.filter(state=State.INVESTIGATING, township__code="zhongshui")
        .order_by("pk")
        .first()
    )
    supervisor = signed_in(browser, base, "supervisor", DESKTOP)
    for path, name in (
        ("/staff/", "staff home (supervisor)"),
        ("/staff/reports/", "report queue"),
        (f"/staff/reports/{report.pk}/", "report page"),
        (f"/staff/cases/{case.pk}/", "case page"),
        ("/staff/cases/", "case list"),
    ):
        supervisor.goto(base + path)
        axe.check(supervisor, name)

    finance = signed_in(browser, base, "finance", DESKTOP)
    for path, name in (
        ("/staff/", "staff home (finance)"),
        ("/staff/rewards/", "rewards list"),
        ("/staff/rewards/ledger/", "rewards ledger"),
    ):
        finance.goto(base + path)
        axe.check(finance, name)

    auditor = signed_in(browser, base, "auditor", DESKTOP)
    zhongshui = Township.objects.get(code="zhongshui")
    for path, name in (
        ("/staff/assessment/", "assessment (county)"),
        (f"/staff/assessment/townships/{zhongshui.code}/", "assessment (township)"),
        ("/staff/audit/", "audit log"),
    ):
        auditor.goto(base + path)
        axe.check(auditor, name)

    # The custodian's decision: a pending request with its note box.
    pending_request()
    custodian = signed_in(browser, base, "custodian", DESKTOP)
    custodian.goto(base + "/staff/identity/")
    expect(custodian.locator("#identity-requests form").first).to_be_visible()
    axe.check(custodian, "identity requests (custodian)")

    assert len(axe.checked) == 19
    print("\n".join(["axe: moderate or minor findings", *axe.lesser]) if axe.lesser else "")
    assert not axe.failures, "axe found serious or critical violations:\n" + "\n".join(axe.failures)
