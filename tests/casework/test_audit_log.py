"""The audit log is append-only through the ORM, and tampering below it is detected.

`verify_audit` walks the hash chain: an altered entry fails its own hash, a removed entry breaks
the link of the one after it, and removing the newest entries leaves the chain shorter than the
head row (AuditHead) says.
"""

import json
import re

import pytest
from django.core.management import call_command, execute_from_command_line
from django.core.management.base import CommandError
from django.db import connection, transaction

from casework import audit, services
from casework.models import AuditEntry, AuditHead, AuditLogIsAppendOnly

pytestmark = pytest.mark.django_db


@pytest.fixture
def chain(case, cast, units):
    """A few real entries written by the services (case opened, assigned, started)."""
    services.assign(
        case.pk, cast["supervisor"], unit_id=units["zs_fp"].pk, investigator=cast["investigator"]
    )
    services.start_investigation(case.pk, cast["investigator"])
    entries = list(AuditEntry.objects.order_by("id"))
    assert len(entries) >= 3
    return entries


def raw(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def verify_message():
    with pytest.raises(CommandError) as info:
        call_command("verify_audit")
    assert info.value.returncode != 0
    return str(info.value)


# --- append-only through the ORM ----------------------------------------------------------


def test_entry_delete_raises(chain):
    with pytest.raises(AuditLogIsAppendOnly):
        chain[0].delete()
    assert AuditEntry.objects.count() == len(chain)


def test_queryset_delete_and_update_raise(chain):
    with pytest.raises(AuditLogIsAppendOnly):
        AuditEntry.objects.all().delete()
    with pytest.raises(AuditLogIsAppendOnly):
        AuditEntry.objects.filter(pk=chain[0].pk).delete()
    with pytest.raises(AuditLogIsAppendOnly):
        AuditEntry.objects.filter(pk=chain[0].pk).update(data={"forged": True})
    with pytest.raises(AuditLogIsAppendOnly):
        AuditEntry.objects.update(action="x")
    assert AuditEntry.objects.count() == len(chain)
    assert AuditEntry.objects.get(pk=chain[0].pk).data == chain[0].data


def test_bulk_update_raises(chain):
    chain[0].action = "forged"
    with pytest.raises(AuditLogIsAppendOnly), transaction.atomic():
        AuditEntry.objects.bulk_update([chain[0]], ["action"])
    assert AuditEntry.objects.get(pk=chain[0].pk).action != "forged"


def test_saving_an_existing_entry_raises(chain):
    entry = AuditEntry.objects.get(pk=chain[-1].pk)
    entry.data = {"forged": True}
    with pytest.raises(AuditLogIsAppendOnly):
        entry.save()
    with pytest.raises(AuditLogIsAppendOnly):
        entry.save(update_fields=["data"])
    assert AuditEntry.objects.get(pk=entry.pk).data == chain[-1].data


def test_record_links_each_entry_to_the_previous(chain, case, cast):
    entry = audit.record(cast["auditor"], "document.viewed", case, note="见附件")
    assert entry.prev_hash == chain[-1].hash
    assert (entry.object_type, entry.object_id) == ("casework.case", str(case.pk))
    assert entry.data == {"note": "见附件"}
    assert entry.actor == cast["auditor"]
    head = AuditHead.objects.get()
    assert (head.last_hash, head.count) == (entry.hash, len(chain) + 1)
    assert AuditEntry.objects.order_by("id").first().prev_hash == audit.GENESIS


# --- verify_audit ---------------------------------------------------------------------------


def test_verify_audit_passes_on_an_intact_chain(chain, capsys):
    call_command("verify_audit")
    out = capsys.readouterr().out
    assert "intact" in out
    assert str(len(chain)) in out


def test_verify_audit_passes_on_an_empty_log():
    call_command("verify_audit")
    assert audit.verify() == (True, "audit chain intact: 0 entries")


def test_altered_data_is_named(chain):
    target = chain[1]
    raw(
        "UPDATE casework_auditentry SET data = %s WHERE id = %s",
        [json.dumps({"unit": 999, "investigator": None}), target.pk],
    )
    message = verify_message()
    assert f"#{target.pk} " in message
    assert "altered" in message
    assert audit.verify()[0] is False


@pytest.mark.parametrize(
    ("column", "value"),
    [("action", "case.forged"), ("object_id", "999999"), ("at", "2020-01-01 00:00:00")],
)
def test_altered_columns_are_named(chain, column, value):
    target = chain[0]
    raw(f"UPDATE casework_auditentry SET {column} = %s WHERE id = %s", [value, target.pk])  # noqa: S608
    message = verify_message()
    assert re.search(rf"entry #{target.pk}\b", message)


def test_rehashing_an_altered_entry_breaks_the_next_link(chain):
    """A forger who also recomputes the altered entry's hash is caught at the next entry."""
    target = chain[0]
    forged = AuditEntry.objects.get(pk=target.pk)
    forged.data = {"forged": True}
    new_hash = audit._digest(forged.prev_hash, forged)
    raw(
        "UPDATE casework_auditentry SET data = %s, hash = %s WHERE id = %s",
        [json.dumps(forged.data), new_hash, target.pk],
    )
    message = verify_message()
    assert f"#{chain[1].pk} " in message
    assert "removed or altered" in message


def test_deleting_a_middle_entry_names_the_next(chain):
    middle, after = chain[1], chain[2]
    raw("DELETE FROM casework_auditentry WHERE id = %s", [middle.pk])
    message = verify_message()
    assert f"#{after.pk} " in message
    assert f"#{middle.pk} " not in message
    assert "removed" in message


def test_deleting_the_last_entry_is_detected(chain):
    raw("DELETE FROM casework_auditentry WHERE id = %s", [chain[-1].pk])
    message = verify_message()
    assert "latest entries were removed" in message
    assert f"{len(chain) - 1} entries but {len(chain)} were written" in message


def test_deleting_every_entry_is_detected(chain):
    raw("DELETE FROM casework_auditentry")
    assert "0 entries but" in verify_message()


def test_verify_audit_exits_non_zero_from_the_command_line(chain, monkeypatch, capsys):
    raw("DELETE FROM casework_auditentry WHERE id = %s", [chain[-1].pk])
    # run_from_argv closes every connection when it ends, which would end the test's
    # transaction; the exit status is what matters here.
    monkeypatch.setattr("django.db.connections.close_all", lambda: None)
    with pytest.raises(SystemExit) as info:
        execute_from_command_line(["manage.py", "verify_audit"])
    assert info.value.code not in (0, None)
    assert "Audit chain broken" in capsys.readouterr().err


def test_verify_audit_exits_zero_from_the_command_line(chain, monkeypatch, capsys):
    monkeypatch.setattr("django.db.connections.close_all", lambda: None)
    execute_from_command_line(["manage.py", "verify_audit"])  # no SystemExit
    assert "intact" in capsys.readouterr().out


def test_a_failed_change_leaves_no_entry(chain, cast):
    """An entry written inside a transaction that rolls back disappears with it."""
    before = AuditEntry.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        audit.record(cast["auditor"], "document.viewed", chain[0])
        raise RuntimeError
    assert AuditEntry.objects.count() == before
    assert audit.verify()[0]
    call_command("verify_audit")


def test_text_that_copy_escapes_reads_back_as_written(chain):
    """On PostgreSQL the walk parses COPY's text format: backslashes, tabs, newlines, quotes and
    Chinese in any field read back exactly, so an intact chain verifies and an altered one
    does not."""
    awkward = 'a\\b\tc\nd\re "引号" \\N 中文'
    entry = audit.record(
        None, "case.extended", object_type="casework.case", object_id=awkward,
        data={"note": awkward, "nested": {"k\t": [awkward, 1, None, 2.5]}},
    )  # fmt: skip
    assert audit.verify()[0] is True
    raw(
        "UPDATE casework_auditentry SET data = %s WHERE id = %s",
        [json.dumps({"note": awkward + " ", "nested": {"k\t": [awkward, 1, None, 2.5]}}), entry.pk],
    )
    ok, message = audit.verify()
    assert ok is False and f"#{entry.pk} " in message
