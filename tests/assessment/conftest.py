"""The casework cast, a settable clock and helpers that make cases through the services."""

import io
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from PIL import Image

from casework import services
from casework.models import DocumentType
from tests.casework import conftest as casework_fixtures
from tipline import services as intake
from tipline.attachments import sanitize
from tipline.models import Category

# The casework cast (clerk and investigator of 中水镇, their 西山镇 peers, county roles).
units, cast, login = casework_fixtures.units, casework_fixtures.cast, casework_fixtures.login
make_staff, verified_client = casework_fixtures.make_staff, casework_fixtures.verified_client

TZ = ZoneInfo("Asia/Shanghai")
ALL_DOCS = (
    "acceptance_approval",
    "interview_record",
    "inspection_record",
    "evidence",
    "penalty_decision",
    "service_receipt",
    "closing_report",
)


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.TIPLINE_RECEIPT_ARGON2 = {"memory_cost": 8, "iterations": 1, "lanes": 1}


def local(*args) -> datetime:
    return datetime(*args, tzinfo=TZ)


class Clock:
    """Services read timezone.now(); a test sets what it returns (None: the real time)."""

    def __init__(self):
        self.at = None

    def set(self, *args):
        self.at = local(*args)
        return self.at


@pytest.fixture
def clock(monkeypatch):
    c = Clock()
    real = timezone.now
    monkeypatch.setattr(timezone, "now", lambda: c.at or real())
    return c


def clean_png():
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(buf, "PNG")
    return sanitize(buf.getvalue(), max_bytes=1024 * 1024)


def file_docs(case, user, codes):
    for code in codes:
        doc_type = DocumentType.objects.get(code=code)
        if doc_type.generated:
            services.generate_registration_form(case.pk, user)
        else:
            services.add_document(case.pk, user, doc_type, clean_png())


def make_report(township, received_at=None, **extra):
    data = {
        "category": Category.SEX_DETERMINATION,
        "township_id": township.id,
        "description": "某诊所鉴定胎儿性别",
        **extra,
    }
    rep, _receipt = intake.create_report(intake.ReportInput(**data), received_at=received_at)
    return rep


def open_case(cast, township, received_at=None, birth_permit=False, **extra):
    return services.open_case(
        make_report(township, received_at, **extra).pk,
        cast["supervisor"],
        involves_birth_permit=birth_permit,
    )


def investigate(cast, units, case):
    unit = units["zs_fp"] if case.township.code == "zhongshui" else units["xs_fp"]
    services.assign(case.pk, cast["supervisor"], unit_id=unit.pk, investigator=cast["supervisor"])
    return services.start_investigation(case.pk, cast["supervisor"])


def decide(cast, units, township, outcome="penalize", docs=ALL_DOCS, **extra):
    """A case of ``township`` taken to 查处 / 查无实据 / 移送 now, with ``docs`` filed (plus the
    registration form)."""
    case = investigate(cast, units, open_case(cast, township, **extra))
    file_docs(case, cast["supervisor"], ("registration_form", *docs))
    sup = cast["supervisor"]
    if outcome == "penalize":
        return services.penalize(case.pk, sup, "罚款")
    if outcome == "unfounded":
        return services.find_unfounded(case.pk, sup, "查无实据")
    return services.transfer(case.pk, sup, "县公安局", timezone.localdate())
