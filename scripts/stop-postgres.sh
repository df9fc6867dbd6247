#!/usr/bin/env bash
# Stops the throwaway PostgreSQL server started by scripts/start-postgres.sh and deletes its data.
#
#   bash scripts/stop-postgres.sh          # stop and delete the data folder
#   bash scripts/stop-postgres.sh --keep   # stop, keep the data folder
#
# Uses the same PGPORT / SAPPHIRE_PG_DIR as start-postgres.sh. Succeeds when nothing is running.
set -euo pipefail

port="${PGPORT:-55432}"
datadir="${SAPPHIRE_PG_DIR:-${TMPDIR:-/tmp}/sapphire-pg-${port}}"
keep=false
[ "${1:-}" = "--keep" ] && keep=true

log() { echo "stop-postgres: $*" >&2; }

bindir=""
for dir in /usr/lib/postgresql/*/bin; do
  [ -x "${dir}/pg_ctl" ] || continue
  if [ -z "$bindir" ] || [ "$(basename "$(dirname "$dir")")" -gt "$(basename "$(dirname "$bindir")")" ] 2>/dev/null; then
    bindir="$dir"
  fi
done
[ -n "$bindir" ] || bindir="$(dirname "$(command -v pg_ctl || echo /usr/bin/pg_ctl)")"

as_pg() {
  if [ "$(id -u)" = "0" ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

if [ ! -f "${datadir}/PG_VERSION" ]; then
  log "no data folder at ${datadir}; nothing to stop"
  exit 0
fi

if [ -f "${datadir}/postmaster.pid" ]; then
  log "stopping the server in ${datadir}"
  as_pg "${bindir}/pg_ctl" -D "$datadir" -m fast -w -t 60 stop >&2 || log "pg_ctl stop failed (already stopped?)"
else
  log "the server in ${datadir} is not running"
fi

if [ "$keep" = false ]; then
  rm -rf -- "$datadir"
  log "deleted ${datadir}"
fi
