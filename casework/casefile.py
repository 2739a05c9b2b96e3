"""Case-file completeness (一案一卷): 100 − 20 per missing required document, never below 0."""

from .models import Case, DocumentType

POINTS_PER_MISSING = 20


def checklist(case: Case, doc_types=None) -> list[dict]:
    """Each applicable document type with the documents filed under it.

    Pass `doc_types` (a list) and prefetch `case.documents` to keep list pages to a fixed
    number of queries.
    """
    doc_types = doc_types if doc_types is not None else list(DocumentType.objects.all())
    filed: dict[int, list] = {}
    for doc in case.documents.all():
        filed.setdefault(doc.doc_type_id, []).append(doc)
    rows = []
    for doc_type in doc_types:
        applies = doc_type.applies_to(case)
        docs = filed.get(doc_type.pk, [])
        if not applies and not docs:
            continue
        rows.append(
            {
                "type": doc_type,
                "documents": docs,
                "required": applies and doc_type.required,
                "missing": applies and doc_type.required and not docs,
            }
        )
    return rows


def missing_documents(case: Case, doc_types=None) -> list[DocumentType]:
    return [row["type"] for row in checklist(case, doc_types) if row["missing"]]


def score(case: Case, doc_types=None) -> int:
    return max(0, 100 - POINTS_PER_MISSING * len(missing_documents(case, doc_types)))
