#!/usr/bin/env bash
# Rust components and targets (rustup reaches its own registry here).
set -euo pipefail
installed=$(rustup component list --installed)
for c in rustfmt clippy; do
  grep -q "^$c" <<<"$installed" || rustup component add "$c"
done
targets=$(rustup target list --installed)
for t in wasm32-unknown-unknown; do
  grep -qx "$t" <<<"$targets" || rustup target add "$t"
done
