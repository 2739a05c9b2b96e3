"""List pages use a fixed number of queries, whatever the number of rows on the page.

Each page is requested with 3 rows and again with 25 (one page: PAGE_SIZE is 50); the second
request may not use more queries than the first. The rows carry every relation the templates
show (township, case, unit, investigator, attachments, documents, deciders, actors), so an
N+1 on any of them shows up as a difference of at least 22 queries.
"""

import io
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from PIL import Image

from casework import audit, identity, services
from casework.models import DocumentType
from casework.views.common import PAGE_SIZE
from tipline import services as intake
from tipline.attachments import sanitize
from tipline.models import Category

from .conftest import new_report

pytestmark = pytest.mark.django_db

FEW, MANY = 3, 25
REASON = "需要当面核实举报的具体细节"


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.TIPLINE_RECEIPT_ARGON2 = {"memory_cost": 8, "iterations": 1, "lanes": 1}


def clean_png():
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(buf, "PNG")
    return sanitize(buf.getvalue(), max_bytes=1024 * 1024)


def report_with_identity(township, n=0):
    report, _receipt = intake.create_report(
        intake.ReportInput(
            category=Category.SEX_DETERMINATION,
            township_id=township.id,
            description=f"某诊所鉴定胎儿性别 {n}",
            reporter_name="测试人",
            reporter_phone="13800000000",
        ),
        files=[clean_png(), clean_png()],
    )
    return report


def rows_in(html: str, table_id: str) -> int:
    table = re.search(rf'<table[^>]*id="{table_id}".*?</table>', html, re.S)
    assert table, f"table #{table_id} missing"
    body = table.group(0).split("<tbody>", 1)[1]
    return body.count("<tr")


def queries_for(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(ctx.captured_queries), response.content.decode()


def assert_bounded(client, url, table_id, add):
    """Measure `url` with FEW rows and with MANY; the count may not grow."""
    assert MANY <= PAGE_SIZE
    client.get(url)  # warm per-process caches (content types, translations)
    add(FEW)
    few, html = queries_for(client, url)
    assert rows_in(html, table_id) == FEW
    add(MANY - FEW)
    many, html = queries_for(client, url)
    assert rows_in(html, table_id) == MANY
    assert many <= few, f"{url}: {few} queries with {FEW} rows, {many} with {MANY}"
    return few


def investigated_case(cast, units, township, n):
    report = report_with_identity(township, n)
    case = services.open_case(report.pk, cast["clerk"])
    services.assign(
        case.pk, cast["supervisor"], unit_id=units["zs_fp"].pk, investigator=cast["investigator"]
    )
    services.start_investigation(case.pk, cast["investigator"])
    return case


def test_report_queue(login, cast, township, other_township):
    client = login(cast["supervisor"])

    def add(n):
        for i in range(n):
            report_with_identity(township if i % 2 else other_township, i)

    assert_bounded(client, "/staff/reports/", "report-queue", add)


def test_report_queue_of_accepted_reports(login, cast, township):
    client = login(cast["clerk"])

    def add(n):
        for i in range(n):
            services.open_case(report_with_identity(township, i).pk, cast["clerk"])

    assert_bounded(client, "/staff/reports/?status=accepted", "report-queue", add)


def test_case_list(login, cast, units, township):
    client = login(cast["supervisor"])

    def add(n):
        for i in range(n):
            investigated_case(cast, units, township, i)

    assert_bounded(client, "/staff/cases/?state=all", "case-list", add)


def test_file_scores(login, cast, units, township):
    client = login(cast["supervisor"])
    evidence = DocumentType.objects.get(code="evidence")

    def add(n):
        for i in range(n):
            case = investigated_case(cast, units, township, i)
            services.generate_registration_form(case.pk, cast["investigator"])
            services.add_document(case.pk, cast["investigator"], evidence, clean_png())

    assert_bounded(client, "/staff/cases/files/", "file-scores", add)


@pytest.mark.parametrize("viewer", ["custodian", "investigator"])
def test_identity_list(login, cast, township, viewer):
    client = login(cast[viewer])

    def add(n):
        for i in range(n):
            req = identity.request_access(
                report_with_identity(township, i), cast["investigator"], REASON
            )
            if i % 2:
                identity.decide(req.pk, cast["custodian"], i % 4 == 1, "")

    assert_bounded(client, "/staff/identity/", "identity-requests", add)


def test_audit_log(login, cast, township):
    client = login(cast["auditor"])
    users = list(cast.values())
    # Only the entries recorded below; the sign-in of the fixture writes none.
    assert not audit.AuditEntry.objects.exists()

    def add(n):
        for i in range(n):
            report = new_report(township)
            audit.record(users[i % len(users)], "document.viewed", report, n=i)

    assert_bounded(client, "/staff/audit/", "audit", add)


# --- searched and filtered: the same bound ------------------------------------------------


def test_report_queue_searched(login, cast, township, other_township):
    client = login(cast["supervisor"])
    report_with_identity(other_township)  # another township: filtered out
    url = (
        f"/staff/reports/?status=all&words=鉴定+胎儿&township={township.pk}"
        "&since=2020-01-01&until=2099-12-31"
    )

    def add(n):
        for i in range(n):
            report_with_identity(township, i)

    assert_bounded(client, url, "report-queue", add)


def test_case_list_searched(login, cast, units, township, other_township):
    client = login(cast["supervisor"])
    url = (
        f"/staff/cases/?state=investigating&words=胎儿&township={township.pk}"
        f"&person={cast['investigator'].pk}&since=2020-01-01&overdue=&work="
    )

    def add(n):
        for i in range(n):
            investigated_case(cast, units, township, i)

    assert_bounded(client, url, "case-list", add)


def test_case_list_of_a_home_card(login, cast, units, township):
    client = login(cast["investigator"])

    def add(n):
        for i in range(n):
            investigated_case(cast, units, township, i)

    assert_bounded(client, "/staff/cases/?state=all&work=mine", "case-list", add)
