#!/usr/bin/env bash
# The soak's 60-second version (bench/soak.sh: mixed traffic with bad inputs,
# RSS, descriptors and p99 sampled, then SIGTERM with calls in flight) on
# the binaries `cargo test` already built (the dev profile: a release build
# with LTO would add minutes on CI's 2 cores; bench/soak.sh defaults to it).
# A 2 s refresh grace, so that the refreshes the BFF keeps for it reach their
# steady state within the 15 s warm-up.
set -euo pipefail
cd "$(dirname "$0")/../.."
DURATION=${SOAK_CI_SECS:-60} PROFILE=dev OUT=target/soak-ci SOAK_WARMUP_SECS=15 \
  SOAK_SAMPLE_SECS=3 SOAK_REFRESH_GRACE_SECS=2 bash bench/soak.sh
