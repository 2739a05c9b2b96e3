"""One case, one file (一案一卷): which documents a case needs, its score, and the file pages."""

import pytest
from django.utils import translation
from django.utils.translation import gettext

from casework import casefile, services
from casework.models import DocumentType, State
from tipline.models import Category
from vault import storage

from ..rewards.helpers import pay_out, waive
from .conftest import new_report
from .test_workflow import BASE_DOCS, file_docs

pytestmark = pytest.mark.django_db


def missing_codes(case):
    return {t.code for t in casefile.missing_documents(case)}


def required_codes(case):
    return {row["type"].code for row in casefile.checklist(case) if row["required"]}


def fresh(case):
    return type(case).objects.get(pk=case.pk)


@pytest.fixture
def penalized_case(investigating_case, cast):
    file_docs(investigating_case, cast["investigator"], "penalty_decision")
    return services.penalize(investigating_case.pk, cast["supervisor"], "罚款")


# --- score ----------------------------------------------------------------------------------


def test_new_case_misses_the_base_documents(case):
    assert missing_codes(case) == set(BASE_DOCS)
    assert casefile.score(case) == 0  # 100 − 5 × 20


def test_score_loses_20_per_missing_document(case, cast):
    file_docs(case, cast["investigator"], "registration_form", "acceptance_approval")
    assert len(casefile.missing_documents(case)) == 3
    assert casefile.score(case) == 40
    file_docs(case, cast["investigator"], "interview_record")
    assert casefile.score(case) == 60
    file_docs(case, cast["investigator"], "inspection_record", "evidence")
    assert casefile.missing_documents(case) == []
    assert casefile.score(case) == 100
    # A second copy of a filed document does not raise the score past 100.
    file_docs(case, cast["investigator"], "evidence")
    assert casefile.score(case) == 100


def test_score_never_below_zero(penalized_case):
    case = fresh(penalized_case)
    # Base documents, service receipt and closing report: 7 missing would be −40.
    assert len(casefile.missing_documents(case)) == 7
    assert casefile.score(case) == 0


def test_optional_document_type_is_listed_but_not_missing(case):
    DocumentType.objects.create(code="photos", name="现场照片", order=55, required=False)
    rows = {row["type"].code: row for row in casefile.checklist(case)}
    assert rows["photos"]["required"] is False
    assert rows["photos"]["missing"] is False
    assert "photos" not in missing_codes(case)


# --- conditional requirements -----------------------------------------------------------


def test_birth_permit_only_when_the_case_involves_one(township, cast):
    plain = services.open_case(new_report(township).pk, cast["clerk"])
    permit = services.open_case(new_report(township).pk, cast["clerk"], involves_birth_permit=True)
    assert "birth_permit" not in required_codes(plain)
    assert "birth_permit" not in {row["type"].code for row in casefile.checklist(plain)}
    assert "birth_permit" in missing_codes(permit)
    assert casefile.score(permit) == 0
    file_docs(permit, cast["investigator"], *BASE_DOCS)
    assert missing_codes(permit) == {"birth_permit"}
    assert casefile.score(permit) == 80
    file_docs(permit, cast["investigator"], "birth_permit")
    assert casefile.score(permit) == 100


def test_penalty_documents_required_once_penalized(investigating_case, cast):
    case = investigating_case
    file_docs(case, cast["investigator"], *BASE_DOCS)
    assert missing_codes(case) == set()
    assert {"penalty_decision", "service_receipt"}.isdisjoint(required_codes(case))
    file_docs(case, cast["investigator"], "penalty_decision")
    services.penalize(case.pk, cast["supervisor"], "罚款")
    case = fresh(case)
    assert {"penalty_decision", "service_receipt", "closing_report"} <= required_codes(case)
    assert missing_codes(case) == {"service_receipt", "closing_report"}
    assert casefile.score(case) == 60


def test_reward_documents_required_once_rewarded_and_generated(penalized_case, cast):
    """The approval form (奖励审批表) is generated on approval, the payment voucher (支付凭证)
    on payment; both are required once the case is rewarded, and neither is missing then."""
    case = penalized_case
    for code in ("reward_approval", "payment_voucher"):
        assert not DocumentType.objects.get(code=code).applies_to(fresh(case))
    pay_out(case, cast)
    case = fresh(case)
    assert case.state == State.REWARDED
    assert {"reward_approval", "payment_voucher"} <= required_codes(case)
    assert {"reward_approval", "payment_voucher"}.isdisjoint(missing_codes(case))
    generated = case.documents.filter(generated=True).values_list("doc_type__code", flat=True)
    assert {"reward_approval", "payment_voucher"} <= set(generated)


def test_closing_report_required_once_closed(investigating_case, cast):
    case = investigating_case
    assert "closing_report" not in required_codes(case)
    services.find_unfounded(case.pk, cast["supervisor"], "查无实据")
    case = fresh(case)
    assert "closing_report" in missing_codes(case)
    # An unfounded case needs no penalty documents.
    assert {"penalty_decision", "service_receipt"}.isdisjoint(required_codes(case))


def test_category_restricted_document_type(township, cast):
    DocumentType.objects.create(
        code="drug_sample",
        name="药品抽样记录",
        order=45,
        categories=[Category.ABORTION_DRUG_SALE],
    )
    drugs = services.open_case(
        new_report(township, category=Category.ABORTION_DRUG_SALE).pk, cast["clerk"]
    )
    scan = services.open_case(
        new_report(township, category=Category.SEX_DETERMINATION).pk, cast["clerk"]
    )
    assert "drug_sample" in missing_codes(drugs)
    assert "drug_sample" not in missing_codes(scan)
    assert "drug_sample" not in {row["type"].code for row in casefile.checklist(scan)}
    file_docs(drugs, cast["investigator"], *BASE_DOCS)
    assert casefile.score(drugs) == 80
    file_docs(scan, cast["investigator"], *BASE_DOCS)
    assert casefile.score(scan) == 100


def test_archive_follows_the_checklist(penalized_case, cast):
    """The archive condition and the score read the same checklist."""
    case = penalized_case
    file_docs(case, cast["investigator"], *BASE_DOCS, "service_receipt")
    assert missing_codes(fresh(case)) == {"closing_report"}
    with pytest.raises(services.ServiceError):
        services.archive(case.pk, cast["supervisor"])
    file_docs(case, cast["investigator"], "closing_report")
    assert casefile.score(fresh(case)) == 100
    waive(case, cast)  # the reward proposed at 查处 is settled first
    assert services.archive(case.pk, cast["supervisor"]).state == State.ARCHIVED


# --- generated registration form --------------------------------------------------------


def test_registration_form_has_the_report_but_not_the_reporter(township, cast):
    report = new_report(
        township,
        description="镇东头诊所夜间用B超鉴定胎儿性别，收费五百元。",
        subject_name="东头诊所",
        reporter_name="王秀英",
        reporter_phone="13812345678",
        reporter_id_number="11010519491231002X",
    )
    case = services.open_case(report.pk, cast["clerk"])
    repeat = new_report(township, description="第二位举报人：同一诊所仍在鉴定。")
    services.link_report(repeat.pk, case.pk, cast["clerk"])
    doc = services.generate_registration_form(case.pk, cast["investigator"])
    assert doc.generated and doc.doc_type.code == "registration_form"
    html = storage.read(doc).decode()
    assert "举报登记表" in html
    assert case.number in html
    assert "镇东头诊所夜间用B超鉴定胎儿性别，收费五百元。" in html
    assert "第二位举报人：同一诊所仍在鉴定。" in html
    assert "东头诊所" in html
    for secret in ("王秀英", "13812345678", "11010519491231002X", "1010519491231002"):
        assert secret not in html
    assert "registration_form" not in missing_codes(case)


def test_registration_form_needs_investigate_permission(case, cast):
    with pytest.raises(services.NotAllowed):
        services.generate_registration_form(case.pk, cast["clerk"])
    assert not case.documents.exists()


# --- pages ----------------------------------------------------------------------------------


def test_printable_index_lists_the_documents(login, cast, case):
    file_docs(case, cast["investigator"], "registration_form", "evidence", "evidence")
    client = login(cast["supervisor"])
    response = client.get(f"/staff/cases/{case.pk}/index/")
    assert response.status_code == 200
    page = response.content.decode()
    names = [str(DocumentType.objects.get(code=code).name) for code in BASE_DOCS]
    positions = [page.index(name) for name in names]
    assert positions == sorted(positions)  # in checklist order
    assert case.number in page
    with translation.override("zh-hans"):
        missing_word = gettext("missing")
    assert page.count(missing_word) == 3
    assert [row["type"].code for row in response.context["rows"]] == list(BASE_DOCS)
    filed = {row["type"].code: len(row["documents"]) for row in response.context["rows"]}
    assert filed == {
        "registration_form": 1,
        "acceptance_approval": 0,
        "interview_record": 0,
        "inspection_record": 0,
        "evidence": 2,
    }
    assert response.context["score"] == 40
    assert str(DocumentType.objects.get(code="penalty_decision").name) not in page


def test_file_scores_lists_incomplete_files_first(login, cast, township):
    complete = services.open_case(new_report(township).pk, cast["clerk"])
    file_docs(complete, cast["investigator"], *BASE_DOCS)
    partial = services.open_case(new_report(township).pk, cast["clerk"])
    file_docs(partial, cast["investigator"], "registration_form", "evidence")
    empty = services.open_case(new_report(township).pk, cast["clerk"])
    client = login(cast["supervisor"])
    response = client.get("/staff/cases/files/")
    assert response.status_code == 200
    page = response.content.decode()
    table = page[page.index('id="file-scores"') :]
    order = sorted((table.index(c.number), c.number) for c in (complete, partial, empty))
    assert [number for _pos, number in order] == [empty.number, partial.number, complete.number]
    scores = [row["score"] for row in response.context["rows"]]
    assert scores == [0, 40, 100]
    missing = {
        row["case"].number: {t.code for t in row["missing"]} for row in response.context["rows"]
    }
    assert missing[partial.number] == {
        "acceptance_approval",
        "interview_record",
        "inspection_record",
    }
    assert missing[complete.number] == set()
