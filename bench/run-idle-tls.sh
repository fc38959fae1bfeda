#!/usr/bin/env bash
# Memory per idle connection over wss:// next to ws:// (docs/benchmarks.md):
# a fresh server per kind (same config, bench/tls_lib.sh), N idle connections
# opened by bench/idle_tls.mjs (Node, the `ws` package), server RSS growth per
# connection.
# Env: COUNT=2000, and those of bench/lib.sh (BUILD_DIR, THREADS, ...)
source "$(dirname "$0")/tls_lib.sh"
COUNT=${COUNT:-2000}
for kind in ws wss; do
  start_kind "$kind"
  node "$BENCH_DIR/idle_tls.mjs" "$kind://localhost:$port/ws" "$COUNT" "$pid" "$WORK_DIR/cert.pem"
  stop_kind
done
