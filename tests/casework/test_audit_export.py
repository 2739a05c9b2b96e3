import csv
import io

import pytest

from casework.models import AuditEntry

pytestmark = pytest.mark.django_db


def test_auditor_exports_the_log_as_csv_and_the_export_is_audited(login, cast, case):
    client = login(cast["auditor"])
    response = client.get("/staff/audit/export.csv?action=case.")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Cache-Control"] == "no-store"
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:4] == ["id", "at", "actor", "action"]
    actions = {row[3] for row in rows[1:]}
    assert actions == {"case.opened"}
    exported = AuditEntry.objects.filter(action="audit.exported").get()
    assert exported.actor == cast["auditor"]
    assert exported.data == {"filter": "case."}


def test_clerk_cannot_export(login, cast):
    assert login(cast["clerk"]).get("/staff/audit/export.csv").status_code == 403
    assert not AuditEntry.objects.filter(action="audit.exported").exists()
