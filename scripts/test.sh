#!/usr/bin/env bash
# The whole test suite: set-up, format, lints, every crate's tests, then the
# suites in scripts/test.d/ (browser, deployment). CI runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
# CI builds once from a clean clone: incremental caches would only take disk
# (several GB across the test binaries) and never be read again.
if [[ ${CI:-} == true ]]; then export CARGO_INCREMENTAL=0; fi
scripts/setup.sh
echo "==> cargo fmt --check (at ${SECONDS}s)"
cargo fmt --all -- --check
echo "==> cargo clippy (at ${SECONDS}s)"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "==> cargo test (at ${SECONDS}s)"
cargo test --workspace --locked
echo "==> cargo test: the BFF's API suite again, on the Redis session store (at ${SECONDS}s)"
TH_TEST_SESSION_STORE=redis cargo test --locked -p th-bff --test api
for suite in scripts/test.d/*.sh; do
  [[ -e $suite ]] || continue
  echo "==> test: $(basename "$suite") (at ${SECONDS}s)"
  bash "$suite"
done
echo "==> all tests passed in ${SECONDS}s"
