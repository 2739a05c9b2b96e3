"""Fixtures for tests that file reports (intake, vault, notifications)."""

import pytest

from tipline import services
from tipline.attachments import sanitize
from tipline.models import Category
from tipline.services import ReportInput


@pytest.fixture
def make_report(township):
    """Create a report through the service every channel uses; return (report, receipt)."""

    def make(files=(), **fields):
        values = {
            "category": Category.SEX_DETERMINATION,
            "township_id": township.id,
            "description": "有人在出租屋里做胎儿性别鉴定。",
        }
        values.update(fields)
        clean = [sanitize(f, max_bytes=1024 * 1024) for f in files]
        return services.create_report(ReportInput(**values), files=clean)

    return make


@pytest.fixture
def attachment_files(settings):
    """All files currently under the attachment directory."""

    def files():
        root = settings.TIPLINE_ATTACHMENT_DIR
        return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []

    return files
