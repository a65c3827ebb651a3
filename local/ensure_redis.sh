#!/usr/bin/env bash
# Redis for the local stack's CeleryExecutor (RCT_EXECUTOR=celery; tests/integration/test_celery.py):
# Debian's redis-server as the Celery broker. Installs it when it can (root with apt); otherwise
# says how, and fails.
set -euo pipefail
for candidate in "${RCT_REDIS_SERVER:-}" "$(command -v redis-server || true)"; do
    if [ -n "$candidate" ] && [ -x "$candidate" ]; then exit 0; fi
done
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing redis-server for the Celery broker (Debian package 'redis-server', once)..."
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q --no-install-recommends redis-server >/dev/null 2>&1 \
        || { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends redis-server >/dev/null; }
    command -v redis-server >/dev/null && exit 0
fi
echo "error: the Celery tests need redis-server and it could not be installed here." >&2
echo "       Install it (Debian/Ubuntu: sudo apt-get install -y redis-server), or set RCT_REDIS_SERVER=/path/to/redis-server." >&2
exit 1
