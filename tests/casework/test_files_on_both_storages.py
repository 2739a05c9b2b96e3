"""A case's files on the local disk and in S3 (SeaweedFS): uploaded through the page, listed in
the case file index, downloaded byte for byte by staff; generated documents likewise."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from casework import services
from casework.models import CaseDocument, DocumentType
from tipline.models import Attachment
from vault import storage

from ..conftest import s3_storage
from ..tipline.helpers import jpeg_with_gps
from .test_workflow import pdf_bytes


def test_a_document_uploaded_listed_and_downloaded(investigating_case, cast, login, file_storage):
    case = investigating_case
    client = login(cast["investigator"])
    penalty = DocumentType.objects.get(code="penalty_decision")
    original = pdf_bytes()
    response = client.post(
        f"/staff/cases/{case.pk}/documents/",
        {
            "doc_type": penalty.pk,
            "title": "处罚决定书",
            "file": SimpleUploadedFile("decision.pdf", original, "application/pdf"),
        },
    )
    assert response.status_code == 302
    doc = CaseDocument.objects.get(case=case, doc_type=penalty)
    stored = file_storage.stored()
    assert list(stored) == [f"{doc.pk}.bin"]  # the ciphertext, under the row's id
    assert b"%PDF" not in stored[f"{doc.pk}.bin"]

    index = client.get(f"/staff/cases/{case.pk}/index/")
    assert index.status_code == 200 and "处罚决定书" in index.content.decode()

    download = client.get(f"/staff/cases/{case.pk}/documents/{doc.pk}/")
    assert download.status_code == 200
    assert download.content == storage.read(doc)
    assert download.content.startswith(b"%PDF") and len(download.content) == doc.size


def test_a_generated_document_is_stored_and_opens(investigating_case, cast, file_storage):
    doc = services.generate_registration_form(investigating_case.pk, cast["investigator"])
    assert f"{doc.pk}.bin" in file_storage.stored()
    assert "举报登记表" in storage.read(doc).decode()


@pytest.mark.s3
def test_a_download_while_the_bucket_is_unreachable_is_a_503_in_chinese(
    cast, login, settings, seaweed, make_report
):
    seaweed.empty(seaweed.test_bucket)
    settings.STORAGES = {**settings.STORAGES, "vault": s3_storage(seaweed, seaweed.test_bucket)}
    report, _ = make_report(files=[jpeg_with_gps()])
    attachment = Attachment.objects.get(report=report)
    url = f"/staff/reports/{report.pk}/attachments/{attachment.pk}/"
    client = login(cast["supervisor"])
    assert client.get(url).status_code == 200

    away = s3_storage(seaweed, seaweed.test_bucket)
    away["OPTIONS"]["endpoint_url"] = "http://127.0.0.1:9"  # nothing listens there
    settings.STORAGES = {**settings.STORAGES, "vault": away}
    response = client.get(url)
    assert response.status_code == 503 and response["Retry-After"] == "30"
    assert "证据文件的存储暂时无法连接" in response.content.decode()
