"""A mail cut mid-send is sent again (e-mail is at-least-once), and the repeat is recognisable:
every delivery's e-mail carries one stable Message-ID, the same on its retry, another for every
other delivery. The inbox stays exactly-once.

The mail server is a real SMTP conversation on a loopback socket (Django's SMTP backend talks
to it): for the first message it reads the whole text after DATA, then drops the connection
without answering, as a server or a network does when it dies at that moment.
"""

import email
import email.policy
import socketserver
import threading
from datetime import timedelta

import pytest

from notifications import channels
from notifications.models import Delivery, Event

from .conftest import new_report, run_outbox

pytestmark = pytest.mark.django_db


class _Conversation(socketserver.StreamRequestHandler):
    timeout = 10

    def reply(self, line: str):
        self.wfile.write(line.encode() + b"\r\n")
        self.wfile.flush()

    def handle(self):
        server = self.server
        self.reply("220 test.invalid ESMTP")
        while True:
            line = self.rfile.readline()
            if not line:
                return
            verb = line.decode(errors="replace").strip().split(" ")[0].upper()
            if verb in ("EHLO", "HELO"):
                self.reply("250 test.invalid")
            elif verb in ("MAIL", "RCPT", "RSET", "NOOP"):
                self.reply("250 OK")
            elif verb == "DATA":
                self.reply("354 go ahead")
                text = b""
                while not text.endswith(b"\r\n.\r\n"):
                    chunk = self.rfile.readline()
                    if not chunk:
                        return
                    text += chunk
                with server.lock:
                    server.received.append(text[: -len(b".\r\n")])
                    cut = server.cuts > 0
                    server.cuts -= cut
                if cut:
                    return  # taken, never confirmed: the connection drops here
                self.reply("250 queued")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("502 not implemented")


@pytest.fixture
def smtp_server(settings):
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Conversation)
    server.daemon_threads = True
    server.received, server.cuts, server.lock = [], 1, threading.Lock()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.server_address[1]
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 5
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def parsed(raw: bytes):
    return email.message_from_bytes(raw, policy=email.policy.default)


def test_a_mail_cut_mid_send_is_sent_again_with_the_same_message_id(
    cast, township, clock, smtp_server
):
    start = clock(2026, 11, 2, 9, 0, 0)
    new_report(township)
    run_outbox()  # the first attempt: the server took the text, then the line dropped
    mail = Delivery.objects.get(channel="email", event__kind="report.received")
    assert (mail.status, mail.attempts) == ("pending", 1)
    assert len(smtp_server.received) == 1

    clock(*(start + timedelta(seconds=61)).timetuple()[:6])  # the retry is due after 60 s
    run_outbox()
    mail.refresh_from_db()
    assert (mail.status, mail.attempts) == ("sent", 2)

    # At-least-once: the recipient has it twice, and the two are recognisably one message.
    first, again = (parsed(raw) for raw in smtp_server.received)
    assert first["Message-ID"] == again["Message-ID"] == channels.message_id(mail)
    assert first["Message-ID"].endswith("@jubao.example.gov.cn>")
    assert first["Subject"] == again["Subject"]
    # The inbox is exactly-once: one notice for the clerk, however often the mail was tried.
    inbox = Delivery.objects.filter(channel="inbox", recipient=cast["clerk"])
    assert inbox.count() == 1

    # Another delivery (another report) has another Message-ID, and it leaks nothing countable.
    new_report(township)
    run_outbox()
    assert len(smtp_server.received) == 3
    other = parsed(smtp_server.received[2])
    assert other["Message-ID"] != first["Message-ID"]
    assert str(mail.pk) not in first["Message-ID"].split("@")[0].split(".")
    assert Event.objects.count() == 2
