"""deploy/backup.sh then deploy/restore.sh into a fresh database and directory, proven.

A system with demo data (cases in every state, sealed case documents) plus a report with a
sealed identity and an evidence photo is backed up with the real script (pg_dump + tar), restored
with the real script into a new empty database and directory (pg_restore, migrate, verify_audit,
verify_vault), and then compared: every table's row count, the identity decrypts with the same
key ring, the photo opens byte for byte. PostgreSQL only: the scripts are for production.
"""

import hashlib
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.db import connection

from tipline import services
from tipline.attachments import sanitize
from tipline.models import Attachment, ReporterIdentity
from vault import storage

from ..conftest import s3_storage
from ..pg import database_url
from ..tipline.helpers import VALID_ID, jpeg_with_gps

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="backup and restore skipped: the scripts use pg_dump/pg_restore "
        "(set DATABASE_URL to PostgreSQL to run them)",
    ),
    pytest.mark.skipif(
        not (shutil.which("pg_dump") and shutil.which("pg_restore") and shutil.which("psql")),
        reason="backup and restore skipped: pg_dump, pg_restore or psql is not installed",
    ),
]

ROOT = Path(settings.BASE_DIR)
NAME = "钱备份"


def run(script, *args, env):
    result = subprocess.run(
        ["bash", str(ROOT / "deploy" / script), *map(str, args)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return result


def psql(url, sql):
    out = subprocess.run(
        ["psql", url, "-tAc", sql], capture_output=True, text=True, check=True, timeout=60
    )
    return out.stdout.strip()


@pytest.fixture
def restored_db():
    name = f"{connection.settings_dict['NAME']}_restore_{uuid.uuid4().hex[:8]}"
    admin = database_url("postgres")
    psql(admin, f'CREATE DATABASE "{name}"')
    try:
        yield database_url(name)
    finally:
        psql(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def base_env(**extra):
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DATABASE_URL", "TIPLINE_", "CELERY_"))
    }
    env.update(
        DJANGO_DEBUG="1",
        TIPLINE_KEYS_FILE=str(settings.TIPLINE_KEYS_FILE),
        TIPLINE_PYTHON=sys.executable,
        **extra,
    )
    return env


def counts_here() -> dict[str, int]:
    return {m._meta.db_table: m.objects.count() for m in apps.get_models() if not m._meta.proxy}


def test_backup_then_restore_into_a_fresh_system(tmp_path, township, restored_db):
    call_command("seed_demo", verbosity=0)
    report, _receipt = services.create_report(
        services.ReportInput(
            category="sex_determination",
            township_id=township.id,
            description="备份测试：诊所用B超鉴定胎儿性别。",
            reporter_name=NAME,
            reporter_phone="13600001111",
            reporter_id_number=VALID_ID,
        ),
        files=[sanitize(jpeg_with_gps(), max_bytes=1024 * 1024)],
    )
    identity = ReporterIdentity.objects.get(report=report)
    photo = Attachment.objects.get(report=report)
    photo_sha = hashlib.sha256(storage.read(photo)).hexdigest()
    before = counts_here()
    assert before["casework_casedocument"] > 0 and before["tipline_reporteridentity"] > 0

    # Back up with the production script.
    backups = tmp_path / "backups"
    made = run(
        "backup.sh",
        backups,
        env=base_env(
            DATABASE_URL=database_url(),
            TIPLINE_ATTACHMENT_DIR=str(settings.TIPLINE_ATTACHMENT_DIR),
        ),
    )
    assert made.returncode == 0, made.stderr
    backup_dir = Path(made.stdout.strip().splitlines()[-1])
    assert {p.name for p in backup_dir.iterdir()} == {"database.dump", "files.tar.gz", "SHA256SUMS"}
    # The key ring is not in the backup.
    ring = Path(settings.TIPLINE_KEYS_FILE).read_bytes()
    assert all(ring not in p.read_bytes() for p in backup_dir.iterdir())

    # Restore into an empty database and directory with the production script.
    files = tmp_path / "restored-files"
    env = base_env(DATABASE_URL=restored_db, TIPLINE_ATTACHMENT_DIR=str(files))
    done = run("restore.sh", backup_dir, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "audit chain intact" in done.stdout
    assert "Every sealed row opens with this key ring." in done.stdout

    # Every table holds what it held.
    for table, count in before.items():
        query = f'SELECT count(*) FROM "{table}"'  # noqa: S608 — names from the app registry
        assert int(psql(restored_db, query)) == count, table

    # The identity decrypts and the photo opens, in the restored system, with the same ring.
    check = (
        "from tipline.models import Attachment, ReporterIdentity; from vault import storage; "
        "import hashlib; "
        f"print(ReporterIdentity.objects.get(pk='{identity.pk}').reveal()['name']); "
        f"print(hashlib.sha256(storage.read(Attachment.objects.get(pk='{photo.pk}'))).hexdigest())"
    )
    shell = subprocess.run(
        [sys.executable, "manage.py", "shell", "--verbosity", "0", "-c", check],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert shell.returncode == 0, shell.stderr
    assert shell.stdout.split() == [NAME, photo_sha]

    # A second restore into the now-filled system is refused, and changes nothing.
    again = run("restore.sh", backup_dir, env=env)
    assert again.returncode != 0
    assert "refusing to restore" in again.stderr


def test_restore_refuses_a_tampered_backup(tmp_path, restored_db):
    backups = tmp_path / "backups"
    env = base_env(DATABASE_URL=database_url(), TIPLINE_ATTACHMENT_DIR=str(tmp_path / "files"))
    made = run("backup.sh", backups, env=env)
    assert made.returncode == 0, made.stderr
    backup_dir = Path(made.stdout.strip().splitlines()[-1])
    with (backup_dir / "files.tar.gz").open("ab") as fh:
        fh.write(b"tampered")

    done = run(
        "restore.sh",
        backup_dir,
        env=base_env(DATABASE_URL=restored_db, TIPLINE_ATTACHMENT_DIR=str(tmp_path / "out")),
    )
    assert done.returncode != 0
    assert psql(restored_db, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == "0"


def _dump_text(backup_dir: Path) -> str:
    """The backup's database as SQL text (bytea columns appear as \\x… hex)."""
    out = subprocess.run(
        ["pg_restore", "--file", "-", str(backup_dir / "database.dump")],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return out.stdout


def test_no_backup_made_after_shredding_holds_the_identity(
    tmp_path, township, cast, units, clock, restored_db
):
    from casework.rewards.models import RewardClaim
    from ops import retention

    from .test_retention import archived_with_paid_reward

    clock(400)
    case, report = archived_with_paid_reward(township, cast, units)
    clock(None)
    identity = ReporterIdentity.objects.get(report=report)
    claim = RewardClaim.objects.get(reward__case=case)
    secrets = {
        "identity data key": bytes(identity.wrapped_key).hex(),
        "sealed name": bytes(identity.name_sealed).hex(),
        "sealed ID number": bytes(identity.id_number_sealed).hex(),
        "phone blind index": identity.phone_index,
        "payee data key": bytes(claim.wrapped_key).hex(),
        "sealed account": bytes(claim.account_number_sealed).hex(),
    }
    env = base_env(
        DATABASE_URL=database_url(), TIPLINE_ATTACHMENT_DIR=str(settings.TIPLINE_ATTACHMENT_DIR)
    )

    before = run("backup.sh", tmp_path / "before", env=env)
    assert before.returncode == 0, before.stderr
    text = _dump_text(Path(before.stdout.split()[-1]))
    # Positive control: a backup made before shredding does hold them.
    assert [label for label, value in secrets.items() if value not in text] == []

    assert retention.run().identities_shredded == 1

    after = run("backup.sh", tmp_path / "after", env=env)
    assert after.returncode == 0, after.stderr
    backup_dir = Path(after.stdout.split()[-1])
    text = _dump_text(backup_dir)
    assert [label for label, value in secrets.items() if value in text] == []
    # And the later backup restores into a system whose audit chain and vault verify.
    done = run(
        "restore.sh",
        backup_dir,
        env=base_env(DATABASE_URL=restored_db, TIPLINE_ATTACHMENT_DIR=str(tmp_path / "files")),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "audit chain intact" in done.stdout


@pytest.mark.s3
def test_backup_then_restore_with_files_in_s3(tmp_path, township, restored_db, seaweed, settings):
    """The bucket is part of the backup: backup.sh copies its objects into files.tar.gz
    (manage.py vault_files --out) and restore.sh puts them into an empty bucket, where
    verify_vault opens every sealed row; the objects come back byte for byte."""
    source = seaweed.new_bucket("backup")
    settings.STORAGES = {**settings.STORAGES, "vault": s3_storage(seaweed, source)}
    report, _receipt = services.create_report(
        services.ReportInput(
            category="sex_determination",
            township_id=township.id,
            description="备份测试：对象存储里的证据。",
            reporter_name=NAME,
        ),
        files=[sanitize(jpeg_with_gps(), max_bytes=1024 * 1024)],
    )
    photo = Attachment.objects.get(report=report)
    objects = seaweed.objects(source)
    assert set(objects) == {f"{photo.pk}.bin"}

    made = run(
        "backup.sh",
        tmp_path / "backups",
        env=base_env(DATABASE_URL=database_url(), **seaweed.env(source)),
    )
    assert made.returncode == 0, made.stderr
    backup_dir = Path(made.stdout.strip().splitlines()[-1])
    assert {p.name for p in backup_dir.iterdir()} == {"database.dump", "files.tar.gz", "SHA256SUMS"}

    target = seaweed.new_bucket("restore")
    var_dir = tmp_path / "var"
    env = base_env(DATABASE_URL=restored_db, TIPLINE_VAR_DIR=str(var_dir), **seaweed.env(target))
    done = run("restore.sh", backup_dir, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 encrypted files restored" in done.stdout
    assert "Every sealed row opens with this key ring." in done.stdout
    assert seaweed.objects(target) == objects
    # Nothing of it under the restoring host's var directory: only the bucket holds files.
    assert [p for p in var_dir.rglob("*") if p.is_file()] == []

    again = run("restore.sh", backup_dir, env=env)
    assert again.returncode != 0 and "refusing to restore" in again.stderr
