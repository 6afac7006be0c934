#!/usr/bin/env bash
# The main job: the whole stack on this machine, for trying the app and for
# frontend work. Installs what is missing (scripts/setup.sh), then starts
#   - the OpenID Connect provider (npm oidc-provider)  http://127.0.0.1:9000
#   - the example API (validates the provider's JWTs)  http://127.0.0.1:9100
#   - the BFF with its API proxy (dev/bff.dev.toml)    http://127.0.0.1:8081
#   - `trunk serve` for the SPA, proxying /bff and /api to the BFF
# and prints the URL to open: http://localhost:8080/. Ctrl-C stops everything.
# Logs: target/dev/*.log.
#
#   scripts/dev.sh           sessions in sealed cookies (the default store)
#   scripts/dev.sh --redis   sessions in Redis (a redis-server on 127.0.0.1:6380,
#                            nothing saved), and the provider signs users out of
#                            the BFF through back-channel logout
set -euo pipefail
redis=false
case ${1:-} in
  --redis) redis=true ;;
  "") ;;
  *) echo "usage: scripts/dev.sh [--redis]" >&2; exit 2 ;;
esac
cd "$(dirname "$0")/.."
root=$PWD
state=$root/target/dev
mkdir -p "$state"

scripts/setup.sh --dev
export PATH="$root/dev/node_modules/.bin:$HOME/.cargo/bin:$PATH"

# Fails early and clearly if a port is taken (an earlier run still going?).
port_taken() {
  node -e '
    const s = require("net").connect(Number(process.argv[1]), "127.0.0.1");
    s.on("connect", () => process.exit(0));
    s.on("error", () => process.exit(1));' "$1"
}
ports=(8080 8081 9000 9100)
$redis && ports+=(6380)
for port in "${ports[@]}"; do
  if port_taken "$port"; then
    echo "error: port $port on 127.0.0.1 is in use; stop what runs there and try again" >&2
    exit 1
  fi
done

echo "==> building the BFF and the example API"
cargo build --locked --quiet -p th-bff --bin bff -p th-example-api --bin example-api

key_file=$state/cookie-key
if [[ ! -s $key_file ]]; then
  (umask 077 && target/debug/bff generate-key >"$key_file")
  echo "==> generated a development cookie key in $key_file"
fi

pids=()
cleanup() {
  trap - EXIT INT TERM
  echo
  echo "==> stopping"
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  wait 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Waits (up to $4 seconds) until a URL answers 2xx, or fails naming the log.
wait_for() {
  local url=$1 what=$2 log=$3 deadline=$((SECONDS + ${4:-60}))
  while ((SECONDS < deadline)); do
    if node -e 'fetch(process.argv[1]).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))' "$url"; then
      return 0
    fi
    sleep 0.5
  done
  echo "error: $what did not come up; see $log" >&2
  tail -n 20 "$log" >&2 || true
  exit 1
}

store_env=()
backchannel=
if $redis; then
  echo "==> starting Redis on 127.0.0.1:6380 (sessions; nothing is saved)"
  redis-server --port 6380 --bind 127.0.0.1 --save '' --appendonly no \
    >"$state/redis.log" 2>&1 3>&- &
  pids+=($!)
  for _ in $(seq 50); do
    redis-cli -p 6380 ping >/dev/null 2>&1 && break
    sleep 0.1
  done
  store_env=(TH_SESSION__STORE=redis TH_REDIS__URL=redis://127.0.0.1:6380)
  backchannel=http://127.0.0.1:8081/bff/backchannel-logout
fi

echo "==> starting the OpenID Connect provider"
# The provider exits when its standard input closes: this script holds the
# writing end (fd 3), so the provider goes down with it even on a hard kill.
rm -f "$state/provider.stdin"
mkfifo "$state/provider.stdin"
PROVIDER_PORT=9000 CLIENT_ID=token-handler CLIENT_SECRET=dev-secret-change-me \
  REDIRECT_URIS=http://localhost:8080/ POST_LOGOUT_REDIRECT_URIS=http://localhost:8080/ \
  BACKCHANNEL_LOGOUT_URI="$backchannel" \
  node dev/provider.mjs <"$state/provider.stdin" >"$state/provider.log" 2>&1 &
pids+=($!)
exec 3>"$state/provider.stdin"
wait_for http://127.0.0.1:9000/.well-known/openid-configuration "the provider" "$state/provider.log"

echo "==> starting the example API"
EXAMPLE_API_LISTEN=127.0.0.1:9100 EXAMPLE_API_ISSUER=http://127.0.0.1:9000 \
  target/debug/example-api >"$state/example-api.log" 2>&1 3>&- &
pids+=($!)
wait_for http://127.0.0.1:9100/healthz "the example API" "$state/example-api.log"

# The browser test's BFF runs this same file (dev/e2e/stack.mjs), with its
# ports, issuer, origin and key overridden through TH_ variables as here;
# it starts its own processes because it needs free ports (it may run beside
# this stack), a release build served with CloudFront's headers instead of
# `trunk serve`, and a stack per test it can stop. docs/spa.md has the why.
echo "==> starting the BFF"
env "${store_env[@]}" TH_COOKIES__KEYS="[{ id = \"dev\", key = \"$(cat "$key_file")\" }]" \
  target/debug/bff --config dev/bff.dev.toml >"$state/bff.log" 2>&1 3>&- &
pids+=($!)
wait_for http://127.0.0.1:8081/readyz "the BFF" "$state/bff.log"

echo "==> starting trunk serve (the first build of the SPA takes a few minutes)"
trunk serve --offline >"$state/trunk.log" 2>&1 3>&- &
pids+=($!)
wait_for http://127.0.0.1:8080/ "trunk serve" "$state/trunk.log" 1200

cat <<'BANNER'

  The token handler runs. Open   http://localhost:8080/

  Sign in with any name and any password, then allow the consent screen.
  The app shows your claims, the provider's userinfo and the example API's
  answer through the proxy; edits under spa/ and static/ rebuild and reload.

  Logs: target/dev/{provider,example-api,bff,trunk}.log    Stop: Ctrl-C

BANNER

# Stays up until Ctrl-C, or until one of the services stops by itself.
set +e
wait -n "${pids[@]}"
echo "error: a service stopped; see the logs in target/dev/" >&2
exit 1
