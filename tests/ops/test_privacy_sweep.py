"""The privacy sweep after a whole journey, on PostgreSQL with a real Redis cache.

A reporter files an identified report (name, phone, ID number, news by text message) through the
web form from a known client address, with a photo carrying GPS coordinates and a camera serial;
staff accept and investigate it, a custodian approves an identity request and the investigator
sees the identity; the case is penalized, the reward approved, the reporter claims it by bank
transfer (payee name and account) through the claim form, finance sees the payee and pays; the
reporter looks the report up and adds a follow-up, and guesses a wrong receipt once. Every notice
is delivered (e-mail to staff, a text to the reporter, into a file).

Then the sweep reads what the system keeps: a plain ``pg_dump`` of the test database, every file
under the attachment directory (as stored, and decrypted), every log record (a handler on every
logger at DEBUG, the records formatted by the production JSON formatter, and what the app's
console handler writes to stderr), every SQL statement, every e-mail, every text-message file
and every key and value in the Redis cache; and looks for each planted value: name, phone, ID
number, account number, receipt, client address, GPS coordinates and camera serial.

Before the journey one marker is planted on purpose in each kind of place (a table row, a log
record, a file, an e-mail, a text, a Redis key): the sweep must report exactly those, each where
it was put, so a scanner that reads nothing cannot pass.
"""

import io
import logging
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest
import redis
from django.core import mail
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from casework import identity, services
from casework.models import DocumentType
from casework.rewards import services as rewards
from casework.rewards.models import Reward
from notifications import delivery, sms
from ops.logs import JsonFormatter, RequestIdFilter
from org.models import County
from tipline import receipts
from tipline.attachments import sanitize
from tipline.models import Attachment, Report, ReporterIdentity
from vault import storage

from ..casework.test_workflow import pdf_bytes
from ..pg import database_url
from ..rewards.helpers import step_up
from ..tipline.helpers import CAMERA_SERIAL, GPS_MARKER, form_data, jpeg_with_gps, upload
from ..tipline.test_privacy_at_rest import (
    CLIENT,
    ID_NUMBER,
    NAME,
    PHONE,
    PHONE_TYPED,
    as_bytes,
    log_records,
    needles,
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="the sweep reads a pg_dump of the database: PostgreSQL only",
    ),
    pytest.mark.skipif(
        not (shutil.which("pg_dump") and shutil.which("redis-server")),
        reason="needs pg_dump and redis-server on the PATH",
    ),
]

ACCOUNT = "6228480402564890018"  # 19 digits, valid check digit
BANK = "农业银行中水支行"
# The photo's GPS position (31°14'9.5"N 121°28'3.25"E) in the decimal forms a tool would print.
GPS_TEXT = ("31.2359", "121.4675", "31°14'", "121°28'")

# One marker per kind of place, planted before the journey: the sweep must find each there.
PLANTED = {
    "table": "PLANTED-TABLE-甲乙丙",
    "log": "PLANTED-LOG-丁戊己",
    "file": "PLANTED-FILE-庚辛壬",
    "mail": "PLANTED-MAIL-癸子丑",
    "sms": "PLANTED-SMS-寅卯辰",
    "redis": "PLANTED-REDIS-巳午未",
}


def secrets_of(receipt_list) -> dict[str, bytes]:
    """Every planted secret (the intake test's needles plus account and photo metadata)."""
    found = needles(receipt_list)
    texts = {
        "account": ACCOUNT,
        "account grouped": " ".join(ACCOUNT[i : i + 4] for i in range(0, len(ACCOUNT), 4)),
        "gps datum": GPS_MARKER,
        "camera serial": CAMERA_SERIAL,
        **{f"gps {i}": text for i, text in enumerate(GPS_TEXT)},
        **{f"marker {place}": marker for place, marker in PLANTED.items()},
    }
    for label, text in texts.items():
        found[f"{label} (utf-8)"] = text.encode("utf-8")
        found[f"{label} (utf-16-le)"] = text.encode("utf-16-le")
    return found


def sweep(places: dict[str, bytes], receipt_list) -> list[tuple[str, str]]:
    """(what, where) for every secret found in every place."""
    wanted = secrets_of(receipt_list)
    return [
        (label, place)
        for place, data in places.items()
        for label, needle in wanted.items()
        if needle in data
    ]


# --- the places -----------------------------------------------------------------------------


def pg_dump() -> bytes:
    """The whole test database as plain SQL, read by pg_dump from another process."""
    out = subprocess.run(
        ["pg_dump", "--format=plain", "--no-owner", "--dbname", database_url()],
        capture_output=True,
        check=True,
        timeout=120,
    )
    return out.stdout


def decrypted_attachments() -> dict[str, bytes]:
    """What a staff member downloading the evidence gets."""
    return {f"evidence {a.pk}": storage.read(a) for a in Attachment.objects.all()}


def folder(path: Path, label: str) -> dict[str, bytes]:
    if not path.exists():
        return {}
    return {f"{label} {p.name}": p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


def redis_dump(url: str) -> dict[str, bytes]:
    """Every key of the Redis database and its value, whatever its type."""
    client = redis.Redis.from_url(url)
    out = {}
    for key in client.scan_iter(count=1000):
        kind = client.type(key).decode()
        if kind == "string":
            value = client.get(key)
        elif kind == "hash":
            value = repr(client.hgetall(key)).encode()
        elif kind == "list":
            value = repr(client.lrange(key, 0, -1)).encode()
        elif kind == "set":
            value = repr(client.smembers(key)).encode()
        elif kind == "zset":
            value = repr(client.zrange(key, 0, -1, withscores=True)).encode()
        else:
            value = client.dump(key) or b""
        out[f"redis {key!r}"] = key + b"\x00" + (value or b"")
    client.close()
    return out


# --- fixtures -------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def private_redis(settings, tmp_path):
    """A Redis of this test's own (loopback, no persistence) as the cache; stopped afterwards."""
    port = _free_port()
    proc = subprocess.Popen(
        [
            "redis-server",
            "--port", str(port),
            "--bind", "127.0.0.1",
            "--save", "",
            "--appendonly", "no",
            "--dir", str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    for _ in range(100):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    else:
        proc.kill()
        pytest.fail("the private redis-server did not start")
    client.close()
    before = settings.CACHES
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}
    }
    yield url
    settings.CACHES = before  # before the server goes: later fixtures clear the cache
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture
def formatted_logs():
    """Every record, formatted as production writes it (JSON, with the request id filter)."""
    lines: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record):
            lines.append(self.format(record))

    handler = Keep(level=logging.DEBUG)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    yield lines
    root.removeHandler(handler)


@pytest.fixture
def console_output():
    """What the app's console handlers (the process's stderr, configured in LOGGING) write."""
    buffer = io.StringIO()
    handlers = [
        h
        for logger in (logging.getLogger(), logging.getLogger("django.server"))
        for h in logger.handlers
        if type(h) is logging.StreamHandler
    ]
    assert handlers, "LOGGING has no console handler to read"
    streams = [_swap_stream(h, buffer) for h in handlers]
    yield buffer
    for handler, stream in zip(handlers, streams, strict=True):
        _swap_stream(handler, stream)


def _swap_stream(handler, stream):
    """setStream() flushes the old stream first, and an earlier test in this process may have
    left the handler on a capture that is closed now: swap without flushing."""
    with handler.lock:
        old, handler.stream = handler.stream, stream
    return old


@pytest.mark.django_db(transaction=True)
def test_nothing_planted_is_kept_anywhere_after_a_whole_journey(
    client,
    settings,
    tmp_path,
    cast,
    units,
    township,
    caplog,
    console_output,
    formatted_logs,
    private_redis,
    eager_tasks,
):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.TIPLINE_RECEIPT_ARGON2 = {"memory_cost": 8, "iterations": 1, "lanes": 1}
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.TIPLINE_SMS_BACKEND = "notifications.sms.FileBackend"
    settings.TIPLINE_SMS_FILE_PATH = str(tmp_path / "sms")
    settings.TIPLINE_SITE_URL = "https://jubao.example.gov.cn"
    attachments = Path(settings.TIPLINE_ATTACHMENT_DIR)
    # The reporter's photo is made before logs are captured: Pillow logs each tag it writes at
    # DEBUG, and the reporter's phone, not this system, writes those tags.
    photo = jpeg_with_gps()
    for name in ("", "django", "django.request", "django.db.backends", "celery", "PIL"):
        caplog.set_level(logging.DEBUG, logger=name)

    # 0. One marker planted on purpose in each kind of place.
    County.objects.create(code="planted", name=PLANTED["table"])
    logging.getLogger("tipline.planted").warning("planted %s", PLANTED["log"])
    attachments.mkdir(parents=True, exist_ok=True)
    (attachments / "planted.bin").write_bytes(PLANTED["file"].encode("utf-16-le"))
    mail.send_mail("planted", PLANTED["mail"], "a@example.invalid", ["b@example.invalid"])
    sms.FileBackend().send("13800000000", PLANTED["sms"])
    cache.set("planted", PLANTED["redis"])
    planted_mails = len(mail.outbox)

    with CaptureQueriesContext(connection) as queries:
        # 1. The reporter: the web form, a photo with GPS and a camera serial, news by text.
        response = client.post(
            "/report/",
            {
                **form_data(township),
                "reporter_name": NAME,
                "reporter_phone": PHONE_TYPED,
                "reporter_id_number": ID_NUMBER,
                "news_by_sms": "on",
                "evidence": [upload(photo, name=f"{NAME}.jpg")],
            },
            **CLIENT,
        )
        assert response.status_code == 200
        receipt = response.context["receipt"]
        report = Report.objects.get()

        # 2. Staff: accept, investigate, see the identity (approved by a custodian), decide.
        case = services.open_case(report.pk, cast["clerk"])
        services.assign(
            case.pk,
            cast["supervisor"],
            unit_id=units["zs_fp"].pk,
            investigator=cast["investigator"],
        )
        services.start_investigation(case.pk, cast["investigator"])
        request = identity.request_access(report, cast["investigator"], "需要当面核实举报细节")
        identity.decide(request.pk, cast["custodian"], approve=True)
        seen = identity.reveal(request.pk, cast["investigator"])
        assert seen == {"name": NAME, "phone": PHONE, "id_number": ID_NUMBER}
        doc_type = DocumentType.objects.get(code="penalty_decision")
        clean = sanitize(pdf_bytes(), max_bytes=1_000_000)
        services.add_document(case.pk, cast["investigator"], doc_type, clean)
        services.penalize(case.pk, cast["supervisor"], "罚款三万元")
        reward = Reward.objects.get(case=case)
        step_up(cast["leader"], reward)
        rewards.approve(reward.pk, cast["leader"])

        # 3. The reporter looks it up (and mistypes once), adds a follow-up, claims by bank.
        grouped = receipts.grouped(receipt)
        assert client.post("/receipt/", {"receipt": grouped}, **CLIENT).status_code == 200
        assert client.post("/receipt/", {"receipt": "0" * 16}, **CLIENT).status_code == 404
        followup = {"receipt": grouped, "body": "补充：周三下午营业。"}
        assert client.post("/receipt/add/", followup, **CLIENT).status_code == 200
        response = client.post(
            "/receipt/claim/",
            {
                "receipt": grouped,
                "method": "bank",
                "payee_name": NAME,
                "bank_name": BANK,
                "account_number": " ".join(ACCOUNT[i : i + 4] for i in range(0, 19, 4)),
            },
            **CLIENT,
        )
        assert response.status_code == 200, response.content.decode()[:2000]

        # 4. Finance sees the payee and pays; the case is told; every notice goes out.
        reward.refresh_from_db()
        assert reward.state == "claimed"
        step_up(cast["finance"], reward)
        payee = rewards.payee_details(reward.pk, cast["finance"])
        assert payee["account_number"] == ACCOUNT and payee["payee_name"] == NAME
        rewards.pay(
            reward.pk, cast["finance"], voucher_number="PZ-2026-077", paid_on=timezone.localdate()
        )
        services.give_feedback(case.pk, cast["supervisor"], "已依法查处，奖励已发放。")
        delivery.sweep()

    # What the sweep reads exists and is not trivial.
    assert ReporterIdentity.objects.get(report=report).reveal()["name"] == NAME
    assert Attachment.objects.count() == 1
    journey_mails = mail.outbox[planted_mails:]
    assert journey_mails, "no e-mail was sent: the scan of e-mail would prove nothing"
    texts = folder(Path(settings.TIPLINE_SMS_FILE_PATH), "sms")
    assert len(texts) >= 2, "the reporter asked for news by text: texts were sent"
    dump = pg_dump()
    assert len(dump) > 100_000 and b"COPY public.tipline_reporteridentity" in dump
    stderr = console_output.getvalue()
    assert "report received" in stderr and len(formatted_logs) > 50
    assert any(r.name == "django.db.backends" for r in caplog.records)
    stored = folder(attachments, "stored")
    evidence = decrypted_attachments()
    assert len(stored) >= 4  # the planted file, the photo, the case documents
    assert all(data.startswith(b"\xff\xd8") for data in evidence.values())  # a real JPEG
    kept = redis_dump(private_redis)
    assert len(kept) >= 2  # the planted key and the rate-limit counters of the journey

    places = {
        "pg_dump": dump,
        **stored,
        **evidence,
        **log_records(caplog.records),
        "captured log text": caplog.text.encode(),
        "formatted logs": "\n".join(formatted_logs).encode(),
        "stderr": stderr.encode(),
        **{f"sql {i}": as_bytes(q["sql"]) for i, q in enumerate(queries.captured_queries)},
        **{f"mail {i}": m.message().as_bytes() for i, m in enumerate(mail.outbox)},
        **texts,
        **kept,
    }
    found = sweep(places, [receipt])
    secrets = [(what, where) for what, where in found if not what.startswith("marker ")]
    assert secrets == [], "planted secrets kept: " + ", ".join(f"{w} in {p}" for w, p in secrets)

    # The markers were found, each where it was planted (and the log one in every log view).
    markers = {(what.split(" (")[0], where.split(" ")[0]) for what, where in found}
    markers -= {(what, where) for what, where in markers if not what.startswith("marker ")}
    assert ("marker table", "pg_dump") in markers
    assert ("marker file", "stored") in markers
    assert ("marker mail", "mail") in markers
    assert ("marker sms", "sms") in markers
    assert ("marker redis", "redis") in markers
    for log_place in ("log", "captured", "formatted", "stderr"):
        assert ("marker log", log_place) in markers, markers
