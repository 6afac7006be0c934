#!/usr/bin/env bash
# Real servers the tests start on free loopback ports, from Debian:
# redis-server (the Redis session store's tests). The package starts no
# service here (no systemd); the tests run their own with no persistence.
set -euo pipefail
missing=()
command -v redis-server >/dev/null || missing+=(redis-server)
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
