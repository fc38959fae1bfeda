#!/usr/bin/env bash
# Server CPU per fan-out delivery over wss:// next to ws:// (docs/benchmarks.md):
# a fresh server per kind (same config), CLIENTS subscribers of one channel
# (bench/fanout_tls.mjs, Node's `ws` package), MESSAGES backend publishes of
# about 110 bytes; server utime+stime per delivery. A throwaway EC certificate.
# Env: CLIENTS=500, MESSAGES=200, SNORKY=<repo>/build/snorky, THREADS=2
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$BENCH_DIR/.." && pwd)
SNORKY=${SNORKY:-$REPO_DIR/build/snorky}
CLIENTS=${CLIENTS:-500}
MESSAGES=${MESSAGES:-200}
WORK=$(mktemp -d /tmp/snorky-bench-fanout-tls.XXXXXX)
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$WORK"' EXIT

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=localhost \
  -addext subjectAltName=DNS:localhost -days 2 -keyout "$WORK/key.pem" -out "$WORK/cert.pem" >/dev/null 2>&1

for kind in ws wss; do
  tls=""
  [ "$kind" = wss ] && tls="tls_cert = \"$WORK/cert.pem\"
tls_key = \"$WORK/key.pem\""
  cat >"$WORK/snorky.toml" <<TOML
[server]
threads = ${THREADS:-2}
log_level = "warn"
[[listener]]
type = "websocket"
registry = "frontend"
address = "127.0.0.1"
port = 0
path = "/ws"
rate_limit = 0
max_handshakes = 0
$tls
[[listener]]
type = "backend"
registry = "backend"
address = "127.0.0.1"
port = 0
path = "/backend"
key = "bench"
[[service]]
name = "pubsub"
type = "pubsub"
registry = "frontend"
[[service]]
name = "pubsub_backend"
type = "pubsub_backend"
registry = "backend"
pubsub = "pubsub"
TOML
  rm -f "$WORK/ready.json"
  "$SNORKY" --config "$WORK/snorky.toml" --ready-file "$WORK/ready.json" >"$WORK/server.log" 2>&1 &
  pid=$!
  for _ in $(seq 200); do [ -e "$WORK/ready.json" ] && break; sleep 0.05; done
  port=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["listeners"][0]["port"])' "$WORK/ready.json")
  backend=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["listeners"][1]["port"])' "$WORK/ready.json")
  node "$BENCH_DIR/fanout_tls.mjs" "$kind://localhost:$port/ws" "http://127.0.0.1:$backend/backend" "$CLIENTS" "$MESSAGES" "$pid" "$WORK/cert.pem"
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
done
