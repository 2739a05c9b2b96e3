"""The 1000-point sheet in the Django admin: read-only lists of the county's own items, entries
and adjustments for its administrator (and entries for its inspector); changes go through the
staff pages' audited services only, so a POST to the admin changes nothing."""

from decimal import Decimal

import pytest
from django.utils import timezone

from casework.assessment import inspections
from casework.assessment.inspections import ItemInput
from casework.assessment.models import InspectionEntry, SheetItem
from org import roles
from org.models import County, Township, Unit

from .conftest import make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def year():
    return timezone.localdate().year


@pytest.fixture
def entered(cast, units, township, year):
    inspector = make_staff("inspector", roles.INSPECTOR, units["county_fp"])
    inspections.enter_round(
        township.pk, year, "q2", {"art04": ItemInput(Decimal("7.5"), "文件齐全")}, inspector
    )
    # Another county's sheet, which this county's administrator must not see.
    other = County.objects.create(code="other", name="邻县")
    far = Township.objects.create(county=other, code="far", name="远山镇")
    far_unit = Unit.objects.create(county=other, township=None, kind=Unit.Kind.FAMILY_PLANNING)
    far_inspector = make_staff("far_inspector", roles.INSPECTOR, far_unit)
    inspections.enter_round(far.pk, year, "q2", {"art04": ItemInput(Decimal("3"))}, far_inspector)
    return inspector


def _staff(user):
    user.is_staff = True
    user.save()
    return user


def test_the_administrator_reads_his_county_sheet_in_the_admin(login, units, entered, year):
    admin = _staff(make_staff("county_admin", roles.ADMINISTRATOR, units["county_fp"]))
    client = login(admin)
    html = client.get("/admin/assessment/inspectionentry/").content.decode()
    assert "中水镇" in html and "7.50" in html
    assert "远山镇" not in html  # the other county's entry
    items = client.get("/admin/assessment/sheetitem/").content.decode()
    assert "示范县" in items and "邻县" not in items
    assert client.get("/admin/assessment/sheetadjustment/").status_code == 200


def test_the_admin_changes_nothing_of_the_sheet(login, units, entered, township):
    admin = _staff(make_staff("county_admin", roles.ADMINISTRATOR, units["county_fp"]))
    client = login(admin)
    entry = InspectionEntry.objects.get(township=township)
    item = SheetItem.objects.get(pk=entry.item_id)
    before = (list(InspectionEntry.objects.values()), list(SheetItem.objects.values()))
    response = client.post(
        f"/admin/assessment/inspectionentry/{entry.pk}/change/", {"points": "99"}
    )
    assert response.status_code == 403
    response = client.post(f"/admin/assessment/sheetitem/{item.pk}/change/", {"max_points": "1"})
    assert response.status_code == 403
    assert client.get("/admin/assessment/sheetitem/add/").status_code == 403
    assert (list(InspectionEntry.objects.values()), list(SheetItem.objects.values())) == before


def test_a_clerk_has_no_sheet_in_the_admin(login, cast, entered):
    client = login(_staff(cast["clerk"]))
    assert client.get("/admin/assessment/inspectionentry/").status_code == 403
