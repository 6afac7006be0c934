# shellcheck shell=bash
# Shared by the bench scripts (sourced after `cd` to the repository root).

# A scratch folder, $WORK (with $WORK/tmp), and the processes the script
# starts, $PIDS: at exit the processes are stopped and the folder removed.
make_work() {
  WORK=$(mktemp -d /tmp/th-bench.XXXXXX)
  PIDS=()
  trap cleanup EXIT
  mkdir -p "$WORK/tmp"
}
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}

# The BFF's settings: listen on port $1, session store $2, [redis] when $3
# is "redis"; the cookie key $KEY, the route /api/example to $UP_PORT, and
# Redis on $REDIS_PORT come from the calling script. The same key, app
# origin and route as bench/proxy.sh's proxy. The provider is
# a closed port: discovery fails at start and would be retried on demand,
# but /api in bearer mode never asks it.
bff_toml() { # port store redis?
  cat <<CONF
listen = "127.0.0.1:$1"

[oidc]
issuer = "http://127.0.0.1:9"
client_id = "bench"
client_secret = "bench"
redirect_uri = "http://127.0.0.1:8080/"

[cors]
allowed_origins = ["http://127.0.0.1:8080"]

[cookies]
keys = [{ id = "bench", key = "$KEY" }]

[session]
store = "$2"

[log]
filter = "warn"

[[proxy.routes]]
prefix = "/api/example"
upstream = "http://127.0.0.1:$UP_PORT"
CONF
  if [[ $3 == redis ]]; then
    printf '\n[redis]\nurl = "redis://127.0.0.1:%s"\n' "$REDIS_PORT"
  fi
}

# Waits until something listens on the loopback port $1.
wait_port() {
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "nothing listens on $1" >&2; exit 1
}
