#!/usr/bin/env bash
# The concurrency storm at full size: BROWSERS (default 200) simulated
# browsers at once, each signing in through the real provider's forms,
# calling the example API through the BFF, refreshing (access tokens live
# 8 s; each browser also refreshes from two tabs at once) and half of them
# signing out; on the cookie store, then the Redis store. Fails on any 5xx,
# a wrong `sub`, a refresh refused (a replayed refresh token), or a browser
# not ending as its actions say. CI runs the same test with 40
# (`TH_STORM_BROWSERS`'s default) as part of `cargo test`.
#
# Environment: BROWSERS (200), STORES ("cookie redis"),
# TH_STORM_REDIS_TIMEOUT_MS (redis.timeout_ms for the Redis run; unset: the
# setting's default, 500 ms). The test binary is the dev profile, as CI's:
# everything (the browsers, the BFF, the example API) shares one process on
# this machine's cores with the provider, so latencies are the load's.
set -euo pipefail
cd "$(dirname "$0")/.."
BROWSERS=${BROWSERS:-200}
[[ -d dev/node_modules ]] || bash scripts/setup.d/20-node.sh
[[ " ${STORES:-cookie redis} " == *" redis "* ]] && bash scripts/setup.d/35-servers.sh
status=0
for store in ${STORES:-cookie redis}; do
  echo "==> storm: $BROWSERS browsers, $store store" >&2
  TH_TEST_SESSION_STORE=$store TH_STORM_BROWSERS=$BROWSERS \
    cargo test --locked --quiet -p th-bff --test api storm -- --nocapture --test-threads 1 || status=1
done
exit $status
