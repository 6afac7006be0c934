#!/usr/bin/env bash
# Publish a Trunk build (dist/) to the SPA bucket, one folder per wasm_clients
# entry, with the headers browsers and CloudFront need:
#   - Content-Type per extension (.wasm as application/wasm, …);
#   - hashed assets (name-<hex>.ext, name-<hex>_bg.wasm, snippets/x-<hex>/…):
#     Cache-Control: public, max-age=31536000, immutable;
#   - everything else, index.html included: Cache-Control: no-cache;
#     index.html as text/html; charset=utf-8;
#   - index.html uploaded LAST, so a browser that gets the new page finds its
#     assets;
#   - the previous release's files are kept until the next deploy: a tab that
#     loaded the old index.html a moment ago still finds its .wasm. Each
#     release's keys are recorded in the bucket at _releases/<folder>.keys
#     (outside every served folder), right after its index.html; then what
#     neither this release nor the previous one has is deleted. Without a
#     readable record of the previous release (the first sync of a folder,
#     or one filled by an older version of this script) nothing is deleted;
#   - the CloudFront invalidation names only the non-hashed paths (/,
#     /index.html, /robots.txt, …): hashed names never change content.
# Trunk writes its loader as an inline <script type="module">; the CSP that
# CloudFront sends (terraform/modules/spa_hosting) has no 'unsafe-inline', so
# each inline module script is moved into a content-hashed file first
# (--keep-inline-scripts turns that off).
#
# Usage:
#   scripts/sync-spa.sh --bucket NAME --folder app [--folder admin …]
#                       [--dist dist] [--endpoint-url URL]
#                       [--distribution-id ID …] [--keep-inline-scripts]
# Terraform prints the values: spa_bucket, wasm_clients (the folders) and
# distribution_ids. Needs the aws CLI (v1 or v2; $AWS overrides the command)
# and python3.
set -euo pipefail

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; }

dist=dist
bucket=
endpoint=()
folders=()
distributions=()
inline=move
aws_cmd=${AWS:-aws}

while [[ $# -gt 0 ]]; do
  case $1 in
    --bucket) bucket=$2; shift 2 ;;
    --folder) folders+=("$2"); shift 2 ;;
    --dist) dist=$2; shift 2 ;;
    --endpoint-url) endpoint=(--endpoint-url "$2"); shift 2 ;;
    --distribution-id) distributions+=("$2"); shift 2 ;;
    --keep-inline-scripts) inline=keep; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "sync-spa: unknown argument $1" >&2; usage >&2; exit 2 ;;
  esac
done

[[ -n $bucket ]] || { echo "sync-spa: --bucket is required" >&2; exit 2; }
[[ ${#folders[@]} -gt 0 ]] || { echo "sync-spa: give at least one --folder" >&2; exit 2; }
[[ -f $dist/index.html ]] || { echo "sync-spa: $dist/index.html not found (run trunk build --release first)" >&2; exit 1; }
for f in "${folders[@]}"; do
  [[ $f =~ ^[A-Za-z0-9._-]+$ && $f != . && $f != .. && $f != _releases ]] || { echo "sync-spa: bad folder name: $f" >&2; exit 2; }
done

aws() { command $aws_cmd "${endpoint[@]}" "$@"; }

export LC_ALL=C  # one sort order for sort and comm
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
stage=$work/dist
plan=$work/plan
mkdir "$stage"

# Stage a copy of dist/ (never edit the build output in place), move inline
# module scripts out, and write the upload plan: one line per file,
# "<order>\t<content-type>\t<cache-control>\t<relative path>", sorted so that
# hashed assets go first, other files next and index.html last.
cp -R "$dist/." "$stage/"
python3 - "$stage" "$inline" >"$plan" <<'PY'
import hashlib, os, re, sys

root, inline = sys.argv[1], sys.argv[2]

TYPES = {
    ".wasm": "application/wasm",
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".css": "text/css",
    ".html": "text/html; charset=utf-8",
    ".svg": "image/svg+xml",
    ".ico": "image/x-icon",
    ".txt": "text/plain",
    ".json": "application/json",
    ".map": "application/json",
    ".webmanifest": "application/manifest+json",
    ".xml": "application/xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".avif": "image/avif",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
}
IMMUTABLE = "public, max-age=31536000, immutable"
NO_CACHE = "no-cache"
# Trunk's content hashes: name-<16 hex>.ext, name-<hex>_bg.wasm, and
# snippets/<crate>-<hex>/… folders. At least 8 hex digits count as a hash.
HASHED = re.compile(r"(^|/)[^/]*-[0-9a-f]{8,}(_bg)?(\.[A-Za-z0-9]+$|/)")
INLINE_MODULE = re.compile(
    r'<script(?P<attrs>[^>]*\btype="module"[^>]*)>(?P<body>(?:(?!</script>).)+?)</script>',
    re.S,
)

index = os.path.join(root, "index.html")
if inline == "move":
    html = open(index, encoding="utf-8").read()

    def externalise(m):
        body = m.group("body")
        if not body.strip() or re.search(r"\bsrc=", m.group("attrs")):
            return m.group(0)
        name = "trunk-loader-%s.js" % hashlib.sha256(body.encode()).hexdigest()[:16]
        with open(os.path.join(root, name), "w", encoding="utf-8") as f:
            f.write(body.strip() + "\n")
        # A nonce baked in at build time is the same for everyone: drop it.
        attrs = re.sub(r'\s+nonce="[^"]*"', "", m.group("attrs"))
        return '<script%s src="/%s"></script>' % (attrs, name)

    html = INLINE_MODULE.sub(externalise, html)
    with open(index, "w", encoding="utf-8") as f:
        f.write(html)

for dirpath, _, files in os.walk(root):
    for name in files:
        rel = os.path.relpath(os.path.join(dirpath, name), root).replace(os.sep, "/")
        ext = os.path.splitext(name)[1].lower()
        ctype = TYPES.get(ext, "application/octet-stream")
        if rel == "index.html":
            order, cache = 3, NO_CACHE
        elif HASHED.search(rel):
            order, cache = 1, IMMUTABLE
        else:
            order, cache = 2, NO_CACHE
        print(f"{order}\t{ctype}\t{cache}\t{rel}")
PY
sort -t $'\t' -k1,1n -k4,4 "$plan" -o "$plan"

# One directory per (order, type, cache) group, hard links into the stage,
# so each group is one `aws s3 cp --recursive` with its own headers, and the
# groups run in plan order: hashed assets, other files, index.html.
groups=()
while IFS=$'\t' read -r order ctype cache rel; do
  key="$order|$ctype|$cache"
  dir=$work/groups/$(printf '%s' "$key" | sha256sum | cut -c1-12)
  if [[ ! -d $dir ]]; then
    mkdir -p "$dir"
    groups+=("$key")
    printf '%s' "$key" >"$dir.key"
  fi
  mkdir -p "$dir/$(dirname "$rel")"
  ln "$stage/$rel" "$dir/$rel"
done <"$plan"

for folder in "${folders[@]}"; do
  echo "==> s3://$bucket/$folder/"
  record="_releases/$folder.keys"
  cut -f4 "$plan" | sed "s|^|$folder/|" | sort >"$work/current"
  previous=yes
  aws s3 cp "s3://$bucket/$record" "$work/previous" --only-show-errors 2>/dev/null || previous=no

  for key in "${groups[@]}"; do
    IFS='|' read -r _ ctype cache <<<"$key"
    dir=$work/groups/$(printf '%s' "$key" | sha256sum | cut -c1-12)
    (cd "$dir" && find . -type f | sed 's|^\./||' | sort) | while IFS= read -r rel; do
      echo "put $folder/$rel  [$ctype; $cache]"
    done
    aws s3 cp "$dir" "s3://$bucket/$folder/" --recursive --only-show-errors \
      --content-type "$ctype" --cache-control "$cache" --metadata-directive REPLACE
  done

  # index.html now names this release: record it before anything is deleted,
  # so a run that fails from here on still leaves the next one knowing that
  # this release is live (and keeps its files).
  echo "record $record"
  aws s3 cp "$work/current" "s3://$bucket/$record" --only-show-errors \
    --content-type "text/plain; charset=utf-8" --cache-control no-cache

  if [[ $previous == no ]]; then
    echo "keep: no record of the previous release of $folder/, nothing deleted this time"
    continue
  fi
  # Delete what neither this release nor the previous one has.
  sort -u "$work/current" "$work/previous" >"$work/keep"
  aws s3api list-objects-v2 --bucket "$bucket" --prefix "$folder/" \
    --query 'Contents[].Key' --output text | tr '\t' '\n' | grep -v '^None$' | sed '/^$/d' | sort >"$work/have" || true
  comm -23 "$work/have" "$work/keep" >"$work/stale"
  if [[ -s $work/stale ]]; then
    sed 's/^/delete /' "$work/stale"
    # delete-objects takes up to 1000 keys a call.
    split -l 1000 "$work/stale" "$work/stale."
    for chunk in "$work"/stale.*; do
      python3 -c 'import json,sys; print(json.dumps({"Objects": [{"Key": k.rstrip("\n")} for k in sys.stdin], "Quiet": True}))' \
        <"$chunk" >"$work/delete.json"
      aws s3api delete-objects --bucket "$bucket" --delete "file://$work/delete.json" >/dev/null
    done
    rm -f "$work"/stale.*
  fi
done

# Only what keeps its name across releases: index.html (and "/", which the
# routing function serves from it) and the other non-hashed files.
paths=(/ /index.html)
while IFS=$'\t' read -r order _ _ rel; do
  [[ $order == 2 ]] && paths+=("/$rel")
done <"$plan"
for id in "${distributions[@]}"; do
  echo "==> CloudFront invalidation of $id: ${paths[*]}"
  aws cloudfront create-invalidation --distribution-id "$id" --paths "${paths[@]}" \
    --query 'Invalidation.Id' --output text
done
echo "sync-spa: done (${#folders[@]} folder(s))"
