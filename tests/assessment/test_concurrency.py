"""Races on PostgreSQL: two people marking, freezing or dismissing the same thing at once.

Each leaves exactly one record and one audit entry; the loser gets a clear refusal and leaves no
encrypted file behind. (SQLite serialises writers, so these run on PostgreSQL only.)
"""

from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from casework import services
from casework.assessment import inspections
from casework.assessment import services as assessment
from casework.assessment.inspections import ItemInput
from casework.assessment.models import (
    AssessmentFreeze,
    CaseFalsification,
    InspectionEntry,
    RepeatDismissal,
    SheetEvidence,
    SheetItem,
)
from casework.errors import ServiceError
from casework.models import AuditEntry, CaseDocument
from org import roles
from tests.casework.test_concurrency import reload_user
from tests.threads import race
from vault import storage

from .conftest import clean_png, decide, make_report, make_staff

pytestmark = [
    pytest.mark.skipif(
        "postgresql" not in settings.DATABASES["default"]["ENGINE"],
        reason="row locks (SELECT … FOR UPDATE) need PostgreSQL; SQLite serialises all writers",
    ),
    pytest.mark.django_db(transaction=True),
]


def refused(outcomes):
    return [exc for _result, exc in outcomes if exc is not None]


def test_two_supervisors_mark_the_same_case(cast, units, township):
    case = decide(cast, units, township)
    other = make_staff("supervisor2", roles.SUPERVISOR, units["county_fp"])
    before = set(CaseDocument.objects.values_list("pk", flat=True))
    outcomes = race(
        lambda: assessment.mark_falsified(
            case.pk, reload_user(cast["supervisor"]), "核查属实", clean_png()
        ),
        lambda: assessment.mark_falsified(case.pk, reload_user(other), "核查属实", clean_png()),
    )
    [exc] = refused(outcomes)
    assert isinstance(exc, ServiceError)
    assert CaseFalsification.objects.count() == 1
    assert AuditEntry.objects.filter(action="case.falsified").count() == 1
    new_docs = CaseDocument.objects.exclude(pk__in=before)
    assert new_docs.count() == 1
    files = list(storage.path_for(new_docs.get()).parent.glob("*.bin"))
    assert len(files) == CaseDocument.objects.count()  # the loser's file was removed


def test_two_administrators_freeze_the_same_year(units, county, township):
    a = make_staff("admin_a", roles.ADMINISTRATOR, units["county_fp"])
    b = make_staff("admin_b", roles.ADMINISTRATOR, units["county_fp"])
    year = timezone.localdate().year
    for each in county.townships.all():  # a year freezes once every quota is set
        assessment.set_quota(each.pk, year, 4, a)
    outcomes = race(
        lambda: assessment.freeze_year(county.pk, year, reload_user(a)),
        lambda: assessment.freeze_year(county.pk, year, reload_user(b)),
    )
    [exc] = refused(outcomes)
    assert "already frozen" in str(exc) or "已锁定" in str(exc)
    assert AssessmentFreeze.objects.count() == 1
    assert AuditEntry.objects.filter(action="assessment.frozen").count() == 1


def test_two_clerks_dismiss_the_same_suggestion(cast, units, township):
    case = services.open_case(make_report(township).pk, cast["clerk"])
    other = make_staff("clerk2", roles.CLERK, units["zs_fp"])
    rep = make_report(township)
    outcomes = race(
        lambda: assessment.dismiss_suggestion(rep.pk, case.pk, reload_user(cast["clerk"])),
        lambda: assessment.dismiss_suggestion(rep.pk, case.pk, reload_user(other)),
    )
    [exc] = refused(outcomes)
    assert isinstance(exc, ServiceError)
    assert RepeatDismissal.objects.count() == 1
    assert AuditEntry.objects.filter(action="repeat.dismissed").count() == 1


def test_an_inspector_enters_while_the_year_is_frozen(units, county, township):
    """Either the entry comes first and the frozen sheet holds it, or the freeze comes first
    and the entry is refused, leaving no row and no file: never an entry the snapshot lacks."""
    admin = make_staff("admin_a", roles.ADMINISTRATOR, units["county_fp"])
    inspector = make_staff("inspector", roles.INSPECTOR, units["county_fp"])
    year = timezone.localdate().year
    for each in county.townships.all():
        assessment.set_quota(each.pk, year, 0, admin)
    values = {"art04": ItemInput("8", "督查", [clean_png()])}
    outcomes = race(
        lambda: inspections.enter_round(township.pk, year, "q2", values, reload_user(inspector)),
        lambda: assessment.freeze_year(county.pk, year, reload_user(admin)),
    )
    frozen = {r["township"]: r for r in AssessmentFreeze.objects.get().snapshot}
    art04 = next(i for i in frozen[township.code]["items"] if i["code"] == "art04")
    if refused(outcomes):
        assert InspectionEntry.objects.count() == SheetEvidence.objects.count() == 0
        assert art04["points"] is None
    else:
        assert InspectionEntry.objects.get().points == 8 and art04["points"] == 8
    files = list(Path(settings.TIPLINE_ATTACHMENT_DIR).glob("*.bin"))
    assert len(files) == SheetEvidence.objects.count()


def test_two_inspectors_enter_the_same_round_at_once(units, county, township):
    """The county row serialises them: one entry, the later corrects the earlier, both audited."""
    a = make_staff("inspector_a", roles.INSPECTOR, units["county_fp"])
    b = make_staff("inspector_b", roles.INSPECTOR, units["county_fp"])
    year = timezone.localdate().year
    outcomes = race(
        lambda: inspections.enter_round(
            township.pk, year, "q2", {"art05": ItemInput("30")}, reload_user(a)
        ),
        lambda: inspections.enter_round(
            township.pk, year, "q2", {"art05": ItemInput("35")}, reload_user(b)
        ),
    )
    assert not refused(outcomes)
    assert InspectionEntry.objects.count() == 1
    assert SheetItem.objects.filter(county=county, year=year).count() == 19  # seeded once
    logged = AuditEntry.objects.filter(action="assessment.inspection_entered").order_by("pk")
    assert [e.data["old"] for e in logged] == [None, logged[0].data["new"]]
    assert InspectionEntry.objects.get().points == Decimal(logged[1].data["new"])
