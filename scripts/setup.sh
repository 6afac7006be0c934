#!/usr/bin/env bash
# Installs everything the stack and the tests need, idempotently: each step
# in scripts/setup.d/ skips what is already there, so a warm machine is fast.
set -euo pipefail
cd "$(dirname "$0")/.."
for step in scripts/setup.d/*.sh; do
  echo "==> setup: $(basename "$step")"
  bash "$step"
done
