#!/bin/sh
# Chromium for the browser tests (Playwright drives the system's browser: it cannot
# download its own here). Nothing to do when one is found; on Debian it is installed with
# apt-get (as root, or through sudo); anywhere else this says what to install and fails.
set -eu

if [ -n "${KTRDR_CHROMIUM:-}" ]; then
    [ -x "$KTRDR_CHROMIUM" ] && exit 0
    echo "KTRDR_CHROMIUM=$KTRDR_CHROMIUM is not an executable file" >&2
    exit 1
fi
for name in chromium chromium-browser google-chrome google-chrome-stable; do
    if command -v "$name" >/dev/null 2>&1; then
        exit 0
    fi
done
if ! command -v apt-get >/dev/null 2>&1; then
    echo "The browser tests need Chromium: install it (Debian: apt-get install chromium)" \
        "or point KTRDR_CHROMIUM at a Chromium or Chrome binary." >&2
    exit 1
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
    sudo="sudo"
fi
echo "installing Chromium with apt-get (for the browser tests)"
started=$(date +%s)
$sudo apt-get -o DPkg::Lock::Timeout=600 update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
    --no-install-recommends chromium >/dev/null
echo "Chromium installed in $(($(date +%s) - started)) s: $(command -v chromium)"
