#!/usr/bin/env bash
# Server CPU per fan-out delivery over wss:// next to ws:// (docs/benchmarks.md):
# a fresh server per kind (same config, bench/tls_lib.sh), CLIENTS subscribers
# of one channel (bench/fanout_tls.mjs, Node's `ws` package), MESSAGES backend
# publishes of about 110 bytes; server utime+stime per delivery.
# Env: CLIENTS=500, MESSAGES=200, and those of bench/lib.sh (BUILD_DIR, THREADS, ...)
source "$(dirname "$0")/tls_lib.sh"
CLIENTS=${CLIENTS:-500}
MESSAGES=${MESSAGES:-200}
for kind in ws wss; do
  start_kind "$kind"
  node "$BENCH_DIR/fanout_tls.mjs" "$kind://localhost:$port/ws" "http://127.0.0.1:$backend/backend" "$CLIENTS" "$MESSAGES" "$pid" "$WORK_DIR/cert.pem"
  stop_kind
done
