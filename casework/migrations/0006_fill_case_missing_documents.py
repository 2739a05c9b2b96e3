"""Fill Case.missing_documents for existing cases: one UPDATE over all cases.

The rule is copied here as it stands (casework/casefile.py missing_expression), so this
migration keeps its meaning whatever the code becomes later.
"""

from functools import reduce
from operator import add

from django.db import migrations
from django.db.models import Exists, IntegerField, OuterRef, Q, Value, When
from django.db.models import Case as Switch

WHEN = {
    "always": Q(),
    "birth_permit": Q(involves_birth_permit=True),
    "decided": Q(penalized_at__isnull=False),
    "rewarded": Q(rewarded_at__isnull=False),
    "closed": Q(closed_at__isnull=False),
}


def fill(apps, schema_editor):
    Case = apps.get_model("casework", "Case")
    CaseDocument = apps.get_model("casework", "CaseDocument")
    DocumentType = apps.get_model("casework", "DocumentType")
    terms = []
    for t in DocumentType.objects.filter(required=True):
        condition = WHEN[t.required_when]
        if t.categories:
            condition &= Q(category__in=t.categories)
        filed = CaseDocument.objects.filter(case=OuterRef("pk"), doc_type=t)
        terms.append(
            Switch(
                When(condition & ~Exists(filed), then=Value(1)),
                default=Value(0),
                output_field=IntegerField(),
            )
        )
    if terms:
        Case.objects.order_by().update(missing_documents=reduce(add, terms))


class Migration(migrations.Migration):
    dependencies = [
        ("casework", "0005_case_missing_documents_file_score_index"),
        # The checklist types those apps add must exist before the counts are taken.
        ("assessment", "0003_chinese_admin_labels"),
        ("rewards", "0003_chinese_admin_labels"),
    ]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
