"""Free text cannot make a staff page show something other than what was stored: invisible and
direction-changing characters are removed at intake, and shown as visible codes if they are in
older data; dates before 1900 or in the future are refused."""

import pytest

from tipline.models import Report, ReportMessage
from tipline.text import clean_text, shown_safely

from .helpers import form_data

pytestmark = pytest.mark.django_db

RLO, ZWSP, LRI, PDI, TAG_A = "\u202e", "\u200b", "\u2066", "\u2069", "\U000e0041"


def submit(client, township, **fields):
    return client.post("/report/", form_data(township, **fields))


def test_clean_text():
    assert clean_text(f"gpj{RLO}.exe", multiline=False) == "gpj.exe"
    assert clean_text(f"a{ZWSP}b{TAG_A}c\x00d\x1be", multiline=False) == "abcde"
    assert clean_text("line one\r\nline\ttwo", multiline=True) == "line one\r\nline\ttwo"
    assert clean_text("line one\r\nline\ttwo", multiline=False) == "line one line two"
    assert clean_text("普通的中文，English 与 emoji 👍🏽", multiline=False) == (
        "普通的中文，English 与 emoji 👍🏽"
    )


def test_report_text_is_stored_without_invisible_characters(client, township):
    response = submit(
        client,
        township,
        description=f"诊所{RLO}收费500元{ZWSP}，晚上营业。\n第二行{LRI}内容{PDI}",
        subject_name=f"某某{RLO}诊所",
        subject_address=f"东街\n12号{TAG_A}",
    )
    assert response.status_code == 200
    report = Report.objects.get()
    assert report.description == "诊所收费500元，晚上营业。\n第二行内容"
    assert report.subject_name == "某某诊所"
    assert report.subject_address == "东街 12号"


def test_text_that_is_long_only_through_invisible_characters_is_refused(client, township):
    response = submit(client, township, description="太短" + ZWSP * 20)
    assert response.status_code == 400
    assert "description" in response.context["form"].errors
    assert not Report.objects.exists()


@pytest.mark.parametrize("day", ["1899-12-31", "1066-10-14", "0001-01-01"])
def test_dates_before_1900_are_refused(client, township, day):
    response = submit(client, township, occurred_on=day)
    assert response.status_code == 400
    (error,) = response.context["form"].errors["occurred_on"]
    assert error in response.content.decode()
    assert not Report.objects.exists()


def test_the_first_day_of_1900_is_accepted(client, township):
    assert submit(client, township, occurred_on="1900-01-01").status_code == 200


def test_followup_text_is_cleaned_too(client, township):
    response = submit(client, township)
    receipt = response.context["receipt"]
    response = client.post("/receipt/add/", {"receipt": receipt, "body": f"补充{RLO}情况{ZWSP}"})
    assert response.status_code == 200
    assert ReportMessage.objects.get().body == "补充情况"
    response = client.post("/receipt/add/", {"receipt": receipt, "body": ZWSP * 5})
    assert response.status_code == 400
    assert ReportMessage.objects.count() == 1


def test_shown_safely_makes_every_hidden_character_visible():
    html = shown_safely(f"<b>{RLO}exe.gpj{TAG_A}</b>")
    assert html == "&lt;b&gt;⟦U+202E⟧exe.gpj⟦U+E0041⟧&lt;/b&gt;"
