#!/usr/bin/env bash
# The real-browser test (dev/e2e/browser.test.mjs): headless Debian Chromium
# against the release build of the SPA, the BFF with its proxy, the example
# API and the real OpenID Connect provider, all on 127.0.0.1 with free ports.
# Screenshots and service logs go to artifacts/.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH="$PWD/dev/node_modules/.bin:$HOME/.cargo/bin:$PATH"

echo "    trunk build --release --offline"
trunk build --release --offline --quiet
echo "    cargo build (bff, example-api)"
cargo build --locked --quiet -p th-bff --bin bff -p th-example-api --bin example-api

mkdir -p artifacts
# The test runs in a process group of its own; whatever it started (servers,
# Chromium) is killed with the group at the end, even on failure.
setsid node --test --test-reporter=spec dev/e2e/browser.test.mjs &
group=$!
trap 'kill -TERM -- -"$group" 2>/dev/null || true; sleep 1; kill -KILL -- -"$group" 2>/dev/null || true' EXIT
wait "$group"
