"""Staff pages show stored free text as it is: invisible and direction-changing characters in
older rows (stored before intake removed them) appear as visible codes, never take effect."""

import pytest

from tipline import services

pytestmark = pytest.mark.django_db

RLO, ZWSP = "\u202e", "\u200b"


def test_staff_page_shows_older_stored_text_as_it_is(township, cast, login):
    # Stored before intake cleaned text (straight through the service, as old rows were).
    report, _receipt = services.create_report(
        services.ReportInput(
            category="sex_determination",
            township_id=township.id,
            description=f"付款后{RLO}gpj.exe{ZWSP}文件",
            subject_name=f"某某{RLO}诊所",
        )
    )
    client = login(cast["clerk"])
    html = client.get(f"/staff/reports/{report.pk}/").content.decode()
    assert RLO not in html and ZWSP not in html
    assert "付款后⟦U+202E⟧gpj.exe⟦U+200B⟧文件" in html
    assert "某某⟦U+202E⟧诊所" in html
