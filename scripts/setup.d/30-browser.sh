#!/usr/bin/env bash
# Debian's Chromium (and its driver) for the real-browser test
# (scripts/test.d/50-browser.sh drives it with npm playwright-core).
set -euo pipefail
missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v chromedriver >/dev/null || missing+=(chromium-driver)
((${#missing[@]} == 0)) && exit 0

source "$(dirname "$0")/../lib/apt-install.sh"
apt_install "${missing[@]}"
