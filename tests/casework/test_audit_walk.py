"""verify_audit walks the chain in ranges of ids, joined in order, and on PostgreSQL in worker
processes: whatever the ranges, it names the same first broken entry as one walk from the start.

The entries are written by audit.record; breaks are made below the ORM, at a range's first and
last entry (the boundary the join checks) and inside a range.
"""

import json
import multiprocessing
from datetime import UTC, datetime

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection

from casework import audit
from casework.audit_chain import at_iso, data_json, digest_of, digest_of_text
from casework.models import AuditEntry

POSTGRES = "postgresql" in settings.DATABASES["default"]["ENGINE"]
AWKWARD = 'a\\b\tc\nd\re "引号" \\N 中文 \x01 \u2028 /'


def raw(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def write_chain(n=10):
    for i in range(n):
        audit.record(None, "case.extended", object_type="casework.case", object_id=str(i),
                     note=AWKWARD if i % 3 == 0 else f"第{i}次", n=i)  # fmt: skip
    return list(AuditEntry.objects.order_by("id").values_list("id", flat=True))


def link_broken(pk):
    return f"entry #{pk} (case.extended): an entry before it was removed or altered"


def forge_content(pk):
    raw("UPDATE casework_auditentry SET data = %s WHERE id = %s", [json.dumps({"x": 1}), pk])


def forge_and_rehash(pk):
    """Alter an entry and recompute its own hash: caught at the link of the entry after it."""
    entry = AuditEntry.objects.get(pk=pk)
    entry.data = {"forged": True}
    raw("UPDATE casework_auditentry SET data = %s, hash = %s WHERE id = %s",
        [json.dumps(entry.data), audit._digest(entry.prev_hash, entry), pk])  # fmt: skip


# --- the payload built from text is the definition's --------------------------------------


@pytest.mark.parametrize(
    ("at", "actor", "data"),
    [
        (datetime(2026, 1, 2, 3, 4, 5, 678900, tzinfo=UTC), 7, {"b": [1, 2.5, None], "a": "x"}),
        (datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), None, {}),  # no fraction of a second
        (datetime(1999, 12, 31, 23, 59, 59, 1, tzinfo=UTC), 12345, {AWKWARD: {AWKWARD: AWKWARD}}),
    ],
)
def test_digest_from_text_equals_the_definition(at, actor, data):
    stored = json.dumps(data)  # key order and spacing of the column do not matter
    printed = at.isoformat(sep=" ").replace("+00:00", "+00")  # as PostgreSQL prints it in UTC
    expected = digest_of(audit.GENESIS, at, actor, AWKWARD, "casework.case", AWKWARD, data)
    got = digest_of_text(audit.GENESIS, at_iso(printed), "null" if actor is None else str(actor),
                         AWKWARD, "casework.case", AWKWARD, data_json(stored))  # fmt: skip
    assert got == expected


# --- ranges joined in order (in this process: inside the test's transaction) ---------------


@pytest.mark.django_db
@pytest.mark.parametrize("span", [1, 2, 3, 4, 1000])
def test_an_intact_chain_verifies_in_any_ranges(span):
    write_chain(10)
    assert audit.verify(span=span) == (True, "audit chain intact: 10 entries")


@pytest.mark.django_db
@pytest.mark.parametrize("span", [2, 3, 4, 1000])
@pytest.mark.parametrize("position", [0, 3, 4, 5, 9])
def test_an_altered_entry_is_named_at_any_range_boundary(span, position):
    """With span 4 the ranges are entries 0–3, 4–7, 8–9: positions 3, 4 and 9 sit on a boundary."""
    ids = write_chain(10)
    forge_content(ids[position])
    assert audit.verify(span=span) == (
        False, f"entry #{ids[position]} (case.extended): its content was altered")  # fmt: skip


@pytest.mark.django_db
@pytest.mark.parametrize("span", [2, 3, 4, 1000])
@pytest.mark.parametrize("position", [2, 3, 4, 8])
def test_a_rehashed_entry_is_caught_at_the_next_link_across_a_boundary(span, position):
    ids = write_chain(10)
    forge_and_rehash(ids[position])
    assert audit.verify(span=span) == (False, link_broken(ids[position + 1]))


@pytest.mark.django_db
@pytest.mark.parametrize("span", [1, 2, 4, 1000])
def test_a_whole_range_deleted_is_named_at_the_entry_after_it(span):
    """Entries 4–7 (the second range of 4) removed: the first entry after them is named."""
    ids = write_chain(10)
    raw("DELETE FROM casework_auditentry WHERE id >= %s AND id <= %s", [ids[4], ids[7]])
    assert audit.verify(span=span) == (False, link_broken(ids[8]))


@pytest.mark.django_db
def test_the_first_break_is_named_when_two_ranges_are_broken():
    ids = write_chain(10)
    forge_content(ids[6])
    forge_content(ids[2])
    assert audit.verify(span=4)[1] == f"entry #{ids[2]} (case.extended): its content was altered"


@pytest.mark.django_db
def test_a_first_entry_linked_to_something_else_is_named():
    ids = write_chain(4)
    raw("UPDATE casework_auditentry SET prev_hash = %s WHERE id = %s", ["f" * 64, ids[0]])
    assert audit.verify(span=1) == (False, link_broken(ids[0]))


# --- in worker processes (PostgreSQL, committed data) --------------------------------------


@pytest.mark.parametrize("workers", [1, 2, 3])
@pytest.mark.skipif(not POSTGRES, reason="worker processes share a PostgreSQL snapshot")
@pytest.mark.django_db(transaction=True)
def test_workers_verify_an_intact_chain(workers, capsys):
    write_chain(10)
    assert audit.verify(workers=workers, span=3) == (True, "audit chain intact: 10 entries")
    call_command("verify_audit", "--workers", "2")
    assert "intact: 10 entries" in capsys.readouterr().out


@pytest.mark.skipif(not POSTGRES, reason="worker processes share a PostgreSQL snapshot")
@pytest.mark.django_db(transaction=True)
def test_workers_name_the_same_first_break_as_one_walk():
    ids = write_chain(12)
    forge_and_rehash(ids[3])  # caught at ids[4], the first entry of the second range of 4
    forge_content(ids[9])
    expected = link_broken(ids[4])
    assert audit.verify(workers=1, span=1000) == (False, expected)
    assert audit.verify(workers=2, span=4) == (False, expected)
    assert audit.verify(workers=3, span=1) == (False, expected)


@pytest.mark.skipif(not POSTGRES, reason="worker processes share a PostgreSQL snapshot")
@pytest.mark.django_db(transaction=True)
def test_workers_read_the_snapshot_of_the_head(monkeypatch):
    """The workers read the state the parent read the head in: an entry altered by another
    connection once the walk has begun (after the snapshot was exported, before any worker
    started) is not seen by this walk, and is by the next."""
    ids = write_chain(6)
    real = multiprocessing.get_context

    def alter_then_start_workers(method):
        other = connection.copy()
        try:
            with other.cursor() as cursor:
                cursor.execute(
                    "UPDATE casework_auditentry SET data = '{\"forged\": true}' WHERE id = %s",
                    [ids[3]],
                )
        finally:
            other.close()
        return real(method)

    monkeypatch.setattr(multiprocessing, "get_context", alter_then_start_workers)
    assert audit.verify(workers=2, span=2) == (True, "audit chain intact: 6 entries")
    monkeypatch.undo()
    assert audit.verify(workers=2, span=2) == (
        False, f"entry #{ids[3]} (case.extended): its content was altered")  # fmt: skip
