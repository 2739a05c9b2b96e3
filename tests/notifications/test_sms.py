"""Text messages: the HTTP gateway backend against a fake gateway on 127.0.0.1, the console and
file backends (numbers masked), and the settings that configure them."""

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from casework import services
from casework.models import AuditEntry
from notifications import sms
from tipline import services as intake
from tipline.models import Category

from ..test_settings_env import assert_fails_naming, start
from .conftest import notices, run_outbox

PHONE = "13912345678"
TEMPLATE = '{"mobile": $to, "content": $text, "template_id": "SMS_0001", "params": {"url": $link}}'


class FakeGateway(ThreadingHTTPServer):
    """Records each request; answers with ``status`` (and a body repeating the number, as some
    gateways do, which must never be stored)."""

    def __init__(self):
        super().__init__(("127.0.0.1", 0), Handler)
        self.requests = []
        self.status = 200

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server_address[1]}/sms/send"


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        length = int(self.headers["Content-Length"])
        body = self.rfile.read(length)
        self.server.requests.append(
            {"path": self.path, "headers": dict(self.headers), "body": json.loads(body)}
        )
        answer = json.dumps({"ok": self.server.status == 200, "to": PHONE}).encode()
        self.send_response(self.server.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):  # keep the test output quiet
        pass


@pytest.fixture
def gateway(settings):
    server = FakeGateway()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.TIPLINE_SMS_BACKEND = "notifications.sms.HttpGatewayBackend"
    settings.TIPLINE_SMS_GATEWAY_URL = server.url
    settings.TIPLINE_SMS_GATEWAY_USER = "tipline"
    settings.TIPLINE_SMS_GATEWAY_PASSWORD = "gateway-secret"
    settings.TIPLINE_SMS_GATEWAY_TOKEN = ""
    settings.TIPLINE_SMS_GATEWAY_TEMPLATE = TEMPLATE
    settings.TIPLINE_SMS_GATEWAY_TIMEOUT = 5
    yield server
    server.shutdown()
    server.server_close()


def opted_in_report(township):
    report, _receipt = intake.create_report(
        intake.ReportInput(
            category=Category.SEX_DETERMINATION,
            township_id=township.id,
            description="某诊所鉴定胎儿性别",
            reporter_phone=PHONE,
            news_by_sms=True,
        )
    )
    return report


@pytest.mark.django_db
def test_reporter_text_goes_through_the_gateway(cast, township, gateway):
    report = opted_in_report(township)
    services.open_case(report.pk, cast["clerk"])

    run_outbox()

    assert len(gateway.requests) == 1
    request = gateway.requests[0]
    assert request["path"] == "/sms/send"
    expected = base64.b64encode(b"tipline:gateway-secret").decode()
    assert request["headers"]["Authorization"] == f"Basic {expected}"
    assert request["headers"]["Content-Type"].startswith("application/json")
    assert request["body"] == {
        "mobile": PHONE,
        "content": "有奖举报平台：您的举报有新消息，请凭回执到 "
        "https://jubao.example.gov.cn/receipt/ 查看。",
        "template_id": "SMS_0001",
        "params": {"url": "https://jubao.example.gov.cn/receipt/"},
    }
    text = notices(channel="sms").get()
    assert (text.status, text.reporter_of, text.recipient) == ("sent", str(report.pk), None)
    # The decryption is audited, naming the report, never the number.
    entry = AuditEntry.objects.get(action="notification.reporter_texted")
    assert (entry.actor, entry.object_id) == (None, str(report.pk))
    assert PHONE not in json.dumps(entry.data)


@pytest.mark.django_db
def test_bearer_token(cast, township, gateway, settings):
    settings.TIPLINE_SMS_GATEWAY_TOKEN = "tok-123"
    services.open_case(opted_in_report(township).pk, cast["clerk"])
    run_outbox()
    assert gateway.requests[0]["headers"]["Authorization"] == "Bearer tok-123"


@pytest.mark.django_db
def test_a_refusing_gateway_leaves_the_text_to_retry_without_the_number(cast, township, gateway):
    gateway.status = 503
    services.open_case(opted_in_report(township).pk, cast["clerk"])

    run_outbox()

    assert len(gateway.requests) == 1  # really attempted
    text = notices(channel="sms").get()
    assert (text.status, text.attempts) == ("pending", 1)
    assert text.last_error == "SmsError: SMS gateway answered HTTP 503"
    assert PHONE not in text.last_error


@pytest.mark.django_db
def test_an_unreachable_gateway(cast, township, gateway, settings):
    settings.TIPLINE_SMS_GATEWAY_URL = "http://127.0.0.1:9/sms"  # nothing listens
    services.open_case(opted_in_report(township).pk, cast["clerk"])
    run_outbox()
    text = notices(channel="sms").get()
    assert text.status == "pending"
    assert text.last_error.startswith("SmsError: SMS gateway unreachable")


def test_console_and_file_backends_mask_the_number(settings, tmp_path, capsys):
    sms.ConsoleBackend().send(PHONE, "有新消息")
    printed = capsys.readouterr().out
    assert printed == "SMS to 139****5678: 有新消息\n"

    settings.TIPLINE_SMS_FILE_PATH = str(tmp_path / "sms")
    sms.FileBackend().send(PHONE, "有新消息")
    (written,) = (tmp_path / "sms").iterdir()
    content = written.read_text()
    assert content.startswith("To: 139****5678\n")
    assert PHONE not in content


def test_gateway_body_is_json_whatever_the_text():
    body = sms.render_body(TEMPLATE, to=PHONE, text='引号"和\\反斜杠', link="https://x/receipt/")
    assert json.loads(body)["content"] == '引号"和\\反斜杠'


# --- settings ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"TIPLINE_SMS_BACKEND": "carrier-pigeon"}, "TIPLINE_SMS_BACKEND"),
        ({"TIPLINE_SMS_BACKEND": "http"}, "TIPLINE_SMS_GATEWAY_URL"),
        (
            {"TIPLINE_SMS_BACKEND": "http", "TIPLINE_SMS_GATEWAY_URL": "ftp://gw"},
            "TIPLINE_SMS_GATEWAY_URL",
        ),
        ({"TIPLINE_SMS_GATEWAY_TEMPLATE": '{"to": $to, "text": $body}'}, "TEMPLATE"),
        ({"TIPLINE_SMS_GATEWAY_TEMPLATE": "to=$to&text=$text"}, "TEMPLATE"),
        ({"TIPLINE_SMS_GATEWAY_TEMPLATE": '{"text": $text}'}, "TEMPLATE"),  # to nobody
        ({"TIPLINE_DIGEST_HOUR": "24"}, "TIPLINE_DIGEST_HOUR"),
        ({"TIPLINE_NOTIFY_MAX_ATTEMPTS": "0"}, "TIPLINE_NOTIFY_MAX_ATTEMPTS"),
        ({"TIPLINE_SITE_URL": "jubao.example.gov.cn"}, "TIPLINE_SITE_URL"),
        ({"EMAIL_PORT": "smtp"}, "EMAIL_PORT"),
    ],
)
def test_bad_notification_settings_stop_start_up(tmp_path, env, variable):
    assert_fails_naming(start(tmp_path, DJANGO_DEBUG="1", **env), variable)


def test_a_gateway_configuration_loads(tmp_path):
    result = start(
        tmp_path,
        DJANGO_DEBUG="1",
        TIPLINE_SMS_BACKEND="http",
        TIPLINE_SMS_GATEWAY_URL="https://sms.example.cn/send",
        TIPLINE_SMS_GATEWAY_TEMPLATE=TEMPLATE,
    )
    assert result.returncode == 0, result.stderr
