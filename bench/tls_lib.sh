# Shared by bench/run-idle-tls.sh and bench/run-fanout-tls.sh (sourced, not
# run): a throwaway EC certificate, and a fresh server per kind (ws or wss)
# with the same config, so that the two kinds differ only in TLS.
# Env: SNORKY=<repo>/build/snorky, THREADS=2
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$BENCH_DIR/.." && pwd)
SNORKY=${SNORKY:-$REPO_DIR/build/snorky}
WORK=$(mktemp -d /tmp/snorky-bench-tls.XXXXXX)
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$WORK"' EXIT

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=localhost \
  -addext subjectAltName=DNS:localhost -days 2 -keyout "$WORK/key.pem" -out "$WORK/cert.pem" >/dev/null 2>&1

# Starts the server for kind $1 (ws or wss); sets pid, port (WebSocket) and backend (backend port).
start_kind() {
  local tls=""
  [ "$1" = wss ] && tls="tls_cert = \"$WORK/cert.pem\"
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
}

stop_kind() {
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
}
