#!/usr/bin/env bash
# Starts a throwaway PostgreSQL server for the store tests and prints its URL (one line) on stdout.
#
#   export SAPPHIRE_TEST_PG_URL=$(bash scripts/start-postgres.sh)
#   node --import tsx --test test/store/postgres-store.test.ts
#   bash scripts/stop-postgres.sh
#
# Port: PGPORT (default 55432). Data: ${TMPDIR:-/tmp}/sapphire-pg-$PGPORT (override with SAPPHIRE_PG_DIR).
# Listens on 127.0.0.1 only, trusts local connections, runs with fsync off: for tests, never for data.
# Idempotent: when a server already answers on the port, it only makes sure the database exists.
# Logs go to stderr so that stdout carries nothing but the URL.
set -euo pipefail

port="${PGPORT:-55432}"
datadir="${SAPPHIRE_PG_DIR:-${TMPDIR:-/tmp}/sapphire-pg-${port}}"
database="sapphire_test"
url="postgres://postgres@127.0.0.1:${port}/${database}"

log() { echo "start-postgres: $*" >&2; }
die() {
  log "error: $*"
  exit 1
}

# Newest PostgreSQL binaries found (Debian layout), else whatever is on PATH.
bindir=""
for dir in /usr/lib/postgresql/*/bin; do
  [ -x "${dir}/pg_ctl" ] || continue
  if [ -z "$bindir" ] || [ "$(basename "$(dirname "$dir")")" -gt "$(basename "$(dirname "$bindir")")" ] 2>/dev/null; then
    bindir="$dir"
  fi
done
if [ -z "$bindir" ]; then
  command -v pg_ctl >/dev/null || die "no PostgreSQL binaries found (looked in /usr/lib/postgresql/*/bin and PATH); install postgresql"
  bindir="$(dirname "$(command -v pg_ctl)")"
fi
log "using ${bindir}"

# PostgreSQL refuses to run as root: run its tools as the postgres user in that case.
as_pg() {
  if [ "$(id -u)" = "0" ]; then
    id postgres >/dev/null 2>&1 || die "running as root but there is no 'postgres' user to run the server as"
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

ready() { "${bindir}/pg_isready" -q -h 127.0.0.1 -p "$port" >/dev/null 2>&1; }

ensure_database() {
  local exists
  exists="$(as_pg "${bindir}/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -tAc \
    "select 1 from pg_database where datname = '${database}'")" ||
    die "cannot query the server on 127.0.0.1:${port} as user postgres (is it a server this script started?)"
  if [ "$exists" != "1" ]; then
    as_pg "${bindir}/createdb" -h 127.0.0.1 -p "$port" -U postgres "$database" >&2
    log "created database ${database}"
  fi
}

if ready; then
  log "a server already answers on 127.0.0.1:${port}; reusing it"
  ensure_database
  echo "$url"
  exit 0
fi

if [ ! -f "${datadir}/PG_VERSION" ]; then
  log "initialising ${datadir}"
  mkdir -p "$datadir"
  [ "$(id -u)" = "0" ] && chown postgres: "$datadir"
  chmod 700 "$datadir"
  as_pg "${bindir}/initdb" -D "$datadir" -U postgres -A trust -E UTF8 --locale=C --no-sync --no-instructions >&2 ||
    die "initdb failed for ${datadir}"
fi

log "starting on 127.0.0.1:${port} (log: ${datadir}/server.log)"
as_pg "${bindir}/pg_ctl" -D "$datadir" -l "${datadir}/server.log" -w -t 60 \
  -o "-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='${datadir}' -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
  start >&2 || {
  tail -n 20 "${datadir}/server.log" >&2 || true
  die "the server did not start; see ${datadir}/server.log"
}

for _ in $(seq 1 60); do
  ready && break
  sleep 0.5
done
ready || die "the server started but does not accept connections on 127.0.0.1:${port}"

ensure_database
log "ready"
echo "$url"
