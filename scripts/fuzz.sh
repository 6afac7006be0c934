#!/usr/bin/env bash
# Coverage-guided fuzzing (libFuzzer, through the crate libfuzzer-sys) of the
# sealed-cookie decoder and the request-cookie reader: fuzz/fuzz_targets/.
# Builds the targets with the flags `cargo fuzz build --sanitizer none -O`
# uses, on the stable toolchain (no sanitizer needs nightly; `cargo install
# cargo-fuzz` then `cargo fuzz run --sanitizer none <target>` works as well),
# and runs each for FUZZ_SECS seconds (default 300) from its committed corpus
# (fuzz/corpus/<target>), without changing it: new inputs go to a temporary
# folder. MERGE=1 merges the inputs that add coverage into the committed
# corpus. A crash fails the script and leaves its input in
# target/fuzz-artifacts/<target>/; each becomes a regression test.
#
# Environment: FUZZ_SECS (300), TARGETS (every one), MERGE (0).
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZ_SECS=${FUZZ_SECS:-300}
TARGETS=${TARGETS:-"sealed_open request_cookies"}
triple=$(rustc -vV | sed -n 's/^host: //p')
export CARGO_TARGET_DIR=$PWD/target/fuzz
flags=(
  -Cpasses=sancov-module
  -Cllvm-args=-sanitizer-coverage-level=4
  -Cllvm-args=-sanitizer-coverage-inline-8bit-counters
  -Cllvm-args=-sanitizer-coverage-pc-table
  -Cllvm-args=-sanitizer-coverage-trace-compares
  --cfg fuzzing
  -Cllvm-args=-simplifycfg-branch-fold-threshold=0
  -Cllvm-args=-sanitizer-coverage-stack-depth
  -Ccodegen-units=1
  -Cdebug-assertions
  -Coverflow-checks
)
echo "==> building the fuzz targets ($triple)" >&2
# --target: the flags reach the targets and their dependencies, not build
# scripts or proc macros. Not --locked: fuzz/Cargo.lock keeps its versions,
# and gains whatever th-cookies comes to need without anyone remembering
# this second lock file.
RUSTFLAGS="${flags[*]}" cargo build --release --quiet \
  --manifest-path fuzz/Cargo.toml --target "$triple" --bins
status=0
for t in $TARGETS; do
  corpus=fuzz/corpus/$t
  fresh=$(mktemp -d)
  artifacts=target/fuzz-artifacts/$t/
  mkdir -p "$corpus" "$artifacts"
  echo "==> fuzz $t for ${FUZZ_SECS}s ($(find "$corpus" -type f | wc -l) inputs in its corpus)" >&2
  if ! "$CARGO_TARGET_DIR/$triple/release/$t" -max_total_time="$FUZZ_SECS" -max_len=4096 \
    -artifact_prefix="$artifacts" -print_final_stats=1 "$fresh" "$corpus" 2> "target/fuzz-$t.log"; then
    status=1
    echo "FAIL $t: a crash; its input is in $artifacts" >&2
    tail -n 40 "target/fuzz-$t.log" >&2
  else
    grep -E "stat::number_of_executed_units|cov:" "target/fuzz-$t.log" | tail -n 2 >&2
    echo "ok   $t: $(sed -n 's/^stat::number_of_executed_units: *//p' "target/fuzz-$t.log") runs, no crash" >&2
  fi
  if [[ ${MERGE:-0} == 1 ]]; then
    "$CARGO_TARGET_DIR/$triple/release/$t" -merge=1 -max_len=4096 "$corpus" "$fresh" 2>/dev/null
  fi
  rm -rf "$fresh"
done
exit $status
