#!/usr/bin/env bash
# The npm packages in dev/ (the OpenID Connect provider and friends), from the lock file.
set -euo pipefail
cd "$(dirname "$0")/../../dev"
stamp=node_modules/.lock-sha
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [[ -f $stamp && $(cat "$stamp") == "$want" ]]; then
  exit 0
fi
npm ci --no-audit --no-fund --loglevel=error
echo "$want" >"$stamp"
