"""Every staff page shows a verified supervisor what it is for, on a case in each stage."""

import pytest

from casework import identity, services
from casework.models import AuditEntry, DocumentType

from .conftest import new_report
from .test_access_matrix import clean_png

pytestmark = pytest.mark.django_db


@pytest.fixture
def scene(cast, township, investigating_case):
    """An investigating case, a new report with its description, and a pending identity
    request: each page has something of its own to show."""
    waiting = new_report(township, description="镇西药店无处方出售米非司酮片", reporter_name="某人")
    request = identity.request_access(waiting, cast["investigator"], "需要当面核实举报的细节")
    return {"case": investigating_case, "waiting": waiting, "request": request}


def page(client, url) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def test_each_staff_page_shows_what_it_is_for(login, cast, scene):
    client = login(cast["supervisor"])
    case, waiting = scene["case"], scene["waiting"]

    home = page(client, "/staff/")
    assert '<span class="n">1</span>条新举报待审核' in home
    assert "中水镇" in home  # the supervisor's townships
    assert "您所辖乡镇在办案件1件" in home

    queue = page(client, "/staff/reports/")
    assert f"/staff/reports/{waiting.pk}/" in queue
    assert waiting.acceptance_due.strftime("%Y-%m-%d") in queue

    accepted = page(client, "/staff/reports/?status=accepted")
    assert case.number in accepted
    assert f"/staff/reports/{waiting.pk}/" not in accepted

    detail = page(client, f"/staff/reports/{waiting.pk}/")
    assert "镇西药店无处方出售米非司酮片" in detail
    assert "某人" not in detail  # the identity stays sealed
    assert 'action="/staff/reports/' in detail and "/open-case/" in detail

    tip = page(client, "/staff/reports/new/")
    assert 'name="channel"' in tip and 'name="township"' in tip

    open_cases = page(client, "/staff/cases/")
    assert case.number in open_cases and "调查" in open_cases

    all_cases = page(client, "/staff/cases/?state=all")
    assert case.number in all_cases

    files = page(client, "/staff/cases/files/")
    row = files[files.index(case.number) :]
    assert "举报登记表" in row.split("</tr>")[0]  # the first missing document is named

    case_page = page(client, f"/staff/cases/{case.pk}/")
    assert case.number in case_page
    assert 'id="case-state"' in case_page and "调查" in case_page
    assert "/transition/find_unfounded/" in case_page
    assert "/transition/start_investigation/" not in case_page  # already investigating

    index = page(client, f"/staff/cases/{case.pk}/index/")
    assert case.number in index and "举报登记表" in index

    custodian = login(cast["custodian"])
    requests = page(custodian, "/staff/identity/")
    assert "需要当面核实举报的细节" in requests
    assert f"/staff/identity/{scene['request'].pk}/decide/" in requests


def test_penalize_needs_document(login, cast, investigating_case):
    client = login(cast["supervisor"])
    case = investigating_case
    audit_before = AuditEntry.objects.count()
    url = f"/staff/cases/{case.pk}/"
    # The page says what is missing before anyone tries.
    assert "请先将处罚决定书/处理文件归入案卷。" in page(client, url)

    response = client.post(
        f"/staff/cases/{case.pk}/transition/penalize/",
        {"expected_state": "investigating", "outcome": "罚款"},
        follow=True,
    )

    assert response.status_code == 200
    messages = [str(m) for m in response.context["messages"]]
    assert messages == ["请先将处罚决定书/处理文件归入案卷。"]
    case.refresh_from_db()
    assert case.state == "investigating"
    assert case.outcome == ""  # the refused step stored nothing it was given
    assert AuditEntry.objects.count() == audit_before

    penalty = DocumentType.objects.get(code="penalty_decision")
    services.add_document(case.pk, cast["investigator"], penalty, clean_png())
    assert "请先将处罚决定书/处理文件归入案卷。" not in page(client, url)
