#!/usr/bin/env bash
# Benchmark: the same small JSON upstream, measured several ways in one run
# on one machine, alternating the targets (A B C ... A B C ...):
#   direct          - the upstream itself
#   nginx           - nginx proxy_pass with upstream keepalive
#   ours            - th-proxy (the `proxy` binary) with a valid session
#                     cookie, so every request decrypts the AES-256-GCM cookie
#   bff-cookie      - the BFF (`bff` binary, which mounts the same proxy
#                     routes), cookie store, no [redis]
#   bff-cookie-deny - the same with [redis]: every /api request also asks
#                     Redis whether the session was ended (the deny-list)
#   bff-redis       - the BFF with session.store = "redis": the browser sends
#                     only the session-key cookie, the tokens come from Redis
#   ours-metrics    - ours with [metrics] listen set: every request counted
#                     and timed (route, status class, upstream, cookie key)
#   bff-cookie-metrics - bff-cookie with [metrics] listen set
# The metrics targets are scraped every 5 s during the run, as Prometheus would.
# The upstream is nginx answering a fixed JSON body (one worker), so it costs
# little and the difference between the targets is the proxy. The BFF's
# sessions are written through its own store code by the `bench_session`
# example (no provider, no login); the BFF starts without its provider
# (discovery is retried on demand, and /api needs none).
#
# Prints requests/s, p50 and p99 latency per target, the ratios ours/nginx,
# ours/direct, bff-redis/bff-cookie and bff-cookie-deny/bff-cookie, the
# Redis commands per request of the BFF targets, and peak RSS. Tools: oha
# (installed here with `cargo install oha --locked` when missing), nginx
# (apt), redis-server (scripts/setup.d/35-servers.sh).
#
# Environment: DURATION (s per run, default 10), CONNECTIONS (default 64),
# ROUNDS (default 3), WORKERS (workers of nginx and of our proxy; default 2;
# the BFF has no such setting and runs one per CPU), TARGETS (a subset, in
# order; default all eight), PROFILE=1 (perf record one target, PROFILE_TARGET,
# default ours, during one extra run, print the top, PROFILE_OUT=<file>
# keeps the whole report; PROXY_BIN and BFF_BIN point at builds with
# symbols), BEFORE_PROXY_BIN (another build of the
# proxy, e.g. of the previous commit: adds the target ours-before, run with
# the same settings beside ours, for an A/B comparison in one run),
# hyper-floor (a target to name in TARGETS: proxy/examples/hyper_floor.rs,
# the same per-request work on hyper's server alone, a floor for serving
# /api from hyper directly; a measuring stick, not a product),
# LOAD_ON and SERVERS_ON (CPU lists for taskset, e.g. LOAD_ON=0
# SERVERS_ON=1: the load generator on its own core, every server, the
# upstream and Redis on the other; the same pinning for every target).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/common.sh
source bench/common.sh

DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-64}
ROUNDS=${ROUNDS:-3}
WORKERS=${WORKERS:-2}
TARGETS=${TARGETS:-direct nginx ours ours-metrics bff-cookie bff-cookie-metrics bff-cookie-deny bff-redis}
PROFILE_TARGET=${PROFILE_TARGET:-ours}
WARMUP=2
UP_PORT=${UP_PORT:-18480}
NGINX_PORT=${NGINX_PORT:-18481}
OURS_PORT=${OURS_PORT:-18482}
BFF_COOKIE_PORT=${BFF_COOKIE_PORT:-18483}
BFF_DENY_PORT=${BFF_DENY_PORT:-18484}
BFF_REDIS_PORT=${BFF_REDIS_PORT:-18485}
REDIS_PORT=${REDIS_PORT:-18486}
BEFORE_PORT=${BEFORE_PORT:-18491}
FLOOR_PORT=${FLOOR_PORT:-18492}
PIN_LOAD=(); PIN_SERVERS=()
[[ -z ${LOAD_ON:-} ]] || PIN_LOAD=(taskset -c "$LOAD_ON")
[[ -z ${SERVERS_ON:-} ]] || PIN_SERVERS=(taskset -c "$SERVERS_ON")
if [[ -n ${BEFORE_PROXY_BIN:-} && $TARGETS != *ours-before* ]]; then
  TARGETS="$TARGETS ours-before"
fi
OURS_METRICS_PORT=${OURS_METRICS_PORT:-18487}
BFF_METRICS_PORT=${BFF_METRICS_PORT:-18488}
SCRAPE_PORTS=(18489 18490)  # the metrics listeners of the two metrics targets
read -r -a TARGET_LIST <<<"$TARGETS"

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
need redis-server || bash scripts/setup.d/35-servers.sh

echo "==> building the proxy and the BFF (release)"
cargo build --release --locked -p th-proxy --bin proxy --example session_cookie --example hyper_floor
cargo build --release --locked -p th-bff --bin bff --example bench_session
TARGET_DIR=$(target_dir)
PROXY_BIN=${PROXY_BIN:-"$TARGET_DIR/release/proxy"}  # a symbolized build for PROFILE=1
BFF_BIN=${BFF_BIN:-"$TARGET_DIR/release/bff"}        # likewise
COOKIE_BIN="$TARGET_DIR/release/examples/session_cookie"
SESSION_BIN="$TARGET_DIR/release/examples/bench_session"

make_work

upstream_server "$UP_PORT" | nginx_conf up 1 >"$WORK/upstream.conf"
nginx_proxy_server "$NGINX_PORT" "$UP_PORT" | nginx_conf proxy "$WORKERS" >"$WORK/nginx.conf"
KEY=$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')
proxy_toml "$OURS_PORT" "$WORKERS" >"$WORK/proxy.toml"
{ proxy_toml "$OURS_METRICS_PORT" "$WORKERS"; metrics_toml "${SCRAPE_PORTS[0]}"; } >"$WORK/proxy-metrics.toml"

# The BFF: the same key, app origin and route as the proxy (bff_toml).
bff_toml "$BFF_COOKIE_PORT" cookie no >"$WORK/bff-cookie.toml"
{ bff_toml "$BFF_METRICS_PORT" cookie no; metrics_toml "${SCRAPE_PORTS[1]}"; } >"$WORK/bff-cookie-metrics.toml"
bff_toml "$BFF_DENY_PORT" cookie redis >"$WORK/bff-cookie-deny.toml"
bff_toml "$BFF_REDIS_PORT" redis redis >"$WORK/bff-redis.toml"

"${PIN_SERVERS[@]}" redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
  --logfile "$WORK/redis.log" & REDIS_PID=$!; PIDS+=("$REDIS_PID")
"${PIN_SERVERS[@]}" "$NGINX" -c "$WORK/upstream.conf" -p "$WORK" & UP_PID=$!; PIDS+=("$UP_PID")
"${PIN_SERVERS[@]}" "$NGINX" -c "$WORK/nginx.conf" -p "$WORK" & NGINX_PID=$!; PIDS+=("$NGINX_PID")
RUST_LOG=warn "${PIN_SERVERS[@]}" "$PROXY_BIN" --config "$WORK/proxy.toml" & OURS_PID=$!; PIDS+=("$OURS_PID")
RUST_LOG=warn "${PIN_SERVERS[@]}" "$PROXY_BIN" --config "$WORK/proxy-metrics.toml" & OURS_METRICS_PID=$!; PIDS+=("$OURS_METRICS_PID")
declare -A SERVER_PID=([direct]=$UP_PID [nginx]=$NGINX_PID [ours]=$OURS_PID [ours-metrics]=$OURS_METRICS_PID)
if [[ " $TARGETS " == *" hyper-floor "* ]]; then
  "${PIN_SERVERS[@]}" "$(dirname "$PROXY_BIN")/examples/hyper_floor" "$WORK/proxy.toml" "$FLOOR_PORT" "$WORKERS" &
  SERVER_PID[hyper-floor]=$!; PIDS+=("$!")
fi
if [[ -n ${BEFORE_PROXY_BIN:-} ]]; then
  proxy_toml "$BEFORE_PORT" "$WORKERS" >"$WORK/proxy-before.toml"
  RUST_LOG=warn "${PIN_SERVERS[@]}" "$BEFORE_PROXY_BIN" --config "$WORK/proxy-before.toml" & SERVER_PID[ours-before]=$!; PIDS+=("$!")
fi
for target in bff-cookie bff-cookie-metrics bff-cookie-deny bff-redis; do
  RUST_LOG=warn "${PIN_SERVERS[@]}" "$BFF_BIN" --config "$WORK/$target.toml" 2>"$WORK/$target.log" &
  SERVER_PID[$target]=$!; PIDS+=("$!")
done

for port in "$REDIS_PORT" "$UP_PORT" "$NGINX_PORT" "$OURS_PORT" "$OURS_METRICS_PORT" \
  "$BFF_COOKIE_PORT" "$BFF_METRICS_PORT" "$BFF_DENY_PORT" "$BFF_REDIS_PORT" "${SCRAPE_PORTS[@]}"; do
  wait_port "$port"
done
[[ -z ${BEFORE_PROXY_BIN:-} ]] || wait_port "$BEFORE_PORT"
[[ -z ${SERVER_PID[hyper-floor]:-} ]] || wait_port "$FLOOR_PORT"

# The Cookie header each target gets: the proxy's access-token cookie; for
# the BFF a session written by its own store (cookie store: the access, ID
# and refresh cookies, the ID token naming a sid and a sub; Redis store:
# the session-key cookie alone).
TOKEN="bench-opaque-access-token-0123456789abcdef"
declare -A COOKIE
COOKIE[ours]=$("$COOKIE_BIN" "$WORK/proxy.toml" "$TOKEN")
COOKIE[direct]=${COOKIE[ours]}
COOKIE[ours-metrics]=${COOKIE[ours]}
COOKIE[nginx]=${COOKIE[ours]}
COOKIE[ours-before]=${COOKIE[ours]}
COOKIE[hyper-floor]=${COOKIE[ours]}
for target in bff-cookie bff-cookie-metrics bff-cookie-deny bff-redis; do
  COOKIE[$target]=$("$SESSION_BIN" "$WORK/$target.toml" "$TOKEN")
done

# CPU time (clock ticks) of a process and its children's threads: user +
# system, or with FIELDS='$14' user time alone.
cpu_ticks() {
  local total=0 pid
  for pid in "$@" $(pgrep -P "$1" || true); do
    for stat in /proc/"$pid"/task/*/stat; do
      total=$((total + $(awk "{print ${FIELDS:-\$14 + \$15}}" "$stat" 2>/dev/null || echo 0)))
    done
  done
  echo "$total"
}
TICKS=$(getconf CLK_TCK)
commandstats() { redis-cli -p "$REDIS_PORT" info commandstats | tr -d '\r'; }

declare -A URL=(
  [direct]="http://127.0.0.1:$UP_PORT/things"
  [nginx]="http://127.0.0.1:$NGINX_PORT/api/example/things"
  [ours]="http://127.0.0.1:$OURS_PORT/api/example/things"
  [ours-before]="http://127.0.0.1:$BEFORE_PORT/api/example/things"
  [hyper-floor]="http://127.0.0.1:$FLOOR_PORT/api/example/things"
  [ours-metrics]="http://127.0.0.1:$OURS_METRICS_PORT/api/example/things"
  [bff-cookie-metrics]="http://127.0.0.1:$BFF_METRICS_PORT/api/example/things"
  [bff-cookie]="http://127.0.0.1:$BFF_COOKIE_PORT/api/example/things"
  [bff-cookie-deny]="http://127.0.0.1:$BFF_DENY_PORT/api/example/things"
  [bff-redis]="http://127.0.0.1:$BFF_REDIS_PORT/api/example/things"
)
# Every target gets the same request but for its session cookie; direct and
# nginx ignore the extras.
load() { # target seconds output
  "${PIN_LOAD[@]}" oha --no-tui --output-format json -w -z "${2}s" -c "$CONNECTIONS" \
    -H "x-csrf: 1" -H "cookie: ${COOKIE[$1]}" -H "accept: application/json" \
    "${URL[$1]}" >"$3"
}

for target in "${TARGET_LIST[@]}"; do
  [[ -n ${URL[$target]:-} ]] || { echo "unknown target $target" >&2; exit 1; }
  status=$(curl -s -o /dev/null -w '%{http_code}' -H "x-csrf: 1" -H "cookie: ${COOKIE[$target]}" "${URL[$target]}")
  [[ $status == 200 ]] || { echo "$target answered $status, not 200" >&2; exit 1; }
  # Without its session the BFF must refuse: the 200 above is the session's.
  if [[ $target == bff-* ]]; then
    status=$(curl -s -o /dev/null -w '%{http_code}' -H "x-csrf: 1" "${URL[$target]}")
    [[ $status == 401 ]] || { echo "$target answered $status without a session, not 401" >&2; exit 1; }
  fi
  load "$target" "$WARMUP" /dev/null
done

# A scraper, as Prometheus would be: every 5 s, both metrics listeners.
( while sleep 5; do
    for port in "${SCRAPE_PORTS[@]}"; do curl -s -o /dev/null "http://127.0.0.1:$port/metrics"; done
  done ) & PIDS+=("$!")

echo "==> $ROUNDS rounds x (${TARGET_LIST[*]}), ${DURATION}s each, $CONNECTIONS connections"
for round in $(seq "$ROUNDS"); do
  for target in "${TARGET_LIST[@]}"; do
    out="$WORK/$target-$round"
    before=$(cpu_ticks "${SERVER_PID[$target]}")
    # shellcheck disable=SC2016 # awk's field, for cpu_ticks
    user_before=$(FIELDS='$14' cpu_ticks "${SERVER_PID[$target]}")
    redis_before=$(cpu_ticks "$REDIS_PID")
    commandstats >"$out.redis-before"
    load "$target" "$DURATION" "$out.json"
    commandstats >"$out.redis-after"
    after=$(cpu_ticks "${SERVER_PID[$target]}")
    # shellcheck disable=SC2016
    user_after=$(FIELDS='$14' cpu_ticks "${SERVER_PID[$target]}")
    redis_after=$(cpu_ticks "$REDIS_PID")
    echo "$(( (after - before) * 1000000 / TICKS ))" >"$out.cpu_us"
    echo "$(( (user_after - user_before) * 1000000 / TICKS ))" >"$out.user_us"
    echo "$(( (redis_after - redis_before) * 1000000 / TICKS ))" >"$out.redis_cpu_us"
    printf '  round %s %-15s %s req/s\n' "$round" "$target" \
      "$(python3 -c 'import json,sys; print(round(json.load(open(sys.argv[1]))["summary"]["requestsPerSec"]))' "$out.json")"
  done
done

declare -A PEAK_RSS_KB
for target in ours ours-before hyper-floor ours-metrics bff-cookie bff-cookie-metrics bff-cookie-deny bff-redis; do
  [[ -n ${SERVER_PID[$target]:-} ]] || continue
  PEAK_RSS_KB[$target]=$(awk '/VmHWM/ {print $2}' "/proc/${SERVER_PID[$target]}/status")
done

if [[ ${PROFILE:-0} == 1 ]] && command -v perf >/dev/null; then
  echo "==> perf: $PROFILE_TARGET under load for ${DURATION}s"
  perf record -F 999 -p "${SERVER_PID[$PROFILE_TARGET]}" -o "$WORK/perf.data" -- sleep "$DURATION" >/dev/null 2>&1 &
  perf_pid=$!
  load "$PROFILE_TARGET" "$DURATION" /dev/null
  wait "$perf_pid" || true
  # (perf pads its lines with thousands of spaces: cut them.)
  perf report -i "$WORK/perf.data" --sort dso --stdio 2>/dev/null | grep -v "^#" | grep -v "^$" | sed 's/[[:space:]]*$//' | head -8
  perf report -i "$WORK/perf.data" --sort dso,symbol --stdio 2>/dev/null | grep -v "^#" | grep -v "^$" | sed 's/[[:space:]]*$//' >"$WORK/perf.txt" || true
  head -40 "$WORK/perf.txt"
  if [[ -n ${PROFILE_OUT:-} ]]; then cp "$WORK/perf.txt" "$PROFILE_OUT"; fi
fi

rss=""
for target in "${!PEAK_RSS_KB[@]}"; do rss+="$target=${PEAK_RSS_KB[$target]} "; done
python3 - "$WORK" "$ROUNDS" "$CONNECTIONS" "$DURATION" "$rss" "${TARGET_LIST[@]}" <<'PY'
import json, re, statistics, sys
work, rounds, conns, duration, rss = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
targets = sys.argv[6:]
rss_kb = dict(kv.split("=") for kv in rss.split())

def commands(path):
    """Calls per Redis command in an INFO commandstats answer, without INFO's own."""
    calls = {}
    for line in open(path):
        m = re.match(r"cmdstat_([^:]+):calls=(\d+)", line)
        if m and m.group(1) != "info":
            calls[m.group(1)] = int(m.group(2))
    return calls

rows = {}
redis_per_req = {}
round_rps = {}
for target in targets:
    rs, cpu, user, redis_cpu, per_cmd = [], [], [], [], []
    for r in range(1, rounds + 1):
        base = f"{work}/{target}-{r}"
        run = json.load(open(f"{base}.json"))
        rs.append(run)
        reqs = run["summary"]["requestsPerSec"] * float(duration)
        cpu.append(int(open(f"{base}.cpu_us").read()) / reqs)
        user.append(int(open(f"{base}.user_us").read()) / reqs)
        redis_cpu.append(int(open(f"{base}.redis_cpu_us").read()) / reqs)
        answered = sum(run["statusCodeDistribution"].values())
        b, a = commands(f"{base}.redis-before"), commands(f"{base}.redis-after")
        per_cmd.append({c: (a[c] - b.get(c, 0)) / answered for c in a if a[c] != b.get(c, 0)})
    round_rps[target] = [r["summary"]["requestsPerSec"] for r in rs]
    rps = statistics.median(round_rps[target])
    p50 = statistics.median(r["latencyPercentiles"]["p50"] for r in rs) * 1000
    p99 = statistics.median(r["latencyPercentiles"]["p99"] for r in rs) * 1000
    ok = sum(r["statusCodeDistribution"].get("200", 0) for r in rs)
    bad = sum(v for r in rs for k, v in r["statusCodeDistribution"].items() if k != "200")
    errors = sum(sum(r.get("errorDistribution", {}).values()) for r in rs)
    cmds = {c: statistics.median(p.get(c, 0) for p in per_cmd) for p0 in per_cmd for c in p0}
    redis_per_req[target] = cmds
    rows[target] = (rps, p50, p99, ok, bad, errors, statistics.median(cpu),
                    statistics.median(redis_cpu), sum(cmds.values()), statistics.median(user))
print()
print(f"median of {rounds} rounds, {duration}s each, {conns} connections")
print(f"{'target':<16} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'200s':>9} {'non-200':>8} {'errors':>7}"
      f" {'CPU us/req':>11} {'of it user':>11} {'Redis cmds/req':>15} {'Redis CPU us/req':>17}")
for t, (rps, p50, p99, ok, bad, err, cpu, rcpu, cmds, usr) in rows.items():
    print(f"{t:<16} {rps:>9.0f} {p50:>8.3f} {p99:>8.3f} {ok:>9} {bad:>8} {err:>7}"
          f" {cpu:>11.1f} {usr:>11.1f} {cmds:>15.2f} {rcpu:>17.1f}")
print("(CPU: the measured server's own, all threads, user + kernel, and the user-space")
print(" part alone: the upstream for direct; the proxy or BFF alone, without the")
print(" upstream, for the others; Redis CPU: redis-server's)")
for t, cmds in redis_per_req.items():
    if cmds:
        print(f"Redis commands per request, {t}: " + ", ".join(f"{c.upper()} {n:.2f}" for c, n in sorted(cmds.items())))
print()
def ratio(a, b, label, extra=""):
    if a in rows and b in rows:
        print(f"throughput {label:<27} {rows[a][0] / rows[b][0]:.2f}x{extra}")
ratio("ours", "nginx", "ours/nginx")
if "direct" in rows and "nginx" in rows:
    ratio("ours", "direct", "ours/direct", f"  (nginx/direct {rows['nginx'][0] / rows['direct'][0]:.2f}x)")
ratio("bff-cookie", "ours", "bff-cookie/ours")
ratio("ours", "ours-before", "ours/ours-before")
ratio("ours-before", "nginx", "ours-before/nginx")
ratio("hyper-floor", "nginx", "hyper-floor/nginx")
ratio("ours", "hyper-floor", "ours/hyper-floor")
def paired(a, b):
    """The median of the per-round ratios: runs next to each other share
    the machine's state, so these drift less than a ratio of medians."""
    return statistics.median(x / y for x, y in zip(round_rps[a], round_rps[b]))
def cpu(t):
    """The BFF's and Redis's CPU per request."""
    return rows[t][6] + rows[t][7]
for a, b, goal in (("bff-redis", "bff-cookie", "goal >= 0.80x"),
                   ("bff-cookie-deny", "bff-cookie", "goal: cost < 10 %"),
                   ("ours-metrics", "ours", "goal: within 5 %"),
                   ("bff-cookie-metrics", "bff-cookie", "goal: within 5 %")):
    if a in rows and b in rows:
        rs = (rows[a][0] / rows[b][0], paired(a, b), cpu(b) / cpu(a))
        print(f"{a}/{b} ({goal}): " + ", ".join(
            f"{r:.2f}x (cost {(1 - r) * 100:.1f} %) {how}" for r, how in
            zip(rs, ("by median req/s", "by the rounds' own ratios", "by CPU per request, server + Redis"))))
if "direct" in rows:
    d = rows["direct"][2]
    print("p99 added over direct: " + ", ".join(f"{t} {rows[t][2] - d:+.3f} ms" for t in rows if t != "direct"))
print("peak RSS: " + ", ".join(f"{t} {int(kb) / 1024:.1f} MiB" for t, kb in sorted(rss_kb.items()) if t in rows))
PY
