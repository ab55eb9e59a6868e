#!/usr/bin/env bash
# Install Debian's Noto CJK fonts (Chinese in the PDF forms and reports) when no font with
# Chinese glyphs is installed and we are allowed to (root, or passwordless sudo).
# Without one the PDFs are still produced, with empty boxes instead of Chinese.
set -u
if command -v fc-list >/dev/null 2>&1 && [ -n "$(fc-list :lang=zh family 2>/dev/null)" ]; then
    exit 0
fi
SUDO=""
if [ "$(id -u)" != "0" ]; then
    if sudo -n true 2>/dev/null; then SUDO="sudo -n"; else
        echo "No Chinese font is installed and it cannot be installed without root:" \
             "PDF forms will show boxes. Install fonts-noto-cjk." >&2
        exit 0
    fi
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "No Chinese font is installed; install Noto Sans/Serif CJK SC with your package manager." >&2
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null && \
$SUDO apt-get install -y -qq --no-install-recommends fontconfig fonts-noto-cjk >/dev/null || {
    echo "Could not install fonts-noto-cjk; PDF forms will show boxes instead of Chinese." >&2
    exit 0
}
