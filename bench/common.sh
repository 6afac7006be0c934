# shellcheck shell=bash
# Shared by the bench scripts (sourced after `cd` to the repository root).

# A scratch folder, $WORK (with $WORK/tmp), and the processes the script
# starts, $PIDS: at exit the processes are stopped and the folder removed.
# Cargo's target directory (CARGO_TARGET_DIR or the workspace's).
target_dir() {
  cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])'
}
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

# nginx's settings for the bench server $1 with $2 worker processes; the
# `http` block's servers come on standard input. $3 "off" runs it without a
# master process, so the worker is the process started (what callgrind
# needs to count it).
nginx_conf() { # name workers [master]
  cat <<CONF
worker_processes $2;
master_process ${3:-on};
daemon off;
error_log $WORK/nginx-$1.err warn;
pid $WORK/nginx-$1.pid;
events { worker_connections 8192; }
http {
  access_log off;
  keepalive_requests 1000000;
  client_body_temp_path $WORK/tmp/body; proxy_temp_path $WORK/tmp/proxy;
  fastcgi_temp_path $WORK/tmp/fcgi; uwsgi_temp_path $WORK/tmp/uwsgi; scgi_temp_path $WORK/tmp/scgi;
$(cat)
}
CONF
}

# The upstream every target is measured against, on port $1: a fixed
# 58-byte JSON body.
upstream_server() { # port
  cat <<CONF
  server {
    listen 127.0.0.1:$1;
    location / {
      default_type application/json;
      return 200 '{"sub":"bench","scopes":["openid","api"],"ok":true}';
    }
  }
CONF
}

# nginx's proxy_pass on port $1 to the upstream on port $2, doing what ours
# does to the headers: HTTP/1.1 with keepalive, setting Authorization,
# clearing Cookie, adding X-Forwarded-*.
nginx_proxy_server() { # port upstream-port
  cat <<CONF
  upstream api {
    server 127.0.0.1:$2;
    keepalive 256;
  }
  server {
    listen 127.0.0.1:$1;
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
CONF
}

# Our proxy's settings: listen on port $1 with $2 workers; the cookie key
# $KEY and the route /api/example to $UP_PORT come from the calling script
# (the same as bff_toml's).
proxy_toml() { # port workers
  cat <<CONF
listen = "127.0.0.1:$1"
workers = $2

[cors]
allowed_origins = ["http://127.0.0.1:8080"]

[cookies]
keys = [{ id = "bench", key = "$KEY" }]

[[proxy.routes]]
prefix = "/api/example"
upstream = "http://127.0.0.1:$UP_PORT"
CONF
}

# A [metrics] section listening on port $1, to append to either's settings.
metrics_toml() { # port
  printf '\n[metrics]\nlisten = "127.0.0.1:%s"\n' "$1"
}
