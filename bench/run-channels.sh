#!/usr/bin/env bash
# Scenario 3: many channels. 10k clients over 1k channels (10 subscribers
# each); the backend publishes to random channels at rising rates.
# Env: CLIENTS=10000, CHANNELS=1000, RATES="1000 5000 10000", DURATION=10
source "$(dirname "$0")/lib.sh"
build_targets snorky snorky-bench send_floor
machine_info
DURATION=${DURATION:-10}
echo
measure_floor 130
for rate in ${RATES:-1000 5000 10000}; do
    echo
    echo "== channels: ${CLIENTS:-10000} clients over ${CHANNELS:-1000} channels, $rate random publishes/s for $DURATION s"
    start_server
    bench --label "channels-${CHANNELS:-1000}x$rate" -c "${CLIENTS:-10000}" --channels "${CHANNELS:-1000}" --pick random \
        --rate "$rate" -d "$DURATION" --publishers 4 --inflight 4 --floor-ns "$FLOOR_NS" \
        --floor-softirq-ns "$FLOOR_SOFTIRQ_NS" | tee -a "$WORK_DIR/results.txt"
done
echo
"$BENCH_DIR/summarize.py" fanout <"$WORK_DIR/results.txt"
