# The report text's trigram index (0006) without GIN's pending list ("fast update"): new entries
# wait in an unsorted list that every search reads whole, up to gin_pending_list_limit (4 MB)
# until a vacuum sorts them in. At a million reports the list held 408 pages: a rare word
# ("人民路17号") took 10 ms in the index, 0.5 ms without it. Each new report's trigrams now go
# straight into the index (one report at a time, the cost is a few page writes).

from django.db import migrations

INDEX = "report_description_trgm_idx"


def without_pending_list(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"ALTER INDEX IF EXISTS {INDEX} SET (fastupdate = off)")
    schema_editor.execute(
        f"SELECT gin_clean_pending_list(to_regclass('{INDEX}')) "
        f"WHERE to_regclass('{INDEX}') IS NOT NULL"
    )


def with_pending_list(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER INDEX IF EXISTS {INDEX} RESET (fastupdate)")


class Migration(migrations.Migration):
    dependencies = [
        ("tipline", "0008_report_township_received_index"),
    ]

    operations = [
        migrations.RunPython(without_pending_list, with_pending_list, elidable=False),
    ]
