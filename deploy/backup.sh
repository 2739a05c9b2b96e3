#!/usr/bin/env bash
# Backup of the database and the encrypted files, e.g. nightly from a systemd timer or cron:
#   deploy/backup.sh [DEST]          (DEST defaults to /var/backups/tipline)
# Reads DATABASE_URL and TIPLINE_ATTACHMENT_DIR (default $TIPLINE_VAR_DIR/attachments) from the
# environment (the systemd units load /etc/tipline/tipline.env). With TIPLINE_FILE_STORAGE=s3 the
# encrypted files are copied out of the bucket (AWS_* variables) by `manage.py vault_files --out`
# into the same files.tar.gz, so a backup looks the same whichever storage made it.
#
# The key ring is NOT in this backup, on purpose: a stolen backup alone reveals no identity and
# no evidence. Back the key ring up separately (offline, two custodians). Without it, every
# identity and every file in these backups is lost for good.
set -euo pipefail
dest="${1:-/var/backups/tipline}"
keep_days="${TIPLINE_BACKUP_KEEP_DAYS:-30}"
files="${TIPLINE_ATTACHMENT_DIR:-${TIPLINE_VAR_DIR:-/var/lib/tipline}/attachments}"
: "${DATABASE_URL:?DATABASE_URL is required}"

umask 077
mkdir -p "$dest"
stamp=$(date +%Y%m%d-%H%M%S)
tmp="$dest/.tipline-$stamp.partial"
mkdir "$tmp"
trap 'rm -rf "$tmp"' EXIT

# One consistent snapshot of the whole database (pg_dump runs in a single transaction).
pg_dump --format=custom --no-owner --file "$tmp/database.dump" "$DATABASE_URL"
# The encrypted files: written once and never changed, so copying after the dump can only add
# files the dump does not reference, never lose one it does.
if [ "${TIPLINE_FILE_STORAGE:-local}" = "s3" ]; then
  here="$(cd "$(dirname "$0")/.." && pwd)"
  (cd "$here" && "${TIPLINE_PYTHON:-$here/.venv/bin/python}" manage.py vault_files --out "$tmp/files.tar.gz")
else
  mkdir -p "$files"
  tar -C "$files" -czf "$tmp/files.tar.gz" .
fi
(cd "$tmp" && sha256sum database.dump files.tar.gz > SHA256SUMS)

mv "$tmp" "$dest/tipline-$stamp"
trap - EXIT
echo "$dest/tipline-$stamp"
find "$dest" -maxdepth 1 -name 'tipline-*' -type d -mtime "+$keep_days" -exec rm -rf {} +
