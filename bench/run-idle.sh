#!/usr/bin/env bash
# Scenario 1: idle connections. For 5k, 10k and 15k WebSocket connections
# (a fresh server each time): server memory per connection from RSS growth,
# then the connections are held idle (default 60 s) and RSS is watched for growth.
# Env: COUNTS="5000 10000 15000", HOLD=60, CHANNELS=0 (1 = each also subscribes to one channel)
source "$(dirname "$0")/lib.sh"
build_targets snorky snorky-bench
machine_info
for n in ${COUNTS:-5000 10000 15000}; do
    echo
    echo "== idle: $n connections, held ${HOLD:-60} s"
    start_server
    bench --label "idle-$n" -c "$n" --channels "${CHANNELS:-0}" --hold "${HOLD:-60}" -d 0 | tee -a "$WORK_DIR/results.txt"
done
echo
"$BENCH_DIR/summarize.py" idle <"$WORK_DIR/results.txt"
