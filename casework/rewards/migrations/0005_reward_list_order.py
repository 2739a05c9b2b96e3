from django.db import migrations, models


class Migration(migrations.Migration):
    """The staff rewards list reads each state it puts first (claimed for finance, proposed for
    supervisors) in its own order, fifty rows at a time (casework/rewards/listing.py)."""

    dependencies = [
        ("rewards", "0004_reward_proposed_by"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="reward",
            index=models.Index(
                fields=["state", "claim_due", "-proposed_at", "-id"], name="reward_list_order"
            ),
        ),
    ]
