#!/usr/bin/env bash
# A bounded soak of the release bff: mixed traffic (sign-ins through the
# real provider's forms, session reads, API calls with bodies through the
# proxy route to the example API, refreshes, logouts, and bad inputs) from
# SOAK_BROWSERS browsers for DURATION seconds; RSS, open descriptors and
# latency sampled every SOAK_SAMPLE_SECS; then SIGTERM with calls in flight.
# Fails on any 5xx, RSS growth over 10 % after the warm-up, descriptor
# growth, p99 drift over 50 %, or an unclean shutdown (the checks are
# described in testkit/examples/soak.rs). Writes samples.csv, report.md and
# soak.png (RSS and p99 over time) to OUT.
#
# Environment: DURATION (seconds, default 900), OUT (default target/soak),
# SOAK_REFRESH_GRACE_SECS (30),
# SOAK_BROWSERS (16), SOAK_SAMPLE_SECS (5), SOAK_WARMUP_SECS (a fifth of the
# run, at least 10), SOAK_STORE (cookie or redis), PROFILE (release; CI uses
# a quicker one, see scripts/test.d/45-soak.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-900}
OUT=${OUT:-target/soak}
PROFILE=${PROFILE:-release}

[[ -d dev/node_modules ]] || bash scripts/setup.d/20-node.sh
echo "==> building bff and example-api ($PROFILE) and the soak driver" >&2
profile_args=(--profile "$PROFILE")
cargo build --locked --quiet "${profile_args[@]}" -p th-bff --bin bff -p th-example-api --bin example-api
cargo build --locked --quiet -p th-testkit --example soak
TARGET_DIR=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
bin_dir=$TARGET_DIR/$PROFILE
[[ $PROFILE == dev ]] && bin_dir=$TARGET_DIR/debug
mkdir -p "$OUT"
status=0
"$TARGET_DIR/debug/examples/soak" "$bin_dir/bff" "$bin_dir/example-api" "$DURATION" "$OUT" || status=$?
warmup=${SOAK_WARMUP_SECS:-$(( DURATION / 5 > 10 ? DURATION / 5 : 10 ))}
if [[ -s $OUT/samples.csv ]]; then
  if /usr/bin/python3 -c 'import matplotlib' 2>/dev/null; then
    /usr/bin/python3 bench/soak_plot.py "$OUT/samples.csv" "$OUT/soak.png" "$warmup" \
      "BFF soak: ${DURATION} s, ${SOAK_BROWSERS:-16} browsers, ${SOAK_STORE:-cookie} store ($PROFILE)"
    echo "==> plot: $OUT/soak.png" >&2
  else
    echo "==> no plot: python3-matplotlib is missing (scripts/setup.d/45-plot.sh)" >&2
  fi
fi
exit "$status"
