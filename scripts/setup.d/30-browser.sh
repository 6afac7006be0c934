#!/usr/bin/env bash
# Debian's Chromium (and its driver) for the real-browser test
# (scripts/test.d/50-browser.sh drives it with npm playwright-core).
set -euo pipefail
missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v chromedriver >/dev/null || missing+=(chromium-driver)
((${#missing[@]} == 0)) && exit 0

if [[ $(id -u) -eq 0 ]]; then
  sudo=()
elif command -v sudo >/dev/null; then
  sudo=(sudo)
else
  echo "    ERROR: ${missing[*]} missing; install them with apt-get as root" >&2
  exit 1
fi
echo "    installing ${missing[*]} from Debian"
"${sudo[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
