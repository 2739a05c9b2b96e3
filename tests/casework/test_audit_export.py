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
    text = b"".join(response.streaming_content).decode()
    assert text.startswith("\ufeff")  # spreadsheet programs read it as UTF-8
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert rows[0][:7] == ["序号", "时间", "人员", "事项", "对象", "内容", "操作代码"]
    actions = {row[6] for row in rows[1:]}
    assert actions == {"case.opened"}
    exported = AuditEntry.objects.filter(action="audit.exported").get()
    assert exported.actor == cast["auditor"]
    assert exported.data == {"filter": "case."}


def test_clerk_cannot_export(login, cast):
    assert login(cast["clerk"]).get("/staff/audit/export.csv").status_code == 403
    assert not AuditEntry.objects.filter(action="audit.exported").exists()
