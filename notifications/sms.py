"""Text-message backends, chosen by TIPLINE_SMS_BACKEND (console, file, http, or a dotted path).

A backend has one method, ``send(phone, text, link)``, which raises on failure (``link`` is
also in the text; template-based gateways may want it apart). The console and file
backends (development) show the number masked: a reporter's number must not land in a log or a
file in clear. The HTTP gateway backend posts a JSON body made from TIPLINE_SMS_GATEWAY_TEMPLATE
to TIPLINE_SMS_GATEWAY_URL; an error it raises names the status, never the number or the
gateway's answer (which may repeat the number).
"""

import base64
import json
import string
import sys
import threading
import urllib.error
import urllib.request
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.utils.module_loading import import_string


class SmsError(Exception):
    """The message was not accepted; the text never includes the number."""


def masked(phone: str) -> str:
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 8 else "****"


def get_backend():
    return import_string(settings.TIPLINE_SMS_BACKEND)()


def send(phone: str, text: str, link: str = "") -> None:
    get_backend().send(phone, text, link)


class ConsoleBackend:
    def send(self, phone: str, text: str, link: str = "") -> None:
        sys.stdout.write(f"SMS to {masked(phone)}: {text}\n")
        sys.stdout.flush()


class FileBackend:
    """One file per message under TIPLINE_SMS_FILE_PATH, the number masked."""

    _lock = threading.Lock()
    _count = 0

    def send(self, phone: str, text: str, link: str = "") -> None:
        folder = Path(settings.TIPLINE_SMS_FILE_PATH)
        folder.mkdir(parents=True, exist_ok=True)
        with self._lock:
            FileBackend._count += 1
            name = f"{datetime.now().strftime('%Y%m%d-%H%M%S')}-{FileBackend._count}.txt"  # noqa: DTZ005
        (folder / name).write_text(f"To: {masked(phone)}\n\n{text}\n", encoding="utf-8")


class LocmemBackend:
    """For tests: messages are kept in ``notifications.sms.outbox`` as (phone, text)."""

    def send(self, phone: str, text: str, link: str = "") -> None:
        outbox.append((phone, text))


outbox: list[tuple[str, str]] = []


def render_body(template: str, *, to: str, text: str, link: str) -> bytes:
    """The gateway's request body: the template with $to, $text and $link as JSON strings."""
    pairs = (("to", to), ("text", text), ("link", link))
    values = {name: json.dumps(value, ensure_ascii=False) for name, value in pairs}
    return string.Template(template).substitute(values).encode("utf-8")


class HttpGatewayBackend:
    def __init__(self):
        self.url = settings.TIPLINE_SMS_GATEWAY_URL
        self.template = settings.TIPLINE_SMS_GATEWAY_TEMPLATE
        self.timeout = settings.TIPLINE_SMS_GATEWAY_TIMEOUT
        self.headers = {"Content-Type": "application/json; charset=utf-8"}
        token = settings.TIPLINE_SMS_GATEWAY_TOKEN
        user, password = settings.TIPLINE_SMS_GATEWAY_USER, settings.TIPLINE_SMS_GATEWAY_PASSWORD
        if token:
            self.headers["Authorization"] = f"Bearer {token}"
        elif user:
            pair = base64.b64encode(f"{user}:{password}".encode()).decode()
            self.headers["Authorization"] = f"Basic {pair}"

    def send(self, phone: str, text: str, link: str = "") -> None:
        body = render_body(self.template, to=phone, text=text, link=link)
        request = urllib.request.Request(  # noqa: S310 — the URL is the operator's setting
            self.url, data=body, headers=self.headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                status = response.status
        except urllib.error.HTTPError as exc:
            raise SmsError(f"SMS gateway answered HTTP {exc.code}") from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise SmsError(f"SMS gateway unreachable ({type(reason).__name__})") from None
        if not 200 <= status < 300:
            raise SmsError(f"SMS gateway answered HTTP {status}")
