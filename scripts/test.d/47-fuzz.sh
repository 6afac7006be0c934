#!/usr/bin/env bash
# The fuzz targets (scripts/fuzz.sh: the sealed-cookie decoder and the
# request-cookie reader, libFuzzer on the stable toolchain) for 30 s each
# from their committed corpus; a longer run is `FUZZ_SECS=3600 scripts/fuzz.sh`.
set -euo pipefail
cd "$(dirname "$0")/../.."
FUZZ_SECS=${FUZZ_CI_SECS:-30} bash scripts/fuzz.sh
