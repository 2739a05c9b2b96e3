"""A reporter's identity, receipt and client address must not be anywhere at rest.

Distinctive values go in through the real web form (with a photo) and the real API; then every
table of the database, every file in the attachment directory, every log record (at DEBUG, for
all loggers, including the request objects attached to records), every SQL statement sent and
the cache are searched for them, as UTF-8, UTF-16-LE and in the grouped forms shown to people.
Dumping the tables through the connection works the same on SQLite and PostgreSQL.
"""

import io
import logging
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.sessions.models import Session
from django.core import mail
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from PIL import Image

from org import roles
from org.models import StaffProfile, Unit
from tipline import receipts
from tipline.attachments import sanitize
from tipline.models import Attachment, Report, ReporterIdentity, ReportMessage

from .helpers import CAMERA_SERIAL, GPS_MARKER, form_data, id_number, jpeg_with_gps, upload

NAME = "张秘密人"
PHONE = "13912345678"
PHONE_TYPED = "+86 139-1234-5678"
ID_NUMBER = id_number("51010719870923457")
IP = "203.0.113.77"
FORWARDED_IP = "198.51.100.201"
USER_AGENT = "PlantedAgent/9.9"
PLACEHOLDER = "0.0.0.0"  # noqa: S104 — what the middleware puts in place of the address
CLIENT = {
    "REMOTE_ADDR": IP,
    "HTTP_USER_AGENT": USER_AGENT,
    "HTTP_X_FORWARDED_FOR": FORWARDED_IP,
    "HTTP_X_REAL_IP": FORWARDED_IP,
}


def as_bytes(value) -> bytes:
    if value is None:
        return b""
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    return str(value).encode("utf-8", "backslashreplace")


def dump_database() -> dict[str, bytes]:
    """Every cell of every table, as bytes, keyed by 'table.column'."""
    cells: dict[str, list[bytes]] = {}
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            columns = [c[0] for c in cursor.description]
            for row in cursor.fetchall():
                for column, value in zip(columns, row, strict=True):
                    cells.setdefault(f"{table}.{column}", []).append(as_bytes(value))
    return {place: b"\x00".join(values) for place, values in cells.items()}


def sqlite_files() -> dict[str, bytes]:
    """The database file itself, when the test database lives in one (with its journal)."""
    db = connection.settings_dict
    name = str(db.get("TEST", {}).get("NAME") or db["NAME"])
    if connection.vendor != "sqlite" or "memory" in name or not Path(name).exists():
        return {}
    paths = [Path(name), Path(name + "-wal"), Path(name + "-journal")]
    return {f"file {p}": p.read_bytes() for p in paths if p.exists()}


def attachment_dir() -> dict[str, bytes]:
    root = Path(django_settings.TIPLINE_ATTACHMENT_DIR)
    if not root.exists():
        return {}
    return {f"file {p}": p.read_bytes() for p in root.rglob("*") if p.is_file()}


def log_records(records) -> dict[str, bytes]:
    out = {}
    for i, record in enumerate(records):
        parts = [record.getMessage(), repr(record.args), repr(vars(record))]
        if record.exc_info:
            parts.append(logging.Formatter().formatException(record.exc_info))
        request = getattr(record, "request", None)
        if request is not None:  # what an error reporter would serialise
            parts += [repr(request.META), request.get_full_path()]
        out[f"log {i} {record.name}"] = as_bytes("\n".join(parts))
    return out


def cache_contents() -> dict[str, bytes]:
    store = getattr(cache, "_cache", None)
    if not isinstance(store, dict):
        return {}
    return {"cache": as_bytes(repr(list(store.items())))}


def needles(receipt_list) -> dict[str, bytes]:
    found = {}
    texts = {
        "name": NAME,
        "phone": PHONE,
        "phone typed": PHONE_TYPED,
        "phone grouped": "139 1234 5678",
        "id number": ID_NUMBER,
        "id number lower": ID_NUMBER.lower(),
        "ip": IP,
        "forwarded ip": FORWARDED_IP,
        "user agent": USER_AGENT,
    }
    for i, receipt in enumerate(receipt_list):
        texts[f"receipt {i}"] = receipt
        texts[f"receipt {i} grouped"] = receipts.grouped(receipt)
    for label, text in texts.items():
        found[f"{label} (utf-8)"] = text.encode("utf-8")
        found[f"{label} (utf-16-le)"] = text.encode("utf-16-le")
    return found


def search(haystacks: dict[str, bytes], receipt_list) -> list[str]:
    return [
        f"{label} in {place}"
        for place, data in haystacks.items()
        for label, needle in needles(receipt_list).items()
        if needle in data
    ]


@pytest.fixture
def all_logs(caplog):
    for name in ("", "django", "django.request", "django.db.backends", "tipline", "celery"):
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


@pytest.fixture
def township_clerk(township):
    """A clerk with an e-mail address, so each new report really sends a notification."""
    user = get_user_model().objects.create_user("clerk", "clerk@gov.example.cn")
    user.groups.add(Group.objects.get(name=roles.CLERK))
    unit = Unit.objects.create(
        county=township.county, township=township, kind=Unit.Kind.FAMILY_PLANNING, name="计生办"
    )
    StaffProfile.objects.create(user=user, unit=unit)
    return user


@pytest.mark.django_db(transaction=True)
def test_nothing_identifying_at_rest(client, township, township_clerk, all_logs, eager_tasks):
    with CaptureQueriesContext(connection) as queries:
        # 1. The web form, with a photo and the full identity.
        response = client.post(
            "/report/",
            {
                **form_data(township),
                "reporter_name": NAME,
                "reporter_phone": PHONE_TYPED,
                "reporter_id_number": ID_NUMBER.lower(),
                "evidence": [upload(), upload(jpeg_with_gps((1, 2, 3)), name=f"{NAME}.jpg")],
            },
            **CLIENT,
        )
        assert response.status_code == 200
        web_receipt = response.context["receipt"]
        meta = response.wsgi_request.META
        assert meta["REMOTE_ADDR"] == PLACEHOLDER
        for header in ("HTTP_USER_AGENT", "HTTP_X_FORWARDED_FOR", "HTTP_X_REAL_IP"):
            assert header not in meta

        # 2. Follow it up, look it up, download the receipt file, and guess wrong once.
        followup = {"receipt": receipts.grouped(web_receipt), "body": "补充：周三下午营业。"}
        response = client.post("/receipt/add/", {**followup, "evidence": [upload()]}, **CLIENT)
        assert response.status_code == 200
        assert client.post("/receipt/", followup, **CLIENT).status_code == 200
        assert client.post("/receipt/download/", followup, **CLIENT).status_code == 200
        wrong = {"receipt": "0" * 16}
        assert client.post("/receipt/", wrong, **CLIENT).status_code == 404

        # 3. The API, with the same identity.
        response = client.post(
            "/api/v1/reports",
            {
                **form_data(township, category="other"),
                "reporter_name": NAME,
                "reporter_phone": PHONE,
                "reporter_id_number": ID_NUMBER,
            },
            content_type="application/json",
            **CLIENT,
        )
        assert response.status_code == 201
        api_receipt = response.json()["receipt"]
        response = client.post(
            "/api/v1/receipt/status",
            {"receipt": receipts.grouped(api_receipt)},
            content_type="application/json",
            **CLIENT,
        )
        assert response.status_code == 200

        # 4. Errors too: a rejected form and a CSRF-free JSON error.
        bad = {**form_data(township), "reporter_name": NAME, "reporter_phone": "12"}
        assert client.post("/report/", bad, **CLIENT).status_code == 400
        assert client.get("/no-such-page/", **CLIENT).status_code == 404

    # The data really went in, and really is recoverable by those entitled to it.
    assert Report.objects.count() == 2
    assert ReporterIdentity.objects.count() == 2
    assert Attachment.objects.count() == 3
    assert ReportMessage.objects.count() == 1
    for identity in ReporterIdentity.objects.all():
        assert identity.reveal() == {"name": NAME, "phone": PHONE, "id_number": ID_NUMBER}
    receipt_list = [web_receipt, api_receipt]
    assert any(r.name == "django.db.backends" for r in all_logs.records)  # DEBUG is captured
    assert any(r.name == "django.request" for r in all_logs.records)

    database = dump_database()
    assert any(key.startswith("tipline_reporteridentity.") for key in database)
    assert search(database, receipt_list) == []
    assert search(sqlite_files(), receipt_list) == []
    files = attachment_dir()
    assert len(files) == 3
    assert search(files, receipt_list) == []
    assert search(log_records(all_logs.records), receipt_list) == []
    assert search({"captured log text": all_logs.text.encode()}, receipt_list) == []
    sql = {f"sql {i}": as_bytes(q["sql"]) for i, q in enumerate(queries.captured_queries)}
    assert search(sql, receipt_list) == []
    assert search(cache_contents(), receipt_list) == []
    # The scan of e-mail means something only if e-mail was sent: one per new report.
    assert [m.to for m in mail.outbox] == [[township_clerk.email]] * 2
    outbox = {f"mail {i}": as_bytes(m.message()) for i, m in enumerate(mail.outbox)}
    assert search(outbox, receipt_list) == []

    # A public visitor never gets a session.
    assert Session.objects.count() == 0


@pytest.mark.django_db
def test_scanner_finds_planted_values(make_report):
    """The search must be able to fail: plaintext put in on purpose is found."""
    make_report(subject_name=NAME, subject_address=f"{IP} {USER_AGENT}", subject_phone=PHONE)
    hits = search(dump_database(), [])
    assert "name (utf-8) in tipline_report.subject_name" in hits
    assert "phone (utf-8) in tipline_report.subject_phone" in hits
    assert "ip (utf-8) in tipline_report.subject_address" in hits
    assert "user agent (utf-8) in tipline_report.subject_address" in hits
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "r=%s", (PHONE,), None)
    assert search(log_records([record]), ["1234567890123456"]) == ["phone (utf-8) in log 0 x"]
    assert search({"f": "1234 5678 9012 3456".encode("utf-16-le")}, ["1234567890123456"]) == [
        "receipt 0 grouped (utf-16-le) in f"
    ]


def test_photo_metadata_is_not_logged_even_at_debug(caplog):
    """Sanitizing a photo with every logger at DEBUG (Pillow's included) logs neither its GPS
    data nor its camera serial: the sanitizer never reads those tags, it drops them."""
    photo = jpeg_with_gps()  # made before the capture: Pillow logs each tag it writes
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="PIL")
    clean = sanitize(photo, max_bytes=1024 * 1024)
    assert GPS_MARKER.encode() not in clean.content
    logged = caplog.text + "".join(repr(vars(r)) for r in caplog.records)
    assert GPS_MARKER not in logged
    assert CAMERA_SERIAL not in logged
    # The check can fail: code that reads the GPS and EXIF directories logs both at DEBUG.
    exif = Image.open(io.BytesIO(photo)).getexif()
    exif.get_ifd(0x8825), exif.get_ifd(0x8769)
    assert GPS_MARKER in caplog.text and CAMERA_SERIAL in caplog.text
