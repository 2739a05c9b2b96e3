# Per-township row counts for the reports' township column, as casework migration 0012 does for
# cases: past 100 townships (PostgreSQL's default statistics target) a small township's reports
# were estimated at the province's average, and a small county's queue and home counts walked
# the province's indexes instead of starting from its own townships.

from django.db import migrations

STATISTICS = "ALTER TABLE tipline_report ALTER COLUMN township_id SET STATISTICS %d"


def per_township_statistics(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(STATISTICS % 1000)


def default_statistics(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(STATISTICS % -1)


class Migration(migrations.Migration):
    dependencies = [
        ("tipline", "0006_report_search_indexes"),
    ]

    operations = [
        migrations.RunPython(per_township_statistics, default_statistics),
    ]
