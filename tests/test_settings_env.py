"""Strict environment parsing: bad or missing values stop start-up naming the variable."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_int, env_list, env_str
from vault.keyring import KeyRing

BASE_DIR = Path(__file__).resolve().parent.parent
VAR = "TIPLINE_TEST_ENV_VALUE"


# --- the helpers, in process ------------------------------------------------------------------


def test_env_str(monkeypatch):
    monkeypatch.delenv(VAR, raising=False)
    assert env_str(VAR) is None
    assert env_str(VAR, "fallback") == "fallback"
    monkeypatch.setenv(VAR, "")
    assert env_str(VAR, "fallback") == ""
    monkeypatch.setenv(VAR, " value ")
    assert env_str(VAR) == " value "


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1", True),
        ("true", True),
        ("YES", True),
        (" on ", True),
        ("0", False),
        ("False", False),
        ("no", False),
        ("off", False),
        ("", False),
    ],
)
def test_env_bool_values(monkeypatch, raw, expected):
    monkeypatch.setenv(VAR, raw)
    assert env_bool(VAR, not expected) is expected


def test_env_bool_default(monkeypatch):
    monkeypatch.delenv(VAR, raising=False)
    assert env_bool(VAR, True) is True
    assert env_bool(VAR, False) is False


@pytest.mark.parametrize("raw", ["maybe", "2", "y", "enable", "truee"])
def test_env_bool_rejects(monkeypatch, raw):
    monkeypatch.setenv(VAR, raw)
    with pytest.raises(ImproperlyConfigured, match=VAR) as exc:
        env_bool(VAR, False)
    assert repr(raw) in str(exc.value)


def test_env_int(monkeypatch):
    monkeypatch.delenv(VAR, raising=False)
    assert env_int(VAR, 7) == 7
    monkeypatch.setenv(VAR, "  ")
    assert env_int(VAR, 7) == 7
    monkeypatch.setenv(VAR, "42")
    assert env_int(VAR, 7, minimum=42) == 42


@pytest.mark.parametrize(
    ("raw", "minimum", "message"),
    [
        ("abc", 0, "must be a whole number"),
        ("1.5", 0, "must be a whole number"),
        ("20MB", 0, "must be a whole number"),
        ("-1", 0, "must be at least 0"),
        ("0", 1, "must be at least 1"),
    ],
)
def test_env_int_rejects(monkeypatch, raw, minimum, message):
    monkeypatch.setenv(VAR, raw)
    with pytest.raises(ImproperlyConfigured, match=f"{VAR} {message}"):
        env_int(VAR, 5, minimum=minimum)


def test_env_list(monkeypatch):
    monkeypatch.delenv(VAR, raising=False)
    assert env_list(VAR, ["a"]) == ["a"]
    monkeypatch.setenv(VAR, " tip.example.cn, ,www.tip.example.cn ,")
    assert env_list(VAR, []) == ["tip.example.cn", "www.tip.example.cn"]
    monkeypatch.setenv(VAR, "")
    assert env_list(VAR, ["a"]) == []


# --- importing the settings, in a subprocess with a controlled environment ---------------------

SETUP = (
    "import os, django; os.environ['DJANGO_SETTINGS_MODULE'] = 'config.settings'; django.setup(); "
    "from django.conf import settings; "
    "print(settings.DEBUG, settings.TIPLINE_KEYS_FILE, settings.TIPLINE_KEYS_AUTOCREATE)"
)


@pytest.fixture
def keys_file(tmp_path):
    path = tmp_path / "keys.json"
    KeyRing.generate().save(path)
    return path


def start(tmp_path, *, code=SETUP, args=None, **env) -> subprocess.CompletedProcess:
    environ = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(BASE_DIR),
        "TIPLINE_VAR_DIR": str(tmp_path / "var"),
    }
    environ.update(env)
    return subprocess.run(
        args or [sys.executable, "-c", code],
        cwd=BASE_DIR,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
    )


def assert_fails_naming(result, variable):
    assert result.returncode != 0, result.stdout
    assert "ImproperlyConfigured" in result.stderr
    assert variable in result.stderr.strip().splitlines()[-1]


def test_production_without_secret_key_fails(tmp_path, keys_file):
    result = start(tmp_path, DJANGO_DEBUG="0", TIPLINE_KEYS_FILE=str(keys_file))
    assert_fails_naming(result, "DJANGO_SECRET_KEY")


PRODUCTION = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": "s" * 50,
    "DJANGO_ALLOWED_HOSTS": "jubao.example.gov.cn",
    "DATABASE_URL": "postgres://tipline@127.0.0.1:5432/tipline",  # parsed, not connected
}


@pytest.mark.parametrize("missing", ["DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "DATABASE_URL"])
def test_production_refuses_a_missing_variable_in_one_line(tmp_path, keys_file, missing):
    env = {**PRODUCTION, "TIPLINE_KEYS_FILE": str(keys_file)}
    del env[missing]
    assert_fails_naming(start(tmp_path, **env), missing)
    # manage.py says it in one line, without a traceback.
    result = manage(tmp_path, "migrate", "--plan", **env)
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        f"Configuration error: {missing} is required when DJANGO_DEBUG=0 (see deploy/env.example)"
    ]


def test_production_refuses_sqlite(tmp_path, keys_file):
    env = {**PRODUCTION, "TIPLINE_KEYS_FILE": str(keys_file)}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    assert_fails_naming(start(tmp_path, **env), "DATABASE_URL")
    result = manage(tmp_path, "check", **env)
    assert (
        result.stderr.strip()
        .splitlines()[-1]
        .startswith("Configuration error: DATABASE_URL must be a postgres:// URL")
    )


def manage(tmp_path, *args, **env):
    return start(tmp_path, args=[sys.executable, "manage.py", *args], **env)


@pytest.mark.parametrize("keys_file", [None, "absent"], ids=["unset", "not-yet-created"])
def test_production_without_key_ring_does_not_serve(tmp_path, keys_file):
    env = dict(PRODUCTION)
    if keys_file:
        env["TIPLINE_KEYS_FILE"] = str(tmp_path / "keys.json")
    # The web server (WSGI and ASGI) refuses to start, naming the variable...
    for module in ("config.wsgi", "config.asgi"):
        assert_fails_naming(start(tmp_path, code=f"import {module}", **env), "TIPLINE_KEYS_FILE")
    # ... and so does every management command that checks the project.
    result = manage(tmp_path, "check", **env)
    assert result.returncode != 0
    assert "vault.E001" in result.stderr and "TIPLINE_KEYS_FILE" in result.stderr


@pytest.mark.parametrize("keys_file", [None, "same"], ids=["unset", "set-to-the-new-path"])
def test_generate_keys_works_in_production_before_a_key_ring_exists(tmp_path, keys_file):
    path = tmp_path / "etc" / "keys.json"
    env = dict(PRODUCTION)
    if keys_file:
        env["TIPLINE_KEYS_FILE"] = str(path)
    result = manage(tmp_path, "generate_keys", "--out", str(path), **env)
    assert result.returncode == 0, result.stderr
    assert (path.stat().st_mode & 0o777) == 0o600
    KeyRing.from_json(path.read_text())
    # With the ring in place, the project passes its checks and the web server starts.
    env["TIPLINE_KEYS_FILE"] = str(path)
    assert manage(tmp_path, "check", **env).returncode == 0
    assert start(tmp_path, code="import config.wsgi", **env).returncode == 0


def test_production_with_a_broken_key_ring_does_not_serve(tmp_path):
    path = tmp_path / "keys.json"
    path.write_text("{}")
    result = start(tmp_path, code="import config.wsgi", TIPLINE_KEYS_FILE=str(path), **PRODUCTION)
    assert_fails_naming(result, "key ring format")


def test_production_defaults_hsts_and_session_length_csrf_cookie(tmp_path, keys_file):
    code = (
        SETUP.split("print(")[0] + "print(settings.SECURE_HSTS_SECONDS, settings.CSRF_COOKIE_AGE,"
        " settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE)"
    )
    result = start(tmp_path, code=code, TIPLINE_KEYS_FILE=str(keys_file), **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["31536000", "None", "True", "True"]


def test_nginx_sends_hsts():
    conf = (BASE_DIR / "deploy" / "nginx.conf").read_text()
    assert (
        re.search(r'add_header Strict-Transport-Security "max-age=(\d+)[^"]*" always;', conf)
        and int(re.search(r"max-age=(\d+)", conf)[1]) >= 31536000
    )


def test_debug_defaults_to_off(tmp_path):
    # No DJANGO_DEBUG at all means production: the secret key is required.
    result = start(tmp_path)
    assert_fails_naming(result, "DJANGO_SECRET_KEY")


def test_unparseable_debug_fails(tmp_path):
    assert_fails_naming(start(tmp_path, DJANGO_DEBUG="maybe"), "DJANGO_DEBUG")


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("TIPLINE_ATTACHMENT_MAX_MB", "twenty"),
        ("TIPLINE_REPORTS_PER_HOUR", "0"),
        ("CACHE_URL", "memcached://127.0.0.1:11211"),
        ("TIPLINE_STRIP_METADATA", "perhaps"),
        ("TIPLINE_NOTIFY_LEASE_SECONDS", "29"),
        ("TIPLINE_NOTIFY_HANDOVER_SECONDS", "a minute"),
        ("TIPLINE_NOTIFY_HANDOVER_SECONDS", "9"),
        ("TIPLINE_WEB_WORKERS", "0"),
    ],
)
def test_bad_values_fail_naming_the_variable(tmp_path, variable, value):
    assert_fails_naming(start(tmp_path, DJANGO_DEBUG="1", **{variable: value}), variable)


def test_the_delivery_lease_must_outlast_the_slowest_send(tmp_path):
    """12 exchanges of EMAIL_TIMEOUT (the larger timeout): 12 × 15 = 180 s needed, 150 refused,
    180 accepted; with the default 10 s timeouts the default 120 s is exactly enough."""
    code = "import config.settings as s; print(s.TIPLINE_NOTIFY_LEASE_SECONDS)"
    slow = {"DJANGO_DEBUG": "1", "EMAIL_TIMEOUT": "15", "TIPLINE_SMS_GATEWAY_TIMEOUT": "5"}
    refused = start(tmp_path, code=code, TIPLINE_NOTIFY_LEASE_SECONDS="150", **slow)
    assert_fails_naming(refused, "TIPLINE_NOTIFY_LEASE_SECONDS")
    assert "at least 180" in refused.stderr
    accepted = start(tmp_path, code=code, TIPLINE_NOTIFY_LEASE_SECONDS="180", **slow)
    assert accepted.returncode == 0, accepted.stderr
    assert accepted.stdout.strip() == "180"
    default = start(tmp_path, code=code, DJANGO_DEBUG="1")
    assert default.stdout.strip() == "120", default.stderr


def test_file_email_backend_needs_a_path(tmp_path):
    result = start(
        tmp_path,
        DJANGO_DEBUG="1",
        EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
    )
    assert_fails_naming(result, "EMAIL_FILE_PATH")


def test_production_settings_load_when_complete(tmp_path, keys_file):
    result = start(tmp_path, TIPLINE_KEYS_FILE=str(keys_file), **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", str(keys_file), "False"]


def test_development_creates_no_key_ring_until_used(tmp_path):
    result = start(tmp_path, DJANGO_DEBUG="1")
    assert result.returncode == 0, result.stderr
    debug, path, autocreate = result.stdout.split()
    assert (debug, autocreate) == ("True", "True")
    assert Path(path) == tmp_path / "var" / "dev-keys.json"


# --- where the encrypted files go -------------------------------------------------------------

STORAGE = (
    "import config.settings as s; v = s.STORAGES['vault']; o = v.get('OPTIONS', {}); "
    "print(v['BACKEND'], o.get('bucket_name'), o.get('endpoint_url'), o.get('addressing_style'),"
    " o.get('region_name'))"
)
S3 = {
    "DJANGO_DEBUG": "1",
    "TIPLINE_FILE_STORAGE": "s3",
    "AWS_S3_ENDPOINT_URL": "http://127.0.0.1:8333",
    "AWS_STORAGE_BUCKET_NAME": "tipline-files",
    "AWS_ACCESS_KEY_ID": "id",
    "AWS_SECRET_ACCESS_KEY": "secret",
}


def test_files_stay_on_the_local_disk_by_default(tmp_path):
    result = start(tmp_path, code=STORAGE, DJANGO_DEBUG="1")
    assert result.stdout.split() == ["vault.storage.LocalFileStorage", *["None"] * 4]


def test_s3_is_configured_from_the_aws_variables(tmp_path):
    result = start(tmp_path, code=STORAGE, AWS_S3_REGION_NAME="cn-east-1", **S3)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "vault.s3.S3FileStorage",
        "tipline-files",
        "http://127.0.0.1:8333",
        "path",
        "cn-east-1",
    ]


@pytest.mark.parametrize(
    "missing", ["AWS_STORAGE_BUCKET_NAME", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]
)
def test_s3_without_its_bucket_or_keys_fails_naming_it(tmp_path, missing):
    env = {k: v for k, v in S3.items() if k != missing}
    assert_fails_naming(start(tmp_path, code=STORAGE, **env), missing)


@pytest.mark.parametrize(
    ("variable", "value"),
    [("TIPLINE_FILE_STORAGE", "gcs"), ("AWS_S3_ENDPOINT_URL", "s3.internal:8333")],
)
def test_bad_storage_values_fail_naming_the_variable(tmp_path, variable, value):
    assert_fails_naming(start(tmp_path, code=STORAGE, **{**S3, variable: value}), variable)
