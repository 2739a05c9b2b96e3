"""A reporter asks for a text when there is news: on the public form and in the API. It needs
the mobile number, and a refused submission stores nothing."""

import pytest

from notifications.models import Event
from tipline.models import Report, ReporterIdentity

from ..tipline.helpers import form_data

pytestmark = pytest.mark.django_db

PHONE = "139 1234 5678"


def test_the_form_offers_it_under_about_you(client):
    html = client.get("/report/").content.decode()
    assert 'type="checkbox" name="news_by_sms"' in html
    assert "举报有新消息时给我发短信" in html
    assert "短信只告诉您有新消息，不会写明内容" in html
    assert html.index("news_by_sms") > html.index('name="reporter_phone"')


def test_form_with_number_and_opt_in(client, township):
    response = client.post("/report/", form_data(township, reporter_phone=PHONE, news_by_sms="on"))
    assert response.status_code == 200
    identity = ReporterIdentity.objects.get()
    assert identity.news_by_sms is True
    assert identity.reveal()["phone"] == "13912345678"


def test_form_without_opt_in(client, township):
    client.post("/report/", form_data(township, reporter_phone=PHONE))
    assert ReporterIdentity.objects.get().news_by_sms is False


def test_form_opt_in_without_a_number_is_refused_and_stores_nothing(client, township):
    response = client.post("/report/", form_data(township, news_by_sms="on"))
    assert response.status_code == 400
    assert "接收短信请在上方填写手机号码" in response.content.decode()
    assert not Report.objects.exists() and not Event.objects.exists()


def post_json(client, data):
    return client.post("/api/v1/reports", data, content_type="application/json")


def test_api_opt_in_is_a_json_boolean(client, township):
    response = post_json(client, form_data(township, reporter_phone=PHONE, news_by_sms=True))
    assert response.status_code == 201
    assert ReporterIdentity.objects.get().news_by_sms is True


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"news_by_sms": "true", "reporter_phone": PHONE}, "必须为 true 或 false"),
        ({"news_by_sms": 1, "reporter_phone": PHONE}, "必须为 true 或 false"),
        ({"news_by_sms": True}, "接收短信请在上方填写手机号码"),
    ],
)
def test_api_refuses_a_bad_opt_in_and_stores_nothing(client, township, extra, message):
    response = post_json(client, form_data(township, **extra))
    assert response.status_code == 400
    assert message in response.json()["errors"]["news_by_sms"][0]
    assert not Report.objects.exists() and not Event.objects.exists()


def test_api_schema_says_boolean(client):
    schema = client.get("/api/v1/openapi.json").json()
    prop = schema["components"]["schemas"]["ReportIn"]["properties"]["news_by_sms"]
    assert prop["type"] == "boolean"
    assert "never what" in prop["description"]
