#!/usr/bin/env bash
# Restore a backup made by deploy/backup.sh into an EMPTY database and an EMPTY file directory:
#   deploy/restore.sh BACKUP_DIR
# Reads DATABASE_URL, TIPLINE_ATTACHMENT_DIR (or TIPLINE_VAR_DIR) and TIPLINE_KEYS_FILE from the
# environment, like the application. The key ring must be the one the backup was made with
# (restore it from its own offline copy first). Then it migrates (a backup of an older release is
# upgraded), and checks the audit chain and that every sealed row opens with the key ring.
# With TIPLINE_FILE_STORAGE=s3 the files go into the (empty) bucket named by the AWS_* variables.
set -euo pipefail
backup="${1:?usage: restore.sh BACKUP_DIR}"
files="${TIPLINE_ATTACHMENT_DIR:-${TIPLINE_VAR_DIR:-/var/lib/tipline}/attachments}"
: "${DATABASE_URL:?DATABASE_URL is required}"
: "${TIPLINE_KEYS_FILE:?TIPLINE_KEYS_FILE is required: restore the key ring first}"
here="$(cd "$(dirname "$0")/.." && pwd)"
python="${TIPLINE_PYTHON:-$here/.venv/bin/python}"

(cd "$backup" && sha256sum --check --quiet SHA256SUMS)

tables=$(psql "$DATABASE_URL" -tAc "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
if [ "$tables" != "0" ]; then
  echo "refusing to restore: the database already has $tables tables (restore into an empty one)" >&2
  exit 1
fi
s3=""; [ "${TIPLINE_FILE_STORAGE:-local}" = "s3" ] && s3=1
if [ -n "$s3" ]; then
  (cd "$here" && "$python" manage.py vault_files --check-empty >/dev/null) || exit 1
elif [ -d "$files" ] && [ -n "$(ls -A "$files")" ]; then
  echo "refusing to restore: $files is not empty" >&2
  exit 1
fi

pg_restore --no-owner --exit-on-error --dbname "$DATABASE_URL" "$backup/database.dump"
umask 077
if [ -n "$s3" ]; then
  (cd "$here" && "$python" manage.py vault_files --restore "$backup/files.tar.gz")
else
  mkdir -p "$files"
  tar -C "$files" -xzf "$backup/files.tar.gz"
fi

cd "$here"
"$python" manage.py migrate --noinput
"$python" manage.py verify_audit
"$python" manage.py verify_vault
echo "restored $backup"
