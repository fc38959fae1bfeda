# Shared by bench/run-idle-tls.sh and bench/run-fanout-tls.sh (sourced, not
# run): lib.sh's server and config, with a throwaway EC certificate, a fresh
# server per kind (ws or wss), so that the two kinds differ only in TLS.
# Env: as bench/lib.sh (BUILD_DIR, THREADS, ...).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
build_targets snorky
export BACKEND_KEY  # the Node clients publish with it

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=localhost \
  -addext subjectAltName=DNS:localhost -days 2 -keyout "$WORK_DIR/key.pem" -out "$WORK_DIR/cert.pem" >/dev/null 2>&1

# Starts the server for kind $1 (ws or wss); sets pid, port (WebSocket) and backend (backend port).
start_kind() {
  WS_OPTIONS=""
  [ "$1" = wss ] && WS_OPTIONS="tls_cert = \"$WORK_DIR/cert.pem\"
tls_key = \"$WORK_DIR/key.pem\""
  start_server true
  pid=$SERVER_PID
  port=$(port_of "$WORK_DIR/ready.json" websocket)
  backend=$(port_of "$WORK_DIR/ready.json" backend)
}

stop_kind() { stop_server; }
