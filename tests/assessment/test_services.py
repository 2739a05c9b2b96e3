"""Quotas, falsified cases, dismissed suggestions and frozen years: each change audited, each
refusal leaves everything as it was."""

import pytest
from django.apps import apps
from django.utils import timezone

from casework import casefile, rewards, services
from casework.assessment import report
from casework.assessment import services as assessment
from casework.assessment.models import (
    AssessmentFreeze,
    CaseFalsification,
    RepeatDismissal,
    TownshipQuota,
)
from casework.errors import NotAllowed, ServiceError
from casework.models import AuditEntry, CaseDocument
from casework.rewards.models import Reward
from org import roles
from org.scope import OutOfScope
from vault import storage

from .conftest import clean_png, decide, make_report, make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(units):
    return make_staff("county_admin", roles.ADMINISTRATOR, units["county_fp"])


def snapshot():
    return {
        "rows": {
            m._meta.label: m.objects.count()
            for m in apps.get_models()
            if m._meta.app_label in ("casework", "assessment", "tipline")
        },
        "quotas": sorted(TownshipQuota.objects.values_list("township_id", "year", "quota")),
        "audit": AuditEntry.objects.count(),
    }


# --- quotas -------------------------------------------------------------------------------


def test_set_quota_is_audited(admin, township):
    row = assessment.set_quota(township.pk, 2026, 6, admin)
    assert (row.quota, row.updated_by) == (6, admin)
    entry = AuditEntry.objects.get(action="assessment.quota_set")
    assert entry.data == {"township": "zhongshui", "year": 2026, "old": None, "new": 6}
    assessment.set_quota(township.pk, 2026, 6, admin)  # unchanged: nothing recorded
    assessment.set_quota(township.pk, 2026, 0, admin)
    assert list(
        AuditEntry.objects.filter(action="assessment.quota_set").values_list("data", flat=True)
    )[-1] == {"township": "zhongshui", "year": 2026, "old": 6, "new": 0}
    assert TownshipQuota.objects.get().quota == 0


@pytest.mark.parametrize("bad", [-1, 2.5, "3", None, True])
def test_quota_must_be_a_whole_number(admin, township, bad):
    before = snapshot()
    with pytest.raises(ServiceError):
        assessment.set_quota(township.pk, 2026, bad, admin)
    assert snapshot() == before


def test_only_county_administrators_set_quotas(admin, cast, units, township, county):
    township_admin = make_staff("zs_admin", roles.ADMINISTRATOR, units["zs_fp"])
    other_county_admin = make_staff("other_admin", roles.ADMINISTRATOR, _other_county_unit())
    before = snapshot()
    with pytest.raises(NotAllowed):
        assessment.set_quota(township.pk, 2026, 3, cast["supervisor"])  # no permission
    with pytest.raises(NotAllowed):
        assessment.set_quota(township.pk, 2026, 3, township_admin)  # township level
    with pytest.raises(OutOfScope):
        assessment.set_quota(township.pk, 2026, 3, other_county_admin)
    with pytest.raises(OutOfScope):
        assessment.set_quotas(county.pk, 2026, {township.pk: 3}, other_county_admin)
    assert snapshot() == before
    assert assessment.set_quotas(county.pk, 2026, {township.pk: 3}, admin) == 1


def _other_county_unit():
    from org.models import County, Unit

    other = County.objects.create(code="other", name="别县")
    return Unit.objects.create(county=other, kind="family_planning", name="别县计生")


# --- falsified cases ------------------------------------------------------------------------


def test_mark_falsified_files_a_sealed_document_and_is_audited(cast, units, township):
    case = decide(cast, units, township)
    marking = assessment.mark_falsified(
        case.pk, cast["supervisor"], "  县督查组核查属实  ", clean_png(), "督查报告"
    )
    assert marking.reason == "县督查组核查属实"
    doc = marking.document
    assert doc.case_id == case.pk and doc.doc_type.code == "falsification_finding"
    assert doc.title == "督查报告" and doc.uploaded_by == cast["supervisor"]
    # sealed like every case document: encrypted on disk, readable through the vault
    raw = storage.path_for(doc).read_bytes()
    assert b"PNG" not in raw
    assert storage.read(CaseDocument.objects.get(pk=doc.pk)).startswith(b"\x89PNG")
    actions = list(
        AuditEntry.objects.filter(object_type="casework.case", object_id=str(case.pk)).values_list(
            "action", flat=True
        )
    )
    assert actions[-2:] == ["document.uploaded", "case.falsified"]
    assert AuditEntry.objects.get(action="case.falsified").data["reason"] == "县督查组核查属实"
    # the finding is never required, so the file score does not change
    assert "falsification_finding" not in [t.code for t in casefile.missing_documents(case)]


def test_falsify_refusals_change_nothing(cast, units, township, other_township):
    case = decide(cast, units, township)
    xs_case = decide(cast, units, other_township)
    before = snapshot()
    with pytest.raises(NotAllowed):
        assessment.mark_falsified(case.pk, cast["investigator"], "核查属实", clean_png())
    with pytest.raises(ServiceError):
        assessment.mark_falsified(case.pk, cast["supervisor"], "   ", clean_png())
    with pytest.raises(ServiceError):
        assessment.mark_falsified(case.pk, cast["supervisor"], "核查属实", None)
    xs_supervisor = make_staff("xs_supervisor", roles.SUPERVISOR, units["xs_fp"])
    with pytest.raises(OutOfScope):
        assessment.mark_falsified(case.pk, xs_supervisor, "核查属实", clean_png())
    assert snapshot() == before
    assessment.mark_falsified(xs_case.pk, xs_supervisor, "核查属实", clean_png())
    before = snapshot()
    files = set(storage.path_for(d) for d in CaseDocument.objects.all())
    with pytest.raises(ServiceError):
        assessment.mark_falsified(xs_case.pk, cast["supervisor"], "再次", clean_png())
    assert snapshot() == before
    on_disk = {p for p in files if p.exists()}
    assert on_disk == files  # and no orphan file was left behind
    assert len(list(storage.path_for(CaseDocument.objects.first()).parent.iterdir())) == len(files)


def test_an_archived_case_can_still_be_marked(cast, units, township):
    case = decide(cast, units, township)
    reward = Reward.objects.get(case=case)  # proposed by 查处
    rewards.cancel(reward.pk, cast["supervisor"], "举报人书面放弃奖励")  # settled: may archive
    services.archive(case.pk, cast["supervisor"])
    assessment.mark_falsified(case.pk, cast["supervisor"], "事后督查发现造假", clean_png())
    assert CaseFalsification.objects.filter(case=case).exists()


def test_after_falsified_is_called_inside_the_marking(monkeypatch, cast, units, township):
    """The hook where rewards are cancelled runs in the marking's transaction: if it fails,
    nothing of the marking stays."""
    case = decide(cast, units, township)
    calls = []
    monkeypatch.setattr(assessment, "_after_falsified", lambda *a: calls.append(a))
    assessment.mark_falsified(case.pk, cast["supervisor"], "核查属实", clean_png())
    assert calls == [(calls[0][0], cast["supervisor"], "核查属实")]
    assert calls[0][0].pk == case.pk

    other = decide(cast, units, township)
    before = snapshot()

    def boom(*a):
        raise ServiceError("reward could not be cancelled")

    monkeypatch.setattr(assessment, "_after_falsified", boom)
    with pytest.raises(ServiceError):
        assessment.mark_falsified(other.pk, cast["supervisor"], "核查属实", clean_png())
    assert snapshot() == before


# --- dismissed suggestions ----------------------------------------------------------------


def test_dismiss_is_audited_and_refused_twice(cast, township, other_township):
    case = services.open_case(make_report(township).pk, cast["clerk"])
    rep = make_report(township)
    assessment.dismiss_suggestion(rep.pk, case.pk, cast["clerk"])
    entry = AuditEntry.objects.last()
    assert (entry.action, entry.object_id, entry.data) == (
        "repeat.dismissed",
        str(rep.pk),
        {"case": case.number},
    )
    before = snapshot()
    with pytest.raises(ServiceError):
        assessment.dismiss_suggestion(rep.pk, case.pk, cast["clerk"])
    with pytest.raises(NotAllowed):
        assessment.dismiss_suggestion(rep.pk, case.pk, cast["investigator"])
    with pytest.raises(OutOfScope):
        assessment.dismiss_suggestion(rep.pk, case.pk, cast["other_clerk"])
    xs_case = services.open_case(make_report(other_township).pk, cast["other_clerk"])
    with pytest.raises(OutOfScope):  # a case of another township is not found
        assessment.dismiss_suggestion(rep.pk, xs_case.pk, cast["clerk"])
    services.link_report(rep.pk, case.pk, cast["clerk"])
    before = snapshot()
    with pytest.raises(ServiceError):  # already triaged
        assessment.dismiss_suggestion(rep.pk, xs_case.pk + 1000, cast["clerk"])
    assert snapshot() == before
    assert RepeatDismissal.objects.count() == 1


# --- frozen years -----------------------------------------------------------------------------


def test_freezing_is_refused_until_every_township_has_a_quota(
    admin, county, township, other_township
):
    """西山镇 has no quota for the year: it is not ranked, and the county cannot sign (freeze) a
    ranking that leaves it out. Refused, naming it; nothing frozen, nothing audited."""
    year = timezone.localdate().year
    assessment.set_quota(township.pk, year, 2, admin)
    rows = {r["township"]: r for r in report.live_rows(county, year)}
    assert (rows["xishan"]["quota_set"], rows["xishan"]["rank"]) == (False, None)
    assert (rows["zhongshui"]["quota_set"], rows["zhongshui"]["rank"]) == (True, 1)
    before = snapshot()
    with pytest.raises(ServiceError, match="西山镇"):
        assessment.freeze_year(county.pk, year, admin)
    assert snapshot() == before
    assert not AssessmentFreeze.objects.exists()
    assert not AuditEntry.objects.filter(action="assessment.frozen").exists()
    assessment.set_quota(other_township.pk, year, 0, admin)  # a quota of 0 is a quota
    freeze = assessment.freeze_year(county.pk, year, admin)
    assert {r["township"]: r["rank"] for r in freeze.snapshot} == {"xishan": 1, "zhongshui": 2}


def test_freeze_keeps_the_figures_and_shows_what_changed(
    admin, cast, units, county, township, other_township
):
    year = timezone.localdate().year  # the cases are decided today
    assessment.set_quota(township.pk, year, 2, admin)
    assessment.set_quota(other_township.pk, year, 0, admin)  # every township has its quota
    decide(cast, units, township)
    freeze = assessment.freeze_year(county.pk, year, admin)
    frozen = {r["township"]: r for r in freeze.snapshot}
    assert frozen["zhongshui"]["handled"] == 1
    assert frozen["zhongshui"]["shortfall_deduction"] == 1000
    entry = AuditEntry.objects.last()
    assert entry.action == "assessment.frozen"
    assert (
        entry.data["year"] == year and entry.data["net"]["zhongshui"] == frozen["zhongshui"]["net"]
    )

    # Later: another case is penalized, the quota changes. The frozen figures do not.
    decide(cast, units, township)
    assessment.set_quota(township.pk, year, 3, admin)
    result = report.assessment(county, year)
    assert result.frozen and result.rows == freeze.snapshot
    assert AssessmentFreeze.objects.get().snapshot == freeze.snapshot
    assert result.differences["zhongshui"]["handled"] == 2
    assert result.differences["zhongshui"]["quota"] == 3
    assert "xishan" not in result.differences
    assert report.assessment(county, year, live_only=True).rows == result.live

    before = snapshot()
    with pytest.raises(ServiceError):
        assessment.freeze_year(county.pk, year, admin)  # once only
    with pytest.raises(ServiceError):
        assessment.freeze_year(county.pk, year + 1, admin)  # not begun
    with pytest.raises(NotAllowed):
        assessment.freeze_year(county.pk, year - 1, cast["auditor"])
    township_admin = make_staff("zs_admin", roles.ADMINISTRATOR, units["zs_fp"])
    with pytest.raises(NotAllowed):
        assessment.freeze_year(county.pk, year - 1, township_admin)
    assert snapshot() == before
