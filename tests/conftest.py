"""Shared fixtures: an isolated key ring, attachment directory and cache for every test."""

import importlib
from pathlib import Path

import pytest
from django.apps import apps
from django.core.cache import cache

from org.models import County, Township
from vault import keyring

pytest_plugins = ["tests.intake_fixtures"]

# Races on PostgreSQL time their threads against each other, and the browser run is heavy: under
# pytest-xdist these share one worker and run one after another (make test uses --dist loadgroup).
SERIAL_FILES = {"test_concurrency.py", "test_throttle_concurrency.py"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        path = Path(item.path)
        if "e2e" in path.parts:
            item.add_marker(pytest.mark.e2e)
        heavy = any(item.get_closest_marker(m) for m in ("e2e", "worker", "faults"))
        if heavy:
            item.add_marker(pytest.mark.slow)
        if heavy or path.name in SERIAL_FILES or item.get_closest_marker("serial"):
            item.add_marker(pytest.mark.serial)
            item.add_marker(pytest.mark.xdist_group("serial"))


@pytest.fixture(scope="session")
def _session_keys(tmp_path_factory):
    path = tmp_path_factory.mktemp("keys") / "keys.json"
    keyring.KeyRing.generate().save(path)
    return path


@pytest.fixture(autouse=True)
def isolated_secrets(settings, tmp_path, _session_keys):
    """Each test: the session key ring, its own attachment directory, an empty cache."""
    settings.TIPLINE_KEYS_FILE = str(_session_keys)
    settings.TIPLINE_KEYS_AUTOCREATE = False
    settings.TIPLINE_ATTACHMENT_DIR = tmp_path / "attachments"
    settings.VAR_DIR = tmp_path / "var"  # seed_demo's receipts file and mail, never the checkout's
    keyring.reset_cache()
    cache.clear()
    ring = _session_keys.read_bytes()
    yield
    keyring.reset_cache()
    cache.clear()
    # Every later test relies on it: a test that rotates keys must work on a copy.
    assert _session_keys.read_bytes() == ring, "this test rewrote the shared session key ring"


@pytest.fixture(autouse=True)
def _baseline_data_for_transactional_tests(request):
    """Transactional tests flush the database after themselves, data migrations included, and
    pytest-django runs them last: put the role groups and the default checklist back."""
    marker = request.node.get_closest_marker("django_db")
    if not (
        "transactional_db" in request.fixturenames
        or "live_server" in request.fixturenames
        or (marker is not None and marker.kwargs.get("transaction"))
    ):
        return
    request.getfixturevalue("transactional_db")
    from org.roles import sync_groups

    sync_groups()
    importlib.import_module("casework.migrations.0003_default_checklist").create(apps, None)
    importlib.import_module(
        "casework.assessment.migrations.0002_falsification_document_type"
    ).create(apps, None)
    importlib.import_module("casework.rewards.migrations.0002_defaults").create(apps, None)


@pytest.fixture
def county(db):
    return County.objects.create(code="demo", name="示范县")


@pytest.fixture
def township(county):
    return Township.objects.create(county=county, code="zhongshui", name="中水镇")


@pytest.fixture
def other_township(county):
    return Township.objects.create(county=county, code="xishan", name="西山镇")


@pytest.fixture
def eager_tasks(monkeypatch):
    """Tasks run in this process right after each commit, as with `make run` (no
    CELERY_BROKER_URL), even where CI configures a broker with no worker behind it: for tests
    that need what a task does (an e-mail, a notice) to happen inside the request."""
    from config.celery import app

    monkeypatch.setitem(app.conf, "task_always_eager", True)
    return app
