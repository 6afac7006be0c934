#!/usr/bin/env bash
# Deployment checks without a terraform binary (providers cannot be
# downloaded here): checkov, offline, on terraform/ (every skip written next
# to its resource) and on .github/workflows; then the assertions in
# tests/deploy (python-hcl2 + PyYAML + pytest) on the HCL and the workflows.
set -euo pipefail
cd "$(dirname "$0")/../.."

report=$(mktemp)
trap 'rm -f "$report"' EXIT

checkov() { # checkov DIR FRAMEWORK
  echo "--- checkov ($1, $2)"
  BC_SKIP_MAPPING=TRUE CKV_SKIP_PACKAGE_UPDATE_CHECK=TRUE \
    .venv-checkov/bin/checkov -d "$1" --framework "$2" --skip-download \
    --compact --quiet --output cli >"$report" 2>&1 || {
    cat "$report"
    echo "checkov found failing checks: fix them, or skip one in place with" >&2
    echo "  #checkov:skip=CKV_…: a written reason" >&2
    exit 1
  }
  grep -E "^Passed checks" "$report" || { cat "$report"; exit 1; }
}
checkov terraform terraform
checkov .github github_actions

echo "--- HCL and workflow assertions (tests/deploy)"
.venv-hcl/bin/python -m pytest -q -p no:cacheprovider tests/deploy
