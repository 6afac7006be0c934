#!/usr/bin/env bash
# The soak's 60-second version (bench/soak.sh: mixed traffic with bad inputs,
# RSS, descriptors and p99 sampled, then SIGTERM with calls in flight) on
# the binaries `cargo test` already built (the dev profile: a release build
# with LTO would add minutes on CI's 2 cores; bench/soak.sh defaults to it).
set -euo pipefail
cd "$(dirname "$0")/../.."
DURATION=${SOAK_CI_SECS:-60} PROFILE=dev OUT=target/soak-ci SOAK_WARMUP_SECS=15 bash bench/soak.sh
