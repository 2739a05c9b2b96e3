"""Default case-file checklist (一案一卷), editable in the admin afterwards."""

from django.db import migrations

DEFAULTS = [
    # code, name, order, required_when, generated
    ("registration_form", "举报登记表", 10, "always", True),
    ("acceptance_approval", "受理/立案审批表", 20, "always", False),
    ("interview_record", "询问笔录/调查笔录", 30, "always", False),
    ("inspection_record", "现场检查笔录", 40, "always", False),
    ("evidence", "证据材料", 50, "always", False),
    ("birth_permit", "生育证原件", 60, "birth_permit", False),
    ("penalty_decision", "处罚决定书/处理文件", 70, "decided", False),
    ("service_receipt", "送达回证", 80, "decided", False),
    ("reward_approval", "奖励审批表", 90, "rewarded", False),
    ("closing_report", "结案报告", 100, "closed", False),
]


def create(apps, schema_editor):
    DocumentType = apps.get_model("casework", "DocumentType")
    for code, name, order, when, generated in DEFAULTS:
        DocumentType.objects.get_or_create(
            code=code,
            defaults={"name": name, "order": order, "required_when": when, "generated": generated},
        )


class Migration(migrations.Migration):
    dependencies = [("casework", "0002_initial")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
