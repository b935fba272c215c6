#!/usr/bin/env bash
# Back up the PostgreSQL database: scripts/backup.sh [FILE]
#
# Writes a pg_dump custom-format archive (compressed; pg_restore can restore it whole
# or in parts) of $DATABASE_URL to FILE (default: backups/orderdesk-YYYYmmdd-HHMMSS.dump)
# and prints its path. Consistent while the app runs (pg_dump reads one snapshot).
# Uploads in FILE_STORAGE=db live in the database and are included; with the filesystem
# storage, back up MEDIA_ROOT as well. Needs the PostgreSQL client tools (pg_dump).
set -euo pipefail

: "${DATABASE_URL:?set DATABASE_URL=postgres://user:pass@host:5432/dbname}"
case "$DATABASE_URL" in
    postgres://*|postgresql://*) ;;
    *) echo "backup.sh: DATABASE_URL is not PostgreSQL (${DATABASE_URL%%:*}); for SQLite copy the file" >&2; exit 2 ;;
esac

out="${1:-backups/orderdesk-$(date +%Y%m%d-%H%M%S).dump}"
mkdir -p "$(dirname "$out")"
pg_dump --format=custom --no-owner --no-privileges --file="$out.partial" "$DATABASE_URL"
mv "$out.partial" "$out"  # never leave a half-written archive under the final name
echo "$out"
