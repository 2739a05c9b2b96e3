"""Each existing identity request takes its report's township: one UPDATE."""

from django.db import migrations
from django.db.models import OuterRef, Subquery


def fill(apps, schema_editor):
    IdentityRequest = apps.get_model("casework", "IdentityRequest")
    Report = apps.get_model("tipline", "Report")
    township = Report.objects.filter(pk=OuterRef("report_id")).values("township_id")[:1]
    IdentityRequest.objects.filter(township__isnull=True).update(township=Subquery(township))


class Migration(migrations.Migration):
    dependencies = [("casework", "0007_identityrequest_township")]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
