#!/usr/bin/env bash
# The container image: hadolint on the Dockerfile (always), then, where
# podman runs, the Dockerfile's final stage built around static musl binaries
# built here with cargo, run read-only as in ECS, and checked: /healthz, the
# image's own HEALTHCHECK, non-root user, no shell, only the expected files,
# /readyz honest about a missing provider, the proxy binary, and a clean exit
# on SIGTERM.
#
# Why not `podman build .` on the Dockerfile itself: its builder stage pulls
# rust:…-alpine, and this machine reaches no image registry. The final stage
# is the same text: this script cuts it out of the Dockerfile (everything
# from the last FROM) and only points its COPY at a local folder.
#
# Skips (loudly, counted as skipped, never as passed) only when podman or runc
# is missing or `podman info` fails: then the image cannot be run here at all.
# Everything after that point failing is a failure.
#
# Binaries: the `container-check` profile (dev, no debuginfo, stripped) by
# default, because CI has 2 cores and a musl LTO build takes minutes; set
# TH_IMAGE_PROFILE=release to build and measure the shipped image.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD

passed=0
failed=0
skipped=0
check() { # check NAME ACTUAL EXPECTED
  if [[ $2 == "$3" ]]; then
    passed=$((passed + 1))
    echo "ok   $1"
  else
    failed=$((failed + 1))
    echo "FAIL $1: got '$2', want '$3'"
  fi
}
finish() {
  echo "container: $passed passed, $failed failed, $skipped skipped"
  [[ $failed -eq 0 ]]
  exit
}

echo "--- hadolint Dockerfile"
if .venv-aws/bin/hadolint Dockerfile; then check "hadolint clean" yes yes; else check "hadolint clean" no yes; fi

skip_all() {
  skipped=$((skipped + 1))
  cat <<MSG

!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!
!! SKIPPED: the container image was NOT built or run: $1
!! Only hadolint ran. This is not a pass for the image.
!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!

MSG
  finish
}
command -v podman >/dev/null || skip_all "podman is not installed"
command -v runc >/dev/null || skip_all "runc is not installed (crun fails on this VM's cgroups)"
podman=(podman --runtime runc)
"${podman[@]}" info >/dev/null 2>&1 || skip_all "podman info fails: $("${podman[@]}" info 2>&1 | tail -n 1)"

profile=${TH_IMAGE_PROFILE:-container-check}
target=x86_64-unknown-linux-musl
echo "--- cargo build ($profile, $target)"
rustup target list --installed | grep -qx "$target" || rustup target add "$target"
start=$SECONDS
cargo build --locked --target "$target" -p th-bff --bin bff -p th-proxy --bin proxy \
  --config 'profile.container-check.inherits="dev"' \
  --config 'profile.container-check.debug=false' \
  --config 'profile.container-check.strip=true' \
  --config 'profile.container-check.incremental=false' \
  --profile "$profile"
echo "    built in $((SECONDS - start)) s"
bin=target/$target/$profile
for b in bff proxy; do
  check "$b is a static binary" "$(file -b "$bin/$b" | grep -Eo 'static(-pie)? linked|statically linked' | head -n 1 | sed 's/static-pie linked/statically linked/')" "statically linked"
done

work=$(mktemp -d)
tag=localhost/token-handler:check-$$
name=th-container-check-$$
cleanup() {
  "${podman[@]}" rm -f -t 0 "$name" >/dev/null 2>&1 || true
  "${podman[@]}" rm -f "$name-files" >/dev/null 2>&1 || true
  "${podman[@]}" rmi -f "$tag" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "--- image: the Dockerfile's final stage around the host-built binaries"
mkdir -p "$work/out/usr/local/bin" "$work/out/etc/ssl/certs"
cp "$bin/bff" "$bin/proxy" "$work/out/usr/local/bin/"
cp /etc/ssl/certs/ca-certificates.crt "$work/out/etc/ssl/certs/"
last_from=$(grep -n '^FROM ' Dockerfile | tail -n 1 | cut -d: -f1)
tail -n "+$last_from" Dockerfile >"$work/Containerfile"
check "final stage is FROM scratch" "$(head -n 1 "$work/Containerfile")" "FROM scratch"
check "final stage copies only the builder's /out" "$(grep -c '^COPY' "$work/Containerfile")" "1"
sed -i 's|^COPY --from=builder /out/ /$|COPY out/ /|' "$work/Containerfile"
check "final stage COPY rewritten for the local folder" "$(grep -c '^COPY out/ /$' "$work/Containerfile")" "1"
"${podman[@]}" build --quiet --format docker -f "$work/Containerfile" -t "$tag" "$work" >/dev/null

size=$("${podman[@]}" image inspect --format '{{.Size}}' "$tag")
echo "    image size: $size bytes ($((size / 1024)) KiB), profile $profile"
check "image runs as 65532:65532" "$("${podman[@]}" image inspect --format '{{.Config.User}}' "$tag")" "65532:65532"
check "image health check is bff healthcheck" \
  "$("${podman[@]}" image inspect --format '{{join .Config.Healthcheck.Test " "}}' "$tag")" \
  "CMD /usr/local/bin/bff healthcheck --url http://127.0.0.1:8080/healthz"
check "image exposes 8080" "$("${podman[@]}" image inspect --format '{{range $p, $_ := .Config.ExposedPorts}}{{$p}}{{end}}' "$tag")" "8080/tcp"

"${podman[@]}" create --no-healthcheck --name "$name-files" "$tag" >/dev/null
check "image holds only the binaries and the CA bundle" \
  "$("${podman[@]}" export "$name-files" | tar -t | grep -v '/$' | LC_ALL=C sort | tr '\n' ' ')" \
  "etc/ssl/certs/ca-certificates.crt usr/local/bin/bff usr/local/bin/proxy "
"${podman[@]}" rm "$name-files" >/dev/null

limits=(--ulimit nofile=1024:1024 --ulimit nproc=1024:1024)
# No systemd here to time health checks: `podman healthcheck run` below runs
# the image's HEALTHCHECK on demand instead.
oneshot=("${limits[@]}" --no-healthcheck)
set +e
"${podman[@]}" run --rm "${oneshot[@]}" --entrypoint /bin/sh "$tag" -c true >/dev/null 2>&1
sh_status=$?
set -e
check "image has no shell" "$([[ $sh_status -ne 0 ]] && echo none || echo present)" "none"
check "proxy binary runs" "$("${podman[@]}" run --rm "${oneshot[@]}" --entrypoint /usr/local/bin/proxy "$tag" --version | cut -d' ' -f1)" "th-proxy"

echo "--- run: read-only, all capabilities dropped, as ECS runs it"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
key=$("$bin/bff" generate-key)
"${podman[@]}" run -d --name "$name" "${limits[@]}" --health-interval disable \
  --read-only --cap-drop ALL --security-opt no-new-privileges \
  -p "127.0.0.1:$port:8080" \
  -e TH_OIDC__ISSUER=http://127.0.0.1:9/ \
  -e TH_OIDC__CLIENT_ID=container-check \
  -e TH_OIDC__CLIENT_SECRET=container-check-secret \
  -e TH_OIDC__REDIRECT_URI=https://app.example.test/ \
  -e TH_CORS__ALLOWED_ORIGINS='["https://app.example.test"]' \
  -e TH_COOKIES__KEYS="[{id=\"k1\",key=\"$key\"}]" \
  "$tag" >/dev/null 2>"$work/run.err" || { cat "$work/run.err"; exit 1; }
# (podman complains on stderr that it has no systemd to time health checks.)

status() { # status PATH -> HTTP status from the host, 000 when unreachable
  curl -s -o /dev/null -m 5 -w '%{http_code}' "http://127.0.0.1:$port$1" || true
}
for _ in $(seq 60); do
  [[ $(status /healthz) == 200 ]] && break
  [[ $("${podman[@]}" inspect --format '{{.State.Running}}' "$name") == true ]] || break
  sleep 0.5
done
check "GET /healthz answers 200" "$(status /healthz)" "200"
check "GET /readyz is 503 while the provider is unreachable" "$(status /readyz)" "503"
check "HEALTHCHECK (bff healthcheck inside the container) passes" \
  "$("${podman[@]}" healthcheck run "$name" >/dev/null 2>&1 && echo healthy || echo unhealthy)" "healthy"
check "process runs as uid 65532" "$("${podman[@]}" top "$name" huser | tail -n +2 | sort -u | tr -d ' ')" "65532"

echo "--- SIGTERM"
start=$SECONDS
"${podman[@]}" stop -t 20 "$name" >/dev/null 2>>"$work/run.err"
check "stops on SIGTERM before the kill timeout" "$(((SECONDS - start) < 20))" "1"
check "exit code after SIGTERM is 0" "$("${podman[@]}" inspect --format '{{.State.ExitCode}}' "$name")" "0"
if [[ $failed -ne 0 ]]; then
  echo "--- container log"
  "${podman[@]}" logs "$name" 2>&1 | tail -n 40
fi

finish
