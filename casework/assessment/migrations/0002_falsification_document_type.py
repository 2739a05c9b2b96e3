"""The case-file document type of a falsification finding (弄虚作假查实材料).

Filed only by the marking service (generated=True keeps it out of the upload form). It never
applies by itself (its category list names no real category), so it is never required and the
checklist shows it only on a case where a finding was filed.
"""

from django.db import migrations

CODE = "falsification_finding"


def create(apps, schema_editor):
    DocumentType = apps.get_model("casework", "DocumentType")
    DocumentType.objects.get_or_create(
        code=CODE,
        defaults={
            "name": "弄虚作假查实材料",
            "order": 200,
            "required": False,
            "required_when": "always",
            "categories": ["falsification_finding"],
            "generated": True,
        },
    )


def remove(apps, schema_editor):
    apps.get_model("casework", "DocumentType").objects.filter(code=CODE).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("assessment", "0001_initial"),
        ("casework", "0003_default_checklist"),
    ]

    operations = [migrations.RunPython(create, remove)]
