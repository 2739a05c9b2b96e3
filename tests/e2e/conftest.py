"""End-to-end fixtures: Debian's Chromium (never a downloaded browser) on a phone-sized screen."""

import os
from pathlib import Path

import pytest

from casework.models import County, Township

# Playwright's sync API runs an event loop in this thread; the ORM calls made by the test itself
# (fixtures, checks on stored rows) would otherwise trip Django's async-safety guard.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path("/usr/bin/chromium")
E2E_DIR = Path(__file__).resolve().parent
SKIP_REASON = f"e2e skipped: Debian chromium not installed at {CHROMIUM} (apt-get install chromium)"

PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    # An English-language browser: the site must still open in Chinese (the audience reads
    # Chinese first, whatever language the phone was set up in).
    "locale": "en-US",
}


def pytest_collection_modifyitems(config, items):
    # Hooks in a conftest see every collected item, not just this directory's.
    if os.access(CHROMIUM, os.X_OK):
        return
    skip = pytest.mark.skip(reason=SKIP_REASON)
    for item in items:
        if E2E_DIR in Path(item.path).resolve().parents:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": str(CHROMIUM),
        "headless": True,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, **PHONE}


@pytest.fixture
def e2e_township(transactional_db):
    """The township the citizen reports in, committed so the live server's thread sees it."""
    county = County.objects.create(code="demo", name="示范县")
    return Township.objects.create(county=county, code="zhongshui", name="中水镇")
