#!/usr/bin/env bash
# The release `bff`'s memory with metrics off and on: RSS idle after start,
# then after a short load over several routes (an API call through the
# proxy, GET /bff/session, GET /healthz, unknown paths), scraped every 5 s
# as Prometheus would, and once more after QUIET seconds without load;
# VmRSS and VmHWM (the peak) from /proc. Alternates off and on (A B A B),
# a fresh process each time.
#
# Short on purpose (REQUESTS per route, default 20000): it compares builds
# and settings on one machine, it is not a throughput benchmark. The
# upstream is nginx answering a fixed JSON body; the session cookie comes
# from the `bench_session` example (no provider; the BFF starts without
# one, and neither /api nor /bff/session asks it).
#
# Environment: REQUESTS (default 20000), CONNECTIONS (default 64), ROUNDS
# (default 2), QUIET (s, default 15), BFF_BIN (default target/release/bff,
# built when missing), MODES (default "off on").
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/common.sh
source bench/common.sh

REQUESTS=${REQUESTS:-20000}
CONNECTIONS=${CONNECTIONS:-64}
ROUNDS=${ROUNDS:-2}
QUIET=${QUIET:-15}
MODES=${MODES:-off on}
NGINX=${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}

TARGET_DIR=$(target_dir)
BFF_BIN=${BFF_BIN:-"$TARGET_DIR/release/bff"}
[[ -x $BFF_BIN ]] || cargo build --release --locked -p th-bff --bin bff
# The cookie is what matters, not how fast it was made: a debug build.
cargo build --locked -p th-bff --example bench_session
SESSION_BIN="$TARGET_DIR/debug/examples/bench_session"

make_work

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
UP_PORT=$(free_port)
BFF_PORT=$(free_port)
METRICS_PORT=$(free_port)

upstream_server "$UP_PORT" | nginx_conf up 1 >"$WORK/upstream.conf"
"$NGINX" -c "$WORK/upstream.conf" -p "$WORK" & PIDS+=("$!")

KEY=$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')
bff_toml "$BFF_PORT" cookie no >"$WORK/bff-off.toml"
{ cat "$WORK/bff-off.toml"; metrics_toml "$METRICS_PORT"; } >"$WORK/bff-on.toml"
COOKIE=$("$SESSION_BIN" "$WORK/bff-off.toml" "bench-opaque-access-token-0123456789abcdef")

wait_port "$UP_PORT"

kib() { awk -v k="$1" '$1 == k":" {print $2}' "/proc/$2/status"; }
mib() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }
load() { # url [extra oha args]
  local url=$1; shift
  oha --no-tui --output-format json -n "$REQUESTS" -c "$CONNECTIONS" \
    -H "x-csrf: 1" -H "cookie: $COOKIE" -H "accept: application/json" "$@" "$url" |
    python3 -c 'import json,sys; print(round(json.load(sys.stdin)["summary"]["requestsPerSec"]))'
}

printf '%-6s %-5s %10s %10s %10s %10s  %s\n' round mode "idle MiB" "after MiB" "peak MiB" "quiet MiB" "req/s (api/session/healthz/unknown)"
for round in $(seq "$ROUNDS"); do
  for mode in $MODES; do
    RUST_LOG=warn "$BFF_BIN" --config "$WORK/bff-$mode.toml" 2>"$WORK/bff-$mode.log" & pid=$!; PIDS+=("$pid")
    wait_port "$BFF_PORT"
    status=$(curl -s -o /dev/null -w '%{http_code}' -H "x-csrf: 1" -H "cookie: $COOKIE" "http://127.0.0.1:$BFF_PORT/api/example/things")
    [[ $status == 200 ]] || { echo "the BFF answered $status, not 200" >&2; exit 1; }
    sleep 1
    idle=$(kib VmRSS "$pid")
    scraper=""
    if [[ $mode == on ]]; then
      (while sleep 5; do curl -s -o /dev/null "http://127.0.0.1:$METRICS_PORT/metrics"; done) & scraper=$!
    fi
    rates=$(load "http://127.0.0.1:$BFF_PORT/api/example/things")
    rates+=/$(load "http://127.0.0.1:$BFF_PORT/bff/session")
    rates+=/$(load "http://127.0.0.1:$BFF_PORT/healthz")
    rates+=/$(load "http://127.0.0.1:$BFF_PORT/unknown/[a-z]{8}" --rand-regex-url)
    [[ -z $scraper ]] || curl -s -o /dev/null "http://127.0.0.1:$METRICS_PORT/metrics"
    after=$(kib VmRSS "$pid")
    sleep "$QUIET"
    quiet=$(kib VmRSS "$pid")
    peak=$(kib VmHWM "$pid")
    [[ -z $scraper ]] || kill "$scraper"
    kill "$pid"; wait "$pid" 2>/dev/null || true
    printf '%-6s %-5s %10s %10s %10s %10s  %s\n' "$round" "$mode" \
      "$(mib "$idle")" "$(mib "$after")" "$(mib "$peak")" "$(mib "$quiet")" "$rates"
  done
done
echo "requests per route: $REQUESTS, connections: $CONNECTIONS; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
