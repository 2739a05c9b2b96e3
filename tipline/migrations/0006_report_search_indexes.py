"""Indexes for the staff search (casework.finding).

The reference staff recorded for a tip: a plain index, on every database. The report text, on
PostgreSQL only: a trigram GIN index on UPPER(description), the expression Django's icontains
compares (``UPPER(col::text) LIKE UPPER(%s)``), so a search for words anywhere in the text does
not read the whole table. pg_trgm splits text into trigrams of "word" characters as the
database's LC_CTYPE classifies them: under a UTF-8 locale (C.UTF-8, zh_CN.UTF-8, en_US.UTF-8)
Chinese characters are word characters, so "鉴定胎儿" gives trigrams; a word shorter than three
characters gives none, and the search is still answered (by a scan), only not by this index.
SQLite has neither and scans.
"""

from django.db import migrations, models

TRGM_INDEX = "report_description_trgm_idx"


def create_trigram_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {TRGM_INDEX} ON tipline_report "
        "USING gin (UPPER(description) gin_trgm_ops)"
    )


def drop_trigram_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX IF EXISTS {TRGM_INDEX}")


class Migration(migrations.Migration):
    dependencies = [
        ("tipline", "0005_report_status_queue_index"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="report",
            index=models.Index(fields=["channel_reference"], name="report_channel_ref_idx"),
        ),
        migrations.RunPython(create_trigram_index, drop_trigram_index, elidable=False),
    ]
