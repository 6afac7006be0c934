#!/usr/bin/env bash
# Real servers the tests start on free loopback ports, from Debian:
# redis-server (the Redis session store's tests). The package starts no
# service here (no systemd); the tests run their own with no persistence.
set -euo pipefail
missing=()
command -v redis-server >/dev/null || missing+=(redis-server)
((${#missing[@]} == 0)) && exit 0

source "$(dirname "$0")/../lib/apt-install.sh"
apt_install "${missing[@]}"
