"""Production configuration: every setting documented, and Django's deploy check passing with
the documented environment."""

import pytest

from vault.keyring import KeyRing

from ..deploy_env import documented, env_example, read_by_code, read_by_scripts
from ..test_settings_env import manage


def test_the_scan_finds_the_settings_it_compares():
    """Guard: the code scan sees settings read in several ways and places."""
    found = read_by_code()
    for name in ("DATABASE_URL", "DJANGO_ALLOWED_HOSTS", "EMAIL_BACKEND", "TIPLINE_DEMO_PASSWORD"):
        assert name in found, name
    assert len(found) > 40


def test_env_example_lists_every_setting_the_code_reads_with_its_meaning():
    listed = documented()
    read = read_by_code() | read_by_scripts()
    assert {"TIPLINE_BACKUP_KEEP_DAYS", "DATABASE_URL"} <= read_by_scripts()
    missing = sorted(read - set(listed))
    assert not missing, f"read by the code, missing from deploy/env.example: {missing}"
    unknown = sorted(set(listed) - read)
    assert not unknown, f"in deploy/env.example, read by nothing: {unknown}"
    unexplained = sorted(name for name, meaning in listed.items() if len(meaning) < 10)
    assert not unexplained, f"no one-line meaning above: {unexplained}"


def test_the_readme_names_every_setting():
    from ..deploy_env import BASE_DIR

    readme = (BASE_DIR / "README.md").read_text()
    missing = sorted(name for name in read_by_code() | read_by_scripts() if name not in readme)
    assert not missing, f"missing from the README's configuration table: {missing}"


@pytest.fixture
def production_env(tmp_path):
    keys = tmp_path / "keys.json"
    KeyRing.generate().save(keys)
    env = env_example()
    env.pop("TIPLINE_VAR_DIR")  # start() points it at tmp_path
    env.update(
        TIPLINE_KEYS_FILE=str(keys),
        TIPLINE_SMS_FILE_PATH=str(tmp_path / "sms"),
        DJANGO_SECRET_KEY="k" * 25 + "Q7#zP" * 5 + "m" * 10,  # 50 characters, varied
    )
    return env


def test_check_deploy_passes_with_the_documented_environment(tmp_path, production_env):
    result = manage(tmp_path, "check", "--deploy", "--fail-level", "WARNING", **production_env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_check_deploy_fails_without_https(tmp_path, production_env):
    """The check means something: the same environment without TLS settings is refused."""
    production_env["TIPLINE_HTTPS"] = "0"
    result = manage(tmp_path, "check", "--deploy", "--fail-level", "WARNING", **production_env)
    assert result.returncode != 0
    assert "security.W008" in result.stderr or "security.W012" in result.stderr


def test_every_deploy_file_the_readme_names_exists():
    import re

    from ..deploy_env import BASE_DIR

    readme = (BASE_DIR / "README.md").read_text()
    deployment = readme[readme.index("## Deployment") :]
    named = set(re.findall(r"deploy/[\w./-]+\w", deployment))
    named |= {
        f"deploy/systemd/{n}"
        for n in re.findall(r"`(tipline-[\w-]+\.(?:service|timer))`", deployment)
    }
    assert len(named) >= 10, named
    missing = sorted(n for n in named if not (BASE_DIR / n).exists())
    assert not missing, f"the README's deployment steps name files deploy/ lacks: {missing}"
