#!/usr/bin/env bash
# Installs everything the stack and the tests need, idempotently: each step
# in scripts/setup.d/ skips what is already there, so a warm machine is fast.
#   scripts/setup.sh         everything (the tests need it all)
#   scripts/setup.sh --dev   without the deployment checks' tools (scripts/dev.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
for step in scripts/setup.d/*.sh; do
  if [[ ${1:-} == --dev && $(basename "$step") == 6* ]]; then
    continue
  fi
  echo "==> setup: $(basename "$step") (at ${SECONDS}s)"
  bash "$step"
done
