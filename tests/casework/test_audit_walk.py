"""verify_audit walks the chain in ranges of ids, joined in order, and on PostgreSQL in worker
processes: whatever the ranges, it names the same first broken entry as one walk from the start.

The entries are written by audit.record; breaks are made below the ORM, at a range's first and
last entry (the boundary the join checks) and inside a range.
"""

import json
from datetime import UTC, datetime

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection

from casework import audit, audit_verify
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
    """An entry appended while the workers walk is in neither the head nor the walk."""
    write_chain(6)
    real = audit_verify.join

    def append_meanwhile(ranges):
        # The parent has read the head and exported its snapshot; another connection appends.
        other = connection.copy()
        try:
            with other.cursor() as cursor:
                cursor.execute("SELECT hash FROM casework_auditentry ORDER BY id DESC LIMIT 1")
                (last,) = cursor.fetchone()
                at = datetime.now(UTC)
                digest = digest_of(last, at, None, "case.extended", "casework.case", "x", {})
                cursor.execute(
                    "INSERT INTO casework_auditentry (at, action, object_type, object_id, data, "
                    "prev_hash, hash) VALUES (%s, 'case.extended', 'casework.case', 'x', '{}', "
                    "%s, %s)", [at, last, digest])  # fmt: skip
                cursor.execute("UPDATE casework_audithead SET last_hash = %s, count = count + 1",
                               [digest])  # fmt: skip
        finally:
            other.close()
        return real(ranges)

    monkeypatch.setattr("casework.audit_verify.join", append_meanwhile)
    assert audit.verify(workers=2, span=2) == (True, "audit chain intact: 6 entries")
    monkeypatch.undo()
    assert audit.verify(workers=2, span=2) == (True, "audit chain intact: 7 entries")
