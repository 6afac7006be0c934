#!/usr/bin/env bash
# Real servers the tests start on free loopback ports, from Debian:
# redis-server (the Redis session store's tests) and prometheus (the metrics
# test scrapes the BFF with it). The packages start no service here (no
# systemd); the tests run their own, with no persistence, in temp dirs.
set -euo pipefail
missing=()
command -v redis-server >/dev/null || missing+=(redis-server)
command -v prometheus >/dev/null || missing+=(prometheus)
((${#missing[@]} == 0)) && exit 0

source "$(dirname "$0")/../lib/apt-install.sh"
apt_install "${missing[@]}"
