"""The case page reads the case file once: its number of queries does not grow with the number
of documents filed (each document used to cost a query for its type's name)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from casework import services
from casework.models import DocumentType

from .test_query_counts import clean_png

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.TIPLINE_RECEIPT_ARGON2 = {"memory_cost": 8, "iterations": 1, "lanes": 1}


def page_queries(client, case):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(f"/staff/cases/{case.pk}/")
    assert response.status_code == 200
    return [q["sql"] for q in ctx.captured_queries], response


def file_some(case, user, n, start=0):
    codes = ["acceptance_approval", "interview_record", "inspection_record", "evidence"]
    for i in range(start, start + n):
        doc_type = DocumentType.objects.get(code=codes[i % len(codes)])
        services.add_document(case.pk, user, doc_type, clean_png(), title=f"doc {i}")


@pytest.mark.parametrize("viewer", ["investigator", "supervisor"])
def test_case_page_queries_do_not_grow_with_documents(
    login, cast, investigating_case, viewer, django_assert_max_num_queries
):
    case = investigating_case
    client = login(cast[viewer])
    file_some(case, cast["investigator"], 2)
    client.get(f"/staff/cases/{case.pk}/")  # warm per-process caches
    few, response = page_queries(client, case)
    assert response.content.decode().count("doc 1") == 1
    file_some(case, cast["investigator"], 10, start=2)
    many, response = page_queries(client, case)
    assert response.content.decode().count("doc 11") == 1
    assert len(many) == len(few), "\n".join(many)
    # The documents are read once, with their types from the checklist.
    documents = [q for q in many if 'FROM "casework_casedocument"' in q]
    assert len(documents) == 1, documents
    with django_assert_max_num_queries(len(few)):
        client.get(f"/staff/cases/{case.pk}/")
