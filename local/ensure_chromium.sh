#!/usr/bin/env bash
# Chromium for the UI backfill test (tests/integration/test_ui_backfill.py): Debian's package,
# driven by Playwright through executable_path (Playwright's own browser download is not
# possible offline). Installs it when it can (root with apt); otherwise says how, and fails.
set -euo pipefail
for candidate in "${RCT_CHROMIUM:-}" "$(command -v chromium || true)" "$(command -v chromium-browser || true)"; do
    if [ -n "$candidate" ] && [ -x "$candidate" ]; then exit 0; fi
done
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing Chromium for the browser test (Debian package 'chromium', once)..."
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q chromium >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; }
    command -v chromium >/dev/null && exit 0
fi
echo "error: the UI backfill test needs Chromium and it could not be installed here." >&2
echo "       Install it (Debian/Ubuntu: sudo apt-get install -y chromium), or set RCT_CHROMIUM=/path/to/chromium." >&2
exit 1
