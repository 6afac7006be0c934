#!/usr/bin/env bash
# The BFF's own costs, provider excluded: CPU per login (start + end), per
# GET /bff/session and per POST /bff/refresh, and RSS idle and with 1,000
# idle keep-alive connections, against the real provider (dev/provider.mjs)
# on loopback. Prints a Markdown table (the one in docs/benchmarks.md).
#
# Environment: LOGINS (default 300).
set -euo pipefail
cd "$(dirname "$0")/.."
LOGINS=${LOGINS:-300}

[[ -d dev/node_modules ]] || bash scripts/setup.d/20-node.sh
echo "==> building the bff (release) and the measuring client" >&2
cargo build --release --locked --quiet -p th-bff --bin bff -p th-testkit --example bff_costs
TARGET_DIR=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
# 1,000 idle connections need more descriptors than the usual 1,024 soft limit.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || ulimit -n 4096 || true
echo "==> measuring ($LOGINS logins)" >&2
"$TARGET_DIR/release/examples/bff_costs" "$TARGET_DIR/release/bff" "$LOGINS"
