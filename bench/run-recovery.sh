#!/usr/bin/env bash
# Recovery after a mass disconnect (issue 13, docs/benchmarks.md): CLIENTS
# subscribers with `recover` lose their connections at once, MISSED messages
# are published, and all reconnect at once asking for what they missed
# (bench/recovery.mjs). Reports the time until every client is live again and
# the server CPU spent (and redis-server's), per engine:
#   memory        one node, in-memory engine
#   redis         one node, Redis engine (history kept in Redis)
#   redis-other   Redis engine, clients first on node A, reconnecting to node B
# Env: CLIENTS=1000, MISSED=1000, PAYLOAD=100, REDIS_PORT (default: a free one)
source "$(dirname "$0")/lib.sh"
build_targets snorky
machine_info
CLIENTS=${CLIENTS:-1000}
MISSED=${MISSED:-1000}
PAYLOAD=${PAYLOAD:-100}
export PUBSUB_OPTIONS="history_size = $MISSED
history_ttl = 300"

ws_url() { echo "ws://127.0.0.1:$(port_of "$1" websocket)/ws"; }
backend_url() { echo "http://127.0.0.1:$(port_of "$1" backend)/backend"; }
recover() {  # label, first ready file, second ready file (its server is SERVER_PID)
    echo; echo "== $1: $CLIENTS clients, $MISSED missed messages of $PAYLOAD bytes"
    ulimit -n "$(ulimit -Hn)"
    nice -n "$BENCH_NICE" node "$BENCH_DIR/recovery.mjs" "$(ws_url "$2")" "$(ws_url "$3")" "$(backend_url "$2")" \
        "$BACKEND_KEY" "$CLIENTS" "$MISSED" "$SERVER_PID" "$PAYLOAD" $REDIS_PID
}

ENGINE="" start_server
recover memory "$WORK_DIR/ready.json" "$WORK_DIR/ready.json"

start_redis

ENGINE="$REDIS_URL" start_server
recover redis "$WORK_DIR/ready.json" "$WORK_DIR/ready.json"

# Node A takes the first subscriptions and the publishes; the reconnects go to
# node B (lib.sh's server, whose CPU is measured).
ENGINE="$REDIS_URL" start_server
start_node_a
recover redis-other "$WORK_DIR/ready-a.json" "$WORK_DIR/ready.json"
