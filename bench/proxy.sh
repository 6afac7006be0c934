#!/usr/bin/env bash
# Benchmark: the same small JSON upstream, measured three ways in one run on
# one machine, alternating A B C A B C:
#   direct  - the upstream itself
#   nginx   - nginx proxy_pass with upstream keepalive
#   ours    - th-proxy (the `proxy` binary) with a valid session cookie, so
#             every request decrypts the AES-256-GCM cookie
# The upstream is nginx answering a fixed JSON body (one worker), so it costs
# little and the difference between the three is the proxy.
#
# Prints requests/s, p50 and p99 latency per target, the ratios ours/nginx
# and ours/direct, and our proxy's peak RSS. Tools: oha (installed here with
# `cargo install oha --locked` when missing), nginx (apt).
#
# Environment: DURATION (s per run, default 10), CONNECTIONS (default 64),
# ROUNDS (default 3), WORKERS (proxy workers, both proxies; default 2),
# PROFILE=1 (perf record our proxy during one extra run, print the top).
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-64}
ROUNDS=${ROUNDS:-3}
WORKERS=${WORKERS:-2}
WARMUP=2
UP_PORT=${UP_PORT:-18480}
NGINX_PORT=${NGINX_PORT:-18481}
OURS_PORT=${OURS_PORT:-18482}

need() { command -v "$1" >/dev/null 2>&1; }
if ! need oha; then
  echo "==> installing oha (cargo install oha --locked, a few minutes)"
  cargo install oha --locked
fi
if ! need nginx; then
  echo "==> installing nginx (apt)"
  sudo_cmd=""; [[ $(id -u) -ne 0 ]] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq || true
  $sudo_cmd apt-get install -y nginx-light || $sudo_cmd apt-get install -y nginx
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

echo "==> building the proxy (release)"
cargo build --release --locked -p th-proxy --bin proxy --example session_cookie
TARGET_DIR=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
PROXY_BIN=${PROXY_BIN:-"$TARGET_DIR/release/proxy"}  # a symbolized build for PROFILE=1
COOKIE_BIN="$TARGET_DIR/release/examples/session_cookie"

WORK=$(mktemp -d /tmp/th-bench.XXXXXX)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
mkdir -p "$WORK/tmp"

nginx_common="
  daemon off;
  error_log $WORK/nginx-%s.err warn;
  pid $WORK/nginx-%s.pid;
  events { worker_connections 8192; }
"
temp_paths="
    access_log off;
    client_body_temp_path $WORK/tmp/body; proxy_temp_path $WORK/tmp/proxy;
    fastcgi_temp_path $WORK/tmp/fcgi; uwsgi_temp_path $WORK/tmp/uwsgi; scgi_temp_path $WORK/tmp/scgi;
    keepalive_requests 1000000;
"
# shellcheck disable=SC2059
{
  printf "worker_processes 1;\n$nginx_common" up up
  cat <<CONF
http {
  $temp_paths
  server {
    listen 127.0.0.1:$UP_PORT;
    location / {
      default_type application/json;
      return 200 '{"sub":"bench","scopes":["openid","api"],"ok":true}';
    }
  }
}
CONF
} >"$WORK/upstream.conf"
# shellcheck disable=SC2059
{
  printf "worker_processes $WORKERS;\n$nginx_common" proxy proxy
  cat <<CONF
http {
  $temp_paths
  upstream api {
    server 127.0.0.1:$UP_PORT;
    keepalive 256;
  }
  server {
    listen 127.0.0.1:$NGINX_PORT;
    location /api/example/ {
      proxy_pass http://api/;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Cookie "";
      proxy_set_header Authorization "Bearer bench-token";
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto \$scheme;
      proxy_set_header X-Forwarded-Host \$host;
    }
  }
}
CONF
} >"$WORK/nginx.conf"

KEY=$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')
cat >"$WORK/proxy.toml" <<CONF
listen = "127.0.0.1:$OURS_PORT"
workers = $WORKERS

[cors]
allowed_origins = ["http://127.0.0.1:8080"]

[cookies]
keys = [{ id = "bench", key = "$KEY" }]

[[proxy.routes]]
prefix = "/api/example"
upstream = "http://127.0.0.1:$UP_PORT"
CONF

"$NGINX" -c "$WORK/upstream.conf" -p "$WORK" & UP_PID=$!; PIDS+=($UP_PID)
"$NGINX" -c "$WORK/nginx.conf" -p "$WORK" & NGINX_PID=$!; PIDS+=($NGINX_PID)
RUST_LOG=warn "$PROXY_BIN" --config "$WORK/proxy.toml" & OURS_PID=$!; PIDS+=($OURS_PID)
COOKIE=$("$COOKIE_BIN" "$WORK/proxy.toml" "bench-opaque-access-token-0123456789abcdef")

wait_port() {
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "nothing listens on $1" >&2; exit 1
}
wait_port "$UP_PORT"; wait_port "$NGINX_PORT"; wait_port "$OURS_PORT"

# CPU time (clock ticks, user + system) of a process and its children's threads.
cpu_ticks() {
  local total=0 pid
  for pid in "$@" $(pgrep -P "$1" || true); do
    for stat in /proc/"$pid"/task/*/stat; do
      total=$((total + $(awk '{print $14 + $15}' "$stat" 2>/dev/null || echo 0)))
    done
  done
  echo "$total"
}
declare -A SERVER_PID=([direct]=$UP_PID [nginx]=$NGINX_PID [ours]=$OURS_PID)
TICKS=$(getconf CLK_TCK)

declare -A URL=(
  [direct]="http://127.0.0.1:$UP_PORT/things"
  [nginx]="http://127.0.0.1:$NGINX_PORT/api/example/things"
  [ours]="http://127.0.0.1:$OURS_PORT/api/example/things"
)
# Every target gets the same request; direct and nginx ignore the extras.
load() { # target seconds output
  oha --no-tui --output-format json -w -z "${2}s" -c "$CONNECTIONS" \
    -H "x-csrf: 1" -H "cookie: $COOKIE" -H "accept: application/json" \
    "${URL[$1]}" >"$3"
}

for target in direct nginx ours; do
  status=$(curl -s -o /dev/null -w '%{http_code}' -H "x-csrf: 1" -H "cookie: $COOKIE" "${URL[$target]}")
  [[ $status == 200 ]] || { echo "$target answered $status, not 200" >&2; exit 1; }
  load "$target" "$WARMUP" /dev/null
done

echo "==> $ROUNDS rounds x (direct, nginx, ours), ${DURATION}s each, $CONNECTIONS connections"
for round in $(seq "$ROUNDS"); do
  for target in direct nginx ours; do
    before=$(cpu_ticks "${SERVER_PID[$target]}")
    load "$target" "$DURATION" "$WORK/$target-$round.json"
    after=$(cpu_ticks "${SERVER_PID[$target]}")
    echo "$(( (after - before) * 1000000 / TICKS ))" >"$WORK/$target-$round.cpu_us"
    printf '  round %s %-6s %s req/s\n' "$round" "$target" \
      "$(python3 -c 'import json,sys; print(round(json.load(open(sys.argv[1]))["summary"]["requestsPerSec"]))' "$WORK/$target-$round.json")"
  done
done

PEAK_RSS_KB=$(awk '/VmHWM/ {print $2}' "/proc/$OURS_PID/status")

if [[ ${PROFILE:-0} == 1 ]] && command -v perf >/dev/null; then
  echo "==> perf: our proxy under load for ${DURATION}s"
  perf record -F 999 -p "$OURS_PID" -o "$WORK/perf.data" -- sleep "$DURATION" >/dev/null 2>&1 &
  perf_pid=$!
  load ours "$DURATION" /dev/null
  wait "$perf_pid" || true
  perf report -i "$WORK/perf.data" --sort dso --stdio 2>/dev/null | grep -v "^#" | grep -v "^$" | head -8
  perf report -i "$WORK/perf.data" --sort dso,symbol --stdio 2>/dev/null | grep -v "^#" | grep -v "^$" >"$WORK/perf.txt" || true
  head -40 "$WORK/perf.txt"
  if [[ -n ${PROFILE_OUT:-} ]]; then cp "$WORK/perf.txt" "$PROFILE_OUT"; fi
fi

python3 - "$WORK" "$ROUNDS" "$PEAK_RSS_KB" "$CONNECTIONS" "$DURATION" <<'PY'
import json, statistics, sys
work, rounds, rss_kb, conns, duration = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
def runs(target):
    return [json.load(open(f"{work}/{target}-{r}.json")) for r in range(1, rounds + 1)]
rows = {}
for target in ("direct", "nginx", "ours"):
    rs = runs(target)
    rps = statistics.median(r["summary"]["requestsPerSec"] for r in rs)
    p50 = statistics.median(r["latencyPercentiles"]["p50"] for r in rs) * 1000
    p99 = statistics.median(r["latencyPercentiles"]["p99"] for r in rs) * 1000
    ok = sum(r["statusCodeDistribution"].get("200", 0) for r in rs)
    bad = sum(v for r in rs for k, v in r["statusCodeDistribution"].items() if k != "200")
    errors = sum(sum(r.get("errorDistribution", {}).values()) for r in rs)
    cpu_us = statistics.median(
        int(open(f"{work}/{target}-{r}.cpu_us").read()) / json.load(open(f"{work}/{target}-{r}.json"))["summary"]["requestsPerSec"] / float(duration)
        for r in range(1, rounds + 1))
    rows[target] = (rps, p50, p99, ok, bad, errors, cpu_us)
print()
print(f"median of {rounds} rounds, {duration}s each, {conns} connections")
print(f"{'target':<8} {'req/s':>10} {'p50 ms':>9} {'p99 ms':>9} {'200s':>10} {'non-200':>8} {'errors':>7} {'server CPU us/req':>18}")
for t, (rps, p50, p99, ok, bad, err, cpu) in rows.items():
    print(f"{t:<8} {rps:>10.0f} {p50:>9.3f} {p99:>9.3f} {ok:>10} {bad:>8} {err:>7} {cpu:>18.1f}")
print("(server CPU: the upstream for direct; the proxy alone, without the upstream, for nginx and ours)")
d, n, o = rows["direct"], rows["nginx"], rows["ours"]
print()
print(f"throughput ours/nginx  {o[0] / n[0]:.2f}x")
print(f"throughput ours/direct {o[0] / d[0]:.2f}x  (nginx/direct {n[0] / d[0]:.2f}x)")
print(f"p99 added over direct: ours {o[2] - d[2]:+.3f} ms, nginx {n[2] - d[2]:+.3f} ms")
print(f"our proxy's peak RSS: {rss_kb / 1024:.1f} MiB")
PY
