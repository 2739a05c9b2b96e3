"""The audit log page and its CSV export in words: each action a sentence in Chinese naming the
person by their full name, each object by its name, the data as labelled fields."""

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from casework import audit, audit_display, services
from casework.audit_catalogue import Action
from casework.models import AuditEntry

from .conftest import new_report

pytestmark = pytest.mark.django_db


@pytest.fixture
def named(cast):
    """The cast with Chinese names (family name in last_name), as an administrator enters them."""
    for key, (last, first) in {
        "clerk": ("王", "丽"),
        "supervisor": ("刘", "建国"),
        "investigator": ("张", "伟"),
        "auditor": ("吴", "刚"),
    }.items():
        user = cast[key]
        user.last_name, user.first_name = last, first
        user.save(update_fields=["last_name", "first_name"])
    return cast


@pytest.fixture
def story(named, township, units):
    """A case opened, assigned and investigated; another report not accepted."""
    report = new_report(township)
    case = services.open_case(report.pk, named["clerk"])
    services.assign(
        case.pk, named["supervisor"], unit_id=units["zs_fp"].pk, investigator=named["investigator"]
    )
    services.start_investigation(case.pk, named["investigator"])
    rejected = new_report(township)
    services.reject_report(rejected.pk, named["clerk"], "no_facts", "请补充地址")
    return {"case": case, "report": report, "rejected": rejected}


def rows_of(page: str) -> list[str]:
    body = page[page.index('id="audit"') :]
    return body.split("<tr")[2:]


def test_the_audit_page_reads_as_sentences(login, named, story, units):
    case, report = story["case"], story["report"]
    page = login(named["auditor"]).get("/staff/audit/").content.decode()
    rows = rows_of(page)
    by_action = {row.split('data-action="')[1].split('"')[0]: row for row in rows}

    opened = by_action["case.opened"]
    assert "王丽 受理举报并立案" in opened
    assert f"案件{case.number}" in opened  # the object by its name
    received = timezone.localtime(report.received_at).strftime("%Y-%m-%d %H:%M")
    assert f"中水镇 {received}收到的举报" in opened  # the report, by township and time

    assigned = by_action["case.assigned"]
    assert "刘建国 指定案件承办单位和承办人" in assigned
    assert f"<dt>单位</dt><dd>{units['zs_fp'].name}</dd>" in assigned
    assert "<dt>调查员</dt><dd>张伟</dd>" in assigned

    started = by_action["case.transition"]
    assert "张伟 开始调查" in started
    assert "<dt>步骤</dt><dd>开始调查</dd>" in started
    assert "<dt>原状态</dt><dd>受理</dd>" in started
    assert "<dt>新状态</dt><dd>调查</dd>" in started

    rejected = by_action["report.rejected"]
    assert "王丽 对举报不予受理" in rejected
    assert "无具体举报对象或违法事实" in rejected  # the reason's label, not no_facts

    # Never a Python dict or a dotted code as the text people read.
    for row in rows:
        text = row.split("</td>", 2)[2]  # after the number and the time
        assert "{'" not in text and "case.transition" not in text.split("data-action")[0]
        assert "auth.user" not in text and "casework.case" not in text


def test_each_catalogue_action_reads_as_a_sentence_with_a_name(named, story):
    """Every action of the catalogue, recorded by a named person: a Chinese sentence with the
    person's name and no code."""
    clerk = named["clerk"]
    entries = [
        AuditEntry(
            actor=clerk,
            action=action,
            object_type="casework.case",
            object_id=str(story["case"].pk),
            data={},
            at=timezone.now(),
        )
        for action in Action.values
    ]
    with translation.override("zh-hans"):
        rows = audit_display.describe(entries)
    for row in rows:
        action = row["entry"].action
        assert row["sentence"].startswith("王丽 "), (action, row["sentence"])
        assert "." not in row["sentence"] and "_" not in row["sentence"], action
        assert row["object"] == f"案件{story['case'].number}"


def test_a_person_without_a_full_name_is_named_by_user_name(cast, case):
    entry = AuditEntry.objects.get(action="case.opened")
    with translation.override("zh-hans"):
        (row,) = audit_display.describe([entry])
    assert row["sentence"] == "clerk 受理举报并立案"


def test_the_csv_export_reads_the_same(login, named, story):
    response = login(named["auditor"]).get("/staff/audit/export.csv")
    text = b"".join(response.streaming_content).decode().removeprefix("\ufeff")
    rows = list(csv.reader(io.StringIO(text)))
    header, body = rows[0], rows[1:]
    assert header[:7] == ["序号", "时间", "人员", "事项", "对象", "内容", "操作代码"]
    opened = next(r for r in body if r[6] == "case.opened")
    assert opened[2] == "王丽"
    assert opened[3] == "王丽 受理举报并立案"
    assert opened[4] == f"案件{story['case'].number}"
    assert "举报：中水镇" in opened[5]
    assigned = next(r for r in body if r[6] == "case.assigned")
    assert "调查员：张伟" in assigned[5]
    assert "{" not in assigned[5]
    # The entry as chained stays in the export, so it can be checked against the chain.
    entry = AuditEntry.objects.get(pk=int(opened[0]))
    assert opened[-1] == entry.hash
    assert audit.verify()[0]


def test_the_audit_page_needs_the_same_queries_for_more_entries(login, named, story, township):
    client = login(named["auditor"])
    with CaptureQueriesContext(connection) as few:
        client.get("/staff/audit/")
    for _ in range(5):
        services.open_case(new_report(township).pk, named["clerk"])
    with CaptureQueriesContext(connection) as more:
        assert client.get("/staff/audit/").status_code == 200
    assert len(more) == len(few)
