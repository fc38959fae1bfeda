#!/usr/bin/env bash
# Scale-out cost: server CPU per delivery with the Redis engine next to the
# in-memory one, for the same fan-out. Three runs on one redis-server of its own:
#   memory        one node, in-memory engine
#   redis-local   one node on Redis (subscribers and publisher on the same node)
#   redis-remote  two nodes on Redis: the backend publishes through node A,
#                 every subscriber is on node B (figures are node B's)
# Env: SUBSCRIBERS=2000, RATE=200, DURATION=5, REDIS_PORT (default: a free one)
source "$(dirname "$0")/lib.sh"
build_targets snorky snorky-bench send_floor
machine_info
SUBSCRIBERS=${SUBSCRIBERS:-2000}
RATE=${RATE:-200}
DURATION=${DURATION:-5}

start_redis

echo
measure_floor 130
args=(-c "$SUBSCRIBERS" --channels 1 --rate "$RATE" -d "$DURATION" --floor-ns "$FLOOR_NS" --floor-softirq-ns "$FLOOR_SOFTIRQ_NS")

echo; echo "== memory: $SUBSCRIBERS subscribers, $RATE publishes/s, one node"
ENGINE="" start_server
bench --label memory "${args[@]}" | tee -a "$WORK_DIR/results.txt"

echo; echo "== redis-local: the same on one node with the Redis engine"
ENGINE="$REDIS_URL" start_server
bench --label redis-local "${args[@]}" | tee -a "$WORK_DIR/results.txt"

echo; echo "== redis-remote: publishing through node A, every subscriber on node B"
ENGINE="$REDIS_URL" start_server  # node B: the subscribers (lib.sh's server)
start_node_a
ulimit -n "$(ulimit -Hn)"
nice -n "$BENCH_NICE" "$SNORKY_BENCH" --label redis-remote --ws-port "$(port_of "$WORK_DIR/ready.json" websocket)" \
    --backend-port "$(port_of "$WORK_DIR/ready-a.json" backend)" --backend-key "$BACKEND_KEY" --server-pid "$SERVER_PID" \
    "${args[@]}" | tee -a "$WORK_DIR/results.txt"

echo
"$BENCH_DIR/summarize.py" fanout <"$WORK_DIR/results.txt"
