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
command -v redis-server >/dev/null || { echo "redis-server is needed (apt-get install redis-server)" >&2; exit 1; }
machine_info
SUBSCRIBERS=${SUBSCRIBERS:-2000}
RATE=${RATE:-200}
DURATION=${DURATION:-5}

REDIS_PORT=${REDIS_PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')}
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no >"$WORK_DIR/redis.log" 2>&1 &
REDIS_PID=$!
NODE_A_PID=""
trap 'stop_server; [[ -n "$NODE_A_PID" ]] && kill "$NODE_A_PID" 2>/dev/null; kill "$REDIS_PID" 2>/dev/null; rm -rf "$WORK_DIR"' EXIT
for _ in $(seq 1 100); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.05; done
REDIS_URL="redis://127.0.0.1:$REDIS_PORT"

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
write_config false
nice -n "$BENCH_NICE" "$SNORKY" --config "$WORK_DIR/snorky.toml" --ready-file "$WORK_DIR/ready-a.json" \
    --engine "$REDIS_URL" >"$WORK_DIR/node-a.log" 2>&1 &
NODE_A_PID=$!
for _ in $(seq 1 200); do [[ -s "$WORK_DIR/ready-a.json" ]] && break; sleep 0.05; done
port_of() { python3 -c 'import json,sys; print([l["port"] for l in json.load(open(sys.argv[1]))["listeners"] if l["type"]==sys.argv[2]][0])' "$1" "$2"; }
ulimit -n "$(ulimit -Hn)"
nice -n "$BENCH_NICE" "$SNORKY_BENCH" --label redis-remote --ws-port "$(port_of "$WORK_DIR/ready.json" websocket)" \
    --backend-port "$(port_of "$WORK_DIR/ready-a.json" backend)" --backend-key "$BACKEND_KEY" --server-pid "$SERVER_PID" \
    "${args[@]}" | tee -a "$WORK_DIR/results.txt"

echo
"$BENCH_DIR/summarize.py" fanout <"$WORK_DIR/results.txt"
