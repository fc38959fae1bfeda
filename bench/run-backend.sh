#!/usr/bin/env bash
# Scenario 4: backend throughput. HTTP publish requests per second over
# keep-alive connections, nobody subscribed (the cost of the request path
# itself): wrk with bench/wrk/publish.lua, then the generator's own publisher.
# Env: CONNECTIONS=32, DURATION=10, REDIS=1 (the Redis engine, on a
# redis-server of its own: each publish then waits for Redis, docs/scale-out.md
# "Backend calls in call order")
source "$(dirname "$0")/lib.sh"
build_targets snorky snorky-bench
machine_info
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-32}
if [[ -n "${REDIS:-}" ]]; then
    start_redis
    ENGINE=$REDIS_URL
fi
start_server
port=$(jq -r '[.listeners[] | select(.type == "backend")][0].port' "$WORK_DIR/ready.json")
echo
echo "== one request by hand (the answer must be a response, not an error):"
curl -s -X POST -H "X-Backend-Key: $BACKEND_KEY" -H 'Content-Type: application/json' \
    --data '{"service":"pubsub_backend","message":{"command":"publish","params":{"channel":"bench-0","message":{"p":"xxxxxxxxxxxxxxxx"}}}}' \
    "http://127.0.0.1:$port/backend"
echo
cpu0=$(awk '{print $14+$15}' "/proc/$SERVER_PID/stat")
echo
echo "== wrk: 1 thread, $CONNECTIONS keep-alive connections, $DURATION s"
BACKEND_KEY=$BACKEND_KEY nice -n "$BENCH_NICE" wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$BENCH_DIR/wrk/publish.lua" "http://127.0.0.1:$port/backend"
cpu1=$(awk '{print $14+$15}' "/proc/$SERVER_PID/stat")
echo "server CPU during wrk: $(( (cpu1 - cpu0) * 1000 / $(getconf CLK_TCK) )) ms"
echo
echo "== snorky-bench publisher: $CONNECTIONS keep-alive connections, one request in flight each, $DURATION s"
bench --label "backend-http" -c 0 --channels 1 --rate 0 --publishers "$CONNECTIONS" -d "$DURATION" --drain 0
