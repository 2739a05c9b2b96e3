"""Case-file completeness (一案一卷): 100 − 20 per missing required document, never below 0.

The checklist is computed two ways that must agree: in Python for one case (``checklist``,
``missing_documents``) and in SQL for any number of cases (``missing_expression``), which
``refresh_missing`` stores in ``Case.missing_documents`` so list pages can sort and paginate in
the database. Every service that files a document or changes what the checklist depends on
(state dates, category, birth permit) calls ``refresh_case``; an edit of the checklist itself
(DocumentType) refreshes every case in one statement.
"""

from functools import reduce
from operator import add

from django.db.models import BooleanField, Exists, IntegerField, OuterRef, Q, Value, When
from django.db.models import Case as Switch

from .models import Case, CaseDocument, DocumentType
from .models.documents import checklist, missing_documents

__all__ = ["checklist", "missing_documents"]  # and the functions below

POINTS_PER_MISSING = 20


def points(missing: int) -> int:
    return max(0, 100 - POINTS_PER_MISSING * missing)


def score(case: Case, doc_types=None) -> int:
    return points(len(missing_documents(case, doc_types)))


# --- the same rule in SQL -------------------------------------------------------------------

# When a required document type applies to a case, as DocumentType.applies_to says, in SQL.
# A new kind of "required when" raises KeyError here, and the tests that compare the stored
# count with missing_documents fail until it is added.
_WHEN = {
    DocumentType.When.ALWAYS: Q(),
    DocumentType.When.BIRTH_PERMIT: Q(involves_birth_permit=True),
    DocumentType.When.DECIDED: Q(penalized_at__isnull=False),
    DocumentType.When.REWARDED: Q(rewarded_at__isnull=False),
    DocumentType.When.CLOSED: Q(closed_at__isnull=False),
}


def applies(doc_type: DocumentType) -> Q:
    condition = Q(pk__isnull=False) & _WHEN[doc_type.required_when]
    if doc_type.categories:
        condition &= Q(category__in=doc_type.categories)
    return condition


def is_missing(doc_type: DocumentType) -> Q:
    """The case needs this type and has no document of it."""
    filed = CaseDocument.objects.filter(case=OuterRef("pk"), doc_type=doc_type)
    return applies(doc_type) & ~Exists(filed)


def missing_annotations(doc_types) -> dict:
    """One boolean per type: ``missing_<pk>``."""
    return {
        f"missing_{t.pk}": Switch(
            When(is_missing(t), then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        )
        for t in doc_types
    }


def missing_expression(doc_types):
    """The number of required types missing, as one SQL expression over a case row."""
    terms = [
        Switch(When(is_missing(t), then=Value(1)), default=Value(0), output_field=IntegerField())
        for t in doc_types
        if t.required
    ]
    return reduce(add, terms) if terms else Value(0, output_field=IntegerField())


def refresh_missing(cases) -> int:
    """Store the missing-document count of every case of the queryset: one UPDATE."""
    doc_types = list(DocumentType.objects.filter(required=True))
    # order_by(): an UPDATE needs no order, and the default one would only cost.
    return cases.order_by().update(missing_documents=missing_expression(doc_types))


def refresh_case(case: Case) -> None:
    """After a change to one case (its row is locked by the caller's transaction)."""
    refresh_missing(Case.objects.filter(pk=case.pk))
    case.missing_documents = Case.objects.values_list("missing_documents", flat=True).get(
        pk=case.pk
    )


def refresh_all(**_signal) -> None:
    """The checklist changed: every case, one statement."""
    refresh_missing(Case.objects.all())
