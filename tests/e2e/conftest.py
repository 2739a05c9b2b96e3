"""End-to-end fixtures: Debian's Chromium (never a downloaded browser).

Citizens use a phone-sized screen (the default `page`); staff use desktop contexts (`desktop_page`).
"""

import importlib
import os
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from org import roles
from org.models import County, StaffProfile, Township, Unit

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


# --- staff journeys ---------------------------------------------------------------------------

DESKTOP = {
    "viewport": {"width": 1280, "height": 900},
    "device_scale_factor": 1,
    "is_mobile": False,
    "has_touch": False,
    "locale": "zh-CN",
}


@pytest.fixture
def desktop_page(browser, browser_context_args):
    """Factory: each call opens a fresh desktop browser context (one per person) and a page."""
    contexts = []

    def _open():
        context = browser.new_context(**{**browser_context_args, **DESKTOP})
        contexts.append(context)
        return context.new_page()

    yield _open
    for context in contexts:
        context.close()


def _ensure_roles_and_checklist():
    """Groups and the default case-file checklist, committed for the live server.

    Both come from migrations; a flush after an earlier transactional test re-creates the groups
    (post_migrate) but not the checklist rows of the data migration, so put them back.
    """
    from django.apps import apps

    roles.sync_groups()
    checklist = importlib.import_module("casework.migrations.0003_default_checklist")
    checklist.create(apps, None)


def _make_staff(username, role, unit):
    user = get_user_model().objects.create_user(
        username, f"{username}@example.invalid", "pw-" + username
    )
    user.groups.add(Group.objects.get(name=role))
    StaffProfile.objects.create(user=user, unit=unit)
    return get_user_model().objects.get(pk=user.pk)


@pytest.fixture
def e2e_staff(e2e_township):
    """The 中水镇 family-planning unit with its clerk and investigator, and a county supervisor."""
    _ensure_roles_and_checklist()
    county = e2e_township.county
    zs_fp = Unit.objects.create(
        county=county, township=e2e_township, kind=Unit.Kind.FAMILY_PLANNING, name="中水镇计生办"
    )
    county_fp = Unit.objects.create(
        county=county, township=None, kind=Unit.Kind.FAMILY_PLANNING, name="示范县计生局"
    )
    return {
        "units": {"zs_fp": zs_fp, "county_fp": county_fp},
        "clerk": _make_staff("clerk", roles.CLERK, zs_fp),
        "investigator": _make_staff("investigator", roles.INVESTIGATOR, zs_fp),
        "supervisor": _make_staff("supervisor", roles.SUPERVISOR, county_fp),
    }
