#!/usr/bin/env bash
# Stops the Redis server started by scripts/start-redis.sh (REDIS_PORT, else the port it remembered).
set -euo pipefail
port="${REDIS_PORT:-$(cat "${TMPDIR:-/tmp}/sapphire-redis.port" 2>/dev/null || true)}"
[ -n "$port" ] || {
  echo "stop-redis: no port given (REDIS_PORT) or remembered; nothing to stop" >&2
  exit 0
}
if redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null | grep -q PONG; then
  redis-cli -h 127.0.0.1 -p "$port" shutdown nosave >/dev/null 2>&1 || true
  echo "stop-redis: stopped the server on 127.0.0.1:${port}" >&2
else
  echo "stop-redis: no server answers on 127.0.0.1:${port}" >&2
fi
rm -rf "${SAPPHIRE_REDIS_DIR:-${TMPDIR:-/tmp}/sapphire-redis-${port}}"
