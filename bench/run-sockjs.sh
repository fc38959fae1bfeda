#!/usr/bin/env bash
# SockJS next to plain WebSocket (docs/benchmarks.md, "SockJS"): server CPU
# per delivery for a fan-out (SUBSCRIBERS x RATE/s for DURATION s, one I/O
# thread) over WebSocket, SockJS websocket and SockJS xhr-streaming, then
# server memory per idle session (IDLE sessions each). TRIALS runs of each,
# interleaved, as the shared machine's load drifts.
# Env: SNORKY (default build/snorky), SUBSCRIBERS=1000, RATE=20, DURATION=10, IDLE=2000, TRIALS=3
set -euo pipefail
REPO_DIR=$(cd "$(dirname "$0")/.." && pwd)
SNORKY=${SNORKY:-$REPO_DIR/build/snorky}
for trial in $(seq 1 "${TRIALS:-3}"); do
    for mode in ws sockjs-ws xhr-streaming; do
        node "$REPO_DIR/bench/sockjs/sockjs_bench.mjs" --binary "$SNORKY" --mode "$mode" \
            --subscribers "${SUBSCRIBERS:-1000}" --rate "${RATE:-20}" --duration "${DURATION:-10}"
    done
done
for mode in ws sockjs-ws xhr-streaming; do
    node "$REPO_DIR/bench/sockjs/sockjs_bench.mjs" --binary "$SNORKY" --mode "$mode" --idle "${IDLE:-2000}"
done
