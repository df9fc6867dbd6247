#!/usr/bin/env bash
# Starts a throwaway Redis server for the queue tests and prints its URL (one line) on stdout.
#
#   export SAPPHIRE_TEST_REDIS_URL=$(bash scripts/start-redis.sh)
#   node scripts/run-tests.mjs test/jobs/queue.test.ts
#   bash scripts/stop-redis.sh
#
# Port: REDIS_PORT (default: a free port picked at random in 56000-56999). Data: ${TMPDIR:-/tmp}/sapphire-redis-$port
# (override with SAPPHIRE_REDIS_DIR). Listens on 127.0.0.1 only, no persistence: for tests, never for data.
# Idempotent: when a server already answers on the given port, it is reused. The port of the last server started
# is remembered in ${TMPDIR:-/tmp}/sapphire-redis.port so that stop-redis.sh finds it without REDIS_PORT.
# Logs go to stderr so that stdout carries nothing but the URL.
set -euo pipefail

log() { echo "start-redis: $*" >&2; }
die() {
  log "error: $*"
  exit 1
}

command -v redis-server >/dev/null || die "redis-server not found; install Debian's redis-server package"
command -v redis-cli >/dev/null || die "redis-cli not found; install Debian's redis-tools package"

ready() { redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null | grep -q PONG; }
in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

port="${REDIS_PORT:-}"
if [ -z "$port" ]; then
  for _ in $(seq 1 50); do
    candidate=$((56000 + RANDOM % 1000))
    if ! in_use "$candidate"; then
      port="$candidate"
      break
    fi
  done
  [ -n "$port" ] || die "no free port found in 56000-56999; set REDIS_PORT"
fi
url="redis://127.0.0.1:${port}"
datadir="${SAPPHIRE_REDIS_DIR:-${TMPDIR:-/tmp}/sapphire-redis-${port}}"
echo "$port" >"${TMPDIR:-/tmp}/sapphire-redis.port"

if ready "$port"; then
  log "a server already answers on 127.0.0.1:${port}; reusing it"
  echo "$url"
  exit 0
fi

mkdir -p "$datadir"
log "starting on 127.0.0.1:${port} (log: ${datadir}/server.log)"
redis-server --bind 127.0.0.1 --port "$port" --protected-mode yes --save '' --appendonly no \
  --dir "$datadir" --pidfile "${datadir}/redis.pid" --logfile "${datadir}/server.log" \
  --daemonize yes --maxmemory-policy noeviction >&2 || die "redis-server did not start; see ${datadir}/server.log"

for _ in $(seq 1 50); do
  ready "$port" && break
  sleep 0.1
done
ready "$port" || {
  tail -n 20 "${datadir}/server.log" >&2 || true
  die "the server started but does not answer on 127.0.0.1:${port}"
}
log "ready"
echo "$url"
