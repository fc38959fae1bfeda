#!/usr/bin/env bash
# Memory per idle connection over wss:// next to ws:// (docs/benchmarks.md):
# a fresh server per kind (same config, one listener each kind), N idle
# connections opened by bench/idle_tls.mjs (Node, the `ws` package), server
# RSS growth per connection. A throwaway EC certificate is made here.
# Env: COUNT=2000, SNORKY=<repo>/build/snorky, THREADS=2
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$BENCH_DIR/.." && pwd)
SNORKY=${SNORKY:-$REPO_DIR/build/snorky}
COUNT=${COUNT:-2000}
WORK=$(mktemp -d /tmp/snorky-bench-tls.XXXXXX)
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
TOML
  rm -f "$WORK/ready.json"
  "$SNORKY" --config "$WORK/snorky.toml" --ready-file "$WORK/ready.json" >"$WORK/server.log" 2>&1 &
  pid=$!
  for _ in $(seq 200); do [ -e "$WORK/ready.json" ] && break; sleep 0.05; done
  port=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["listeners"][0]["port"])' "$WORK/ready.json")
  node "$BENCH_DIR/idle_tls.mjs" "$kind://localhost:$port/ws" "$COUNT" "$pid" "$WORK/cert.pem"
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
done
