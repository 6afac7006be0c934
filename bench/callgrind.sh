#!/usr/bin/env bash
# The user-space instructions per proxied request, counted by valgrind's
# callgrind: ours (the `proxy` binary, one worker, a valid session cookie,
# every rule applied) and nginx (`proxy_pass` with upstream keepalive, one
# worker), against the same upstream as bench/proxy.sh (nginx answering a
# fixed JSON body, not measured).
#
# Why: CPU time per request (bench/proxy.sh) needs a quiet machine; an
# instruction count does not. It is the same on a busy machine, so a code
# change can be judged by it (A/B: OURS_BIN=<another build>). What it does
# not see: the kernel's share (TCP, system calls, scheduling), which
# bench/proxy.sh's "CPU / request" includes; and callgrind counts each
# iteration of `rep movs`/`rep stos` as an instruction, so large
# memset/memcpy weigh more here than on the CPU.
#
# Environment: REQUESTS (measured, default 20000, after 2000 to warm up),
# CONNECTIONS (default 8), TARGETS ("ours nginx"; also ours-metrics: ours
# with [metrics] listen set; bff: the `bff` binary with the cookie store,
# the production path, a session written by its own store as in
# bench/proxy.sh's bff-cookie; hyper-floor: proxy/examples/hyper_floor.rs,
# the same work on hyper's server alone, a floor for that design, not a
# product), OURS_BIN and BFF_BIN (default the
# release build; a build with symbols adds the top functions:
# CARGO_PROFILE_RELEASE_STRIP=false CARGO_PROFILE_RELEASE_DEBUG=line-tables-only;
# its examples/session_cookie and examples/hyper_floor must be built
# beside it, and the bff's examples/bench_session beside the bff),
# TOP (functions listed, default 25). Tools: valgrind (apt), oha, nginx.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/common.sh
source bench/common.sh

REQUESTS=${REQUESTS:-20000}
CONNECTIONS=${CONNECTIONS:-8}
TARGETS=${TARGETS:-ours nginx}
TOP=${TOP:-25}
UP_PORT=${UP_PORT:-18580}
OURS_PORT=${OURS_PORT:-18582}
NGINX_PORT=${NGINX_PORT:-18583}
OURS_METRICS_PORT=${OURS_METRICS_PORT:-18584}
SCRAPE_PORT=${SCRAPE_PORT:-18585}
BFF_PORT=${BFF_PORT:-18586}
FLOOR_PORT=${FLOOR_PORT:-18587}

command -v valgrind >/dev/null || { echo "==> installing valgrind"; apt-get install -y -qq valgrind >/dev/null; }
command -v oha >/dev/null || { echo "==> installing oha"; cargo install oha --locked; }
command -v nginx >/dev/null || { echo "nginx is missing: bash scripts/setup.sh" >&2; exit 1; }

TARGET_DIR=$(target_dir)
if [[ -z ${OURS_BIN:-} ]]; then
  cargo build --release --locked -p th-proxy --bin proxy --example session_cookie --example hyper_floor
  OURS_BIN="$TARGET_DIR/release/proxy"
fi
# The cookie maker of the same build (its key ring code is the proxy's).
COOKIE_BIN="$(dirname "$OURS_BIN")/examples/session_cookie"
if [[ " $TARGETS " == *" bff "* && -z ${BFF_BIN:-} ]]; then
  # The bff just built, not one that may sit beside another OURS_BIN.
  cargo build --release --locked -p th-bff --bin bff --example bench_session
  BFF_BIN="$TARGET_DIR/release/bff"
fi

make_work
# The same upstream, nginx proxy_pass and proxy settings as bench/proxy.sh,
# one worker each, nginx without a master process.
upstream_server "$UP_PORT" | nginx_conf up 1 off >"$WORK/upstream.conf"
nginx_proxy_server "$NGINX_PORT" "$UP_PORT" | nginx_conf proxy 1 off >"$WORK/nginx.conf"
KEY=$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')
proxy_toml "$OURS_PORT" 1 >"$WORK/proxy.toml"
# ours-metrics: the same with [metrics] listen set (every request counted
# and timed).
{ proxy_toml "$OURS_METRICS_PORT" 1; metrics_toml "$SCRAPE_PORT"; } >"$WORK/proxy-metrics.toml"
TOKEN="bench-opaque-access-token-0123456789abcdef"
COOKIE=$("$COOKIE_BIN" "$WORK/proxy.toml" "$TOKEN")
declare -A COOKIES=([ours]=$COOKIE [ours-metrics]=$COOKIE [nginx]=$COOKIE [hyper-floor]=$COOKIE)
if [[ " $TARGETS " == *" bff "* ]]; then
  bff_toml "$BFF_PORT" cookie no >"$WORK/bff.toml"
  COOKIES[bff]=$("$(dirname "$BFF_BIN")/examples/bench_session" "$WORK/bff.toml" "$TOKEN")
fi

nginx -c "$WORK/upstream.conf" & PIDS+=("$!")

declare -A URL=(
  [ours]="http://127.0.0.1:$OURS_PORT/api/example/things"
  [nginx]="http://127.0.0.1:$NGINX_PORT/api/example/things"
  [ours-metrics]="http://127.0.0.1:$OURS_METRICS_PORT/api/example/things"
  [bff]="http://127.0.0.1:$BFF_PORT/api/example/things"
  [hyper-floor]="http://127.0.0.1:$FLOOR_PORT/api/example/things"
)
load() { # target requests output
  oha --no-tui --output-format json -n "$2" -c "$CONNECTIONS" \
    -H "x-csrf: 1" -H "cookie: ${COOKIES[$1]}" -H "accept: application/json" "${URL[$1]}" >"$3"
}

# As bench/proxy.sh runs it (not `env RUST_LOG=...`: valgrind would count
# `env`, not what it executes).
export RUST_LOG=warn
read -r -a TARGET_LIST <<<"$TARGETS"
for target in "${TARGET_LIST[@]}"; do
  case $target in
    ours) cmd=("$OURS_BIN" --config "$WORK/proxy.toml") ;;
    ours-metrics) cmd=("$OURS_BIN" --config "$WORK/proxy-metrics.toml") ;;
    nginx) cmd=(nginx -c "$WORK/nginx.conf") ;;
    bff) cmd=("$BFF_BIN" --config "$WORK/bff.toml") ;;
    hyper-floor) cmd=("$(dirname "$OURS_BIN")/examples/hyper_floor" "$WORK/proxy.toml" "$FLOOR_PORT") ;;
    *) echo "unknown target $target" >&2; exit 1 ;;
  esac
  valgrind --tool=callgrind --callgrind-out-file="$WORK/$target.out" "${cmd[@]}" \
    >"$WORK/$target.log" 2>&1 & pid=$!; PIDS+=("$pid")
  for _ in $(seq 120); do
    [[ $(curl -s -o /dev/null -w '%{http_code}' -H "x-csrf: 1" -H "cookie: ${COOKIES[$target]}" "${URL[$target]}") == 200 ]] && break
    sleep 0.5
  done
  load "$target" 2000 /dev/null
  callgrind_control -z "$pid" >/dev/null
  load "$target" "$REQUESTS" "$WORK/$target.json"
  callgrind_control -d "$pid" >/dev/null
  sleep 1
  kill "$pid"; wait "$pid" 2>/dev/null || true
done

python3 - "$WORK" "$REQUESTS" "$TOP" "${TARGET_LIST[@]}" <<'PY'
import collections, glob, json, re, sys
work, n, top, targets = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]

def exclusive(path):
    """Instructions by function, without what it calls (callgrind's format:
    a cost line after `calls=` is the callee's, not the caller's)."""
    names, by_fn, fn, skip = {}, collections.Counter(), "?", False
    for line in open(path):
        if line.startswith("fn="):
            m = re.match(r"fn=\((\d+)\)(?: (.*))?", line.rstrip("\n"))
            if m and m.group(2):
                names[m.group(1)] = m.group(2)
            fn = names.get(m.group(1), "?") if m else line[3:].strip()
        elif line.startswith("cfn="):
            m = re.match(r"cfn=\((\d+)\)(?: (.*))?", line.rstrip("\n"))
            if m and m.group(2):
                names[m.group(1)] = m.group(2)
        elif line.startswith("calls="):
            skip = True
        elif line[:1].isdigit() or line[:1] in "+-*":
            parts = line.split()
            if len(parts) < 2:
                continue
            if skip:
                skip = False
            else:
                by_fn[fn] += int(parts[1])
    return by_fn

per_request = {}
for target in targets:
    run = json.load(open(f"{work}/{target}.json"))
    codes = run["statusCodeDistribution"]
    # The dump after zeroing: the measured requests alone.
    dumps = sorted(glob.glob(f"{work}/{target}.out.*"))
    by_fn = exclusive(dumps[-1])
    total = sum(by_fn.values())
    per_request[target] = total / n
    print(f"\n{target}: {total / n:,.0f} instructions per request in user space "
          f"({n} requests, status {codes})")
    for f, c in by_fn.most_common(top):
        print(f"  {c / n:8,.0f}  {100 * c / total:4.1f} %  {f[:110]}")
for ours in ("ours", "ours-metrics", "bff", "hyper-floor"):
    if ours in per_request and "nginx" in per_request:
        print(f"\n{ours} / nginx, instructions per request: "
              f"{per_request[ours] / per_request['nginx']:.2f}x")
PY
