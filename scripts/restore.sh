#!/usr/bin/env bash
# Restore a backup into a FRESH database: scripts/restore.sh FILE [TARGET_DATABASE_URL]
#
# TARGET defaults to $DATABASE_URL. The target database is created when it does not
# exist; it must hold no tables (the script refuses otherwise, so a restore never mixes
# into live data). The archive is restored in one transaction: all or nothing. Then
# point DATABASE_URL at it and start the app (`manage.py migrate` applies any newer
# migrations). Needs the PostgreSQL client tools (psql, pg_restore).
set -euo pipefail

file="${1:?usage: scripts/restore.sh FILE [TARGET_DATABASE_URL]}"
target="${2:-${DATABASE_URL:?set DATABASE_URL or pass the target database URL}}"
[[ -r "$file" ]] || { echo "restore.sh: cannot read $file" >&2; exit 2; }
case "$target" in
    postgres://*|postgresql://*) ;;
    *) echo "restore.sh: the target is not a PostgreSQL URL" >&2; exit 2 ;;
esac

base="${target%%\?*}"                # without ?options
name="${base##*/}"                   # the database name
admin="${base%/*}/postgres"          # the server's maintenance database
[[ "$target" == *\?* ]] && admin="$admin?${target#*\?}"
[[ "$name" =~ ^[A-Za-z0-9_]+$ ]] || { echo "restore.sh: unexpected database name '$name'" >&2; exit 2; }

if [[ -z "$(psql "$admin" -Atqc "select 1 from pg_database where datname = '$name'")" ]]; then
    psql "$admin" -qc "create database \"$name\"" >/dev/null
    echo "restore.sh: created database $name" >&2
fi
tables="$(psql "$target" -Atqc "select count(*) from information_schema.tables where table_schema = 'public'")"
if [[ "$tables" != "0" ]]; then
    echo "restore.sh: database $name already holds $tables tables; restore into a fresh one" >&2
    exit 3
fi
pg_restore --no-owner --no-privileges --exit-on-error --single-transaction --dbname="$target" "$file"
echo "restore.sh: restored $file into $name" >&2
