#!/usr/bin/env bash
# The SPA's build tools, from crates.io, at the versions Trunk.toml names:
# - trunk 0.21.14 (--locked: the newest Trunk needs a newer rustc; ~7 min)
# - wasm-bindgen-cli at exactly the wasm-bindgen in Cargo.lock (without
#   --locked: its lock file pins a webpki-roots the registry no longer has)
# wasm-opt comes from npm binaryen (dev/package.json, scripts/setup.d/20-node.sh).
# Each is skipped when the right version is already installed.
set -euo pipefail
cd "$(dirname "$0")/../.."

trunk_version=0.21.14
if [[ $(trunk --version 2>/dev/null) != "trunk $trunk_version" ]]; then
  echo "    installing trunk $trunk_version"
  cargo install trunk --version "$trunk_version" --locked --quiet
fi

# The version after `name = "wasm-bindgen"` in Cargo.lock.
bindgen_version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
if [[ -z $bindgen_version ]]; then
  echo "    ERROR: no wasm-bindgen in Cargo.lock" >&2
  exit 1
fi
if ! grep -q "\"$bindgen_version\"" Trunk.toml; then
  echo "    ERROR: Trunk.toml [tools] wasm_bindgen is not $bindgen_version (Cargo.lock)" >&2
  exit 1
fi
if [[ $(wasm-bindgen --version 2>/dev/null) != "wasm-bindgen $bindgen_version" ]]; then
  echo "    installing wasm-bindgen-cli $bindgen_version"
  cargo install wasm-bindgen-cli --version "$bindgen_version" --force --quiet
fi
