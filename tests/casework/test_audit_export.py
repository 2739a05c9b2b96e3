import csv
import io
import re

import pytest
from django.utils import translation

from casework import audit, audit_display
from casework.audit_catalogue import Action
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


def test_every_header_is_chinese_whatever_the_page_language(login, cast, case):
    """The file is for the county office: the chain's own columns are named in Chinese too, even
    for an auditor reading the site in English; their values stay as chained (to check them)."""
    client = login(cast["auditor"])
    response = client.get("/staff/audit/export.csv", HTTP_ACCEPT_LANGUAGE="en")
    text = b"".join(response.streaming_content).decode().removeprefix("\ufeff")
    header, *body = list(csv.reader(io.StringIO(text)))
    assert header[7:] == [
        "对象类型（代码）",
        "对象编号",
        "链上原始数据（JSON）",
        "上一条的哈希值",
        "本条哈希值",
    ]
    assert all(re.search(r"[\u4e00-\u9fff]", h) for h in header), header
    opened = next(r for r in body if r[6] == "case.opened")
    assert opened[3].endswith("受理举报并立案") and opened[7] == "casework.case"


def test_an_export_entry_names_its_townships_and_format(cast, township):
    """An assessment export lists the townships it held by code: the audit names them, and the
    format is the one people know (CSV), not the URL's code."""
    entry = audit.record(
        cast["auditor"],
        Action.ASSESSMENT_EXPORTED,
        township.county,
        year=2026,
        format="csv",
        frozen=False,
        townships=[township.code],
    )
    with translation.override("zh-hans"):
        (row,) = audit_display.describe([entry])
    fields = dict(row["fields"])
    assert fields["乡镇"] == township.name and fields["格式"] == "CSV"
    assert fields["锁定数据"] == "否"
