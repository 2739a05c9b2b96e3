"""Every staff page renders for a verified supervisor on a case in each stage."""

import pytest

from casework import services
from casework.models import DocumentType

pytestmark = pytest.mark.django_db


def test_staff_pages_render(login, cast, investigating_case, report):
    client = login(cast["supervisor"])
    case = investigating_case
    for url in [
        "/staff/",
        "/staff/reports/",
        "/staff/reports/?status=accepted",
        f"/staff/reports/{report.pk}/",
        "/staff/reports/new/",
        "/staff/cases/",
        "/staff/cases/?state=all",
        "/staff/cases/files/",
        f"/staff/cases/{case.pk}/",
        f"/staff/cases/{case.pk}/index/",
        "/staff/identity/",
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
    assert b"start_investigation" not in client.get(f"/staff/cases/{case.pk}/").content


def test_penalize_needs_document(login, cast, investigating_case):
    client = login(cast["supervisor"])
    case = investigating_case
    response = client.post(
        f"/staff/cases/{case.pk}/transition/penalize/",
        {"expected_state": "investigating", "outcome": "罚款"},
        follow=True,
    )
    assert response.status_code == 200
    case.refresh_from_db()
    assert case.state == "investigating"
    assert DocumentType.objects.filter(code="penalty_decision").exists()
    services.generate_registration_form(case.pk, cast["investigator"])
