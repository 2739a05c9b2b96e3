"""Case.missing_documents: the stored count the file-scores page sorts on equals the checklist
(casefile.missing_documents) after every service that changes it, and the page reads it in SQL.
"""

import io

import pytest
from django.core.management import call_command

from casework import casefile, services
from casework.models import Case, DocumentType
from casework.views.common import PAGE_SIZE

from .conftest import new_report
from .test_workflow import BASE_DOCS, file_docs

pytestmark = pytest.mark.django_db


def stored(case) -> int:
    return Case.objects.values_list("missing_documents", flat=True).get(pk=case.pk)


def assert_consistent():
    doc_types = list(DocumentType.objects.all())
    cases = Case.objects.prefetch_related("documents")
    assert cases.exists()
    for case in cases:
        assert case.missing_documents == len(casefile.missing_documents(case, doc_types)), case


@pytest.mark.slow  # seeds the whole demo county
def test_the_demo_county_stored_counts_equal_the_checklist():
    call_command("seed_demo", stdout=io.StringIO())
    assert_consistent()
    # And the one statement that refreshes all of them changes none.
    before = dict(Case.objects.values_list("pk", "missing_documents"))
    casefile.refresh_all()
    assert dict(Case.objects.values_list("pk", "missing_documents")) == before


def test_services_keep_the_count(case, cast):
    # A new case misses the five always-required documents.
    assert case.missing_documents == 5 and stored(case) == 5
    file_docs(case, cast["investigator"], "registration_form")
    assert stored(case) == 4
    file_docs(case, cast["investigator"], "acceptance_approval", "evidence")
    assert stored(case) == 2
    # A second copy changes nothing.
    file_docs(case, cast["investigator"], "evidence")
    assert stored(case) == 2


def test_a_decision_adds_what_a_decided_case_needs(investigating_case, cast):
    file_docs(investigating_case, cast["investigator"], *BASE_DOCS, "penalty_decision")
    assert stored(investigating_case) == 0
    case = services.penalize(investigating_case.pk, cast["supervisor"], "罚款")
    # Penalized and closed: 送达回证 (decided) and 结案报告 (closed) are now required.
    assert case.missing_documents == 2 and stored(case) == 2
    assert len(casefile.missing_documents(case)) == 2


def test_birth_permit_counts_from_the_start(township, cast):
    permit = services.open_case(new_report(township).pk, cast["clerk"], involves_birth_permit=True)
    assert stored(permit) == 6  # the five always-required documents + 生育证原件


def test_a_checklist_edit_recomputes_every_case(township, cast):
    a = services.open_case(new_report(township).pk, cast["clerk"])
    b = services.open_case(new_report(township).pk, cast["clerk"])
    file_docs(b, cast["investigator"], *BASE_DOCS)
    assert (stored(a), stored(b)) == (5, 0)
    photos = DocumentType.objects.create(code="photos", name="现场照片", order=55)
    assert (stored(a), stored(b)) == (6, 1)
    photos.required = False
    photos.save()
    assert (stored(a), stored(b)) == (5, 0)
    evidence = DocumentType.objects.get(code="evidence")
    evidence.required = False
    evidence.save()
    assert (stored(a), stored(b)) == (4, 0)
    photos.delete()
    assert (stored(a), stored(b)) == (4, 0)


def test_file_scores_page_sorts_and_paginates_in_sql(
    login, cast, township, django_assert_max_num_queries
):
    cases = [services.open_case(new_report(township).pk, cast["clerk"]) for _ in range(3)]
    file_docs(cases[1], cast["investigator"], *BASE_DOCS)
    file_docs(cases[2], cast["investigator"], "registration_form")
    # 48 more incomplete cases without the services: the page reads only the stored count.
    first = cases[0]
    for i in range(PAGE_SIZE - 2):
        Case.objects.create(
            number=f"X-{i:03d}",
            township=township,
            category=first.category,
            title="t",
            opened_by=cast["clerk"],
            decision_due=first.decision_due,
            missing_documents=5,
        )
    client = login(cast["supervisor"])
    client.get("/staff/cases/files/")  # warm per-process caches
    with django_assert_max_num_queries(12):
        response = client.get("/staff/cases/files/")
    rows = response.context["rows"]
    assert len(rows) == PAGE_SIZE
    # Five missing first (by number), then four; the complete file is on page 2.
    assert [r["score"] for r in rows[:3]] == [0, 0, 0]
    assert rows[-1]["case"] == cases[2] and rows[-1]["score"] == 20
    response = client.get("/staff/cases/files/?page=2")
    rows = response.context["rows"]
    assert [(r["case"], r["score"], r["missing"]) for r in rows] == [(cases[1], 100, [])]
