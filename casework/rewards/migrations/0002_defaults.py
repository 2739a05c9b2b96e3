"""The default reward policy (3000.00 CNY for every category and outcome, 30 working days to
claim) and the reward documents of the case file: the approval form, now generated on approval,
and the payment voucher, generated on payment. Both editable in the admin afterwards."""

import datetime
from decimal import Decimal

from django.db import migrations


def create(apps, schema_editor):
    RewardPolicy = apps.get_model("rewards", "RewardPolicy")
    DocumentType = apps.get_model("casework", "DocumentType")
    if not RewardPolicy.objects.filter(county__isnull=True).exists():
        RewardPolicy.objects.create(
            county=None,
            effective_from=datetime.date(2000, 1, 1),
            default_amount=Decimal("3000.00"),
            claim_window_days=30,
            note="对举报人保密，给以奖励现金3000元",
        )
    DocumentType.objects.filter(code="reward_approval").update(generated=True)
    DocumentType.objects.get_or_create(
        code="payment_voucher",
        defaults={
            "name": "奖励支付凭证",
            "order": 95,
            "required_when": "rewarded",
            "generated": True,
        },
    )


class Migration(migrations.Migration):
    dependencies = [
        ("rewards", "0001_initial"),
        ("casework", "0003_default_checklist"),
    ]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
