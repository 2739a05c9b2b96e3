#!/usr/bin/env bash
# Nightly database backup. The key ring is NOT in this backup on purpose: a stolen dump alone
# reveals no identity. Back the key ring up separately (offline, two custodians).
set -euo pipefail
dest="${1:-/var/backups/tipline}"
mkdir -p "$dest"
stamp=$(date +%Y%m%d-%H%M%S)
pg_dump --format=custom --file "$dest/tipline-$stamp.dump" "${DATABASE_URL:?}"
# Encrypted attachments are unreadable without the key ring as well.
tar -C /var/lib/tipline -czf "$dest/attachments-$stamp.tar.gz" attachments
find "$dest" -name 'tipline-*.dump' -mtime +30 -delete
