import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def proposers_from_the_audit_log(apps, schema_editor):
    """Rewards proposed before the field existed: the actor of their reward.proposed entry (the
    user who took 查处/移送, or the supervisor who proposed by hand); none for a script's."""
    Reward = apps.get_model("rewards", "Reward")
    AuditEntry = apps.get_model("casework", "AuditEntry")
    actors = dict(
        AuditEntry.objects.filter(
            action="reward.proposed", object_type="rewards.reward", actor__isnull=False
        ).values_list("object_id", "actor_id")
    )
    for reward in Reward.objects.filter(proposed_by__isnull=True).only("pk"):
        actor = actors.get(str(reward.pk))
        if actor is not None:
            Reward.objects.filter(pk=reward.pk).update(proposed_by_id=actor)


class Migration(migrations.Migration):
    dependencies = [
        ("rewards", "0003_chinese_admin_labels"),
        ("casework", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="reward",
            name="proposed_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="proposed by",
            ),
        ),
        migrations.RunPython(proposers_from_the_audit_log, migrations.RunPython.noop),
    ]
