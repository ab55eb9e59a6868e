#!/usr/bin/env bash
# Install Debian's Chromium, its driver and CJK fonts for the browser tests,
# when they are missing and we are allowed to (root, or passwordless sudo).
set -u
if [ -x /usr/bin/chromium ] && fc-list 2>/dev/null | grep -qi "cjk"; then
    exit 0
fi
SUDO=""
if [ "$(id -u)" != "0" ]; then
    if sudo -n true 2>/dev/null; then SUDO="sudo -n"; else
        echo "Chromium is missing and cannot be installed without root; browser tests will skip." >&2
        exit 0
    fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null && \
$SUDO apt-get install -y -qq chromium chromium-driver fonts-noto-cjk >/dev/null || {
    echo "Could not install Chromium; browser tests will fail in CI and skip elsewhere." >&2
    exit 0
}
