#!/usr/bin/env bash
# Scenario 2: fan-out. One channel, 1k / 5k / 10k subscribers, the backend
# publishes at a fixed rate (default 20/s for 10 s): deliveries/s, server CPU
# per delivery as a multiple of the send() floor measured in the same run,
# latency percentiles. Then the saturation sweep (10k subscribers, rising
# rates) and the coalescing case (1k subscribers at 500 and 1000 publishes/s).
# Env: SUBSCRIBERS="1000 5000 10000", RATE=20, DURATION=10,
#      SATURATION_RATES="20 40 80 160", COALESCE_RATES="500 1000", PAYLOAD=16
source "$(dirname "$0")/lib.sh"
build_targets snorky snorky-bench send_floor
machine_info
DURATION=${DURATION:-10}
PAYLOAD=${PAYLOAD:-16}
echo
echo "== floor: one send() of a delivery-sized message (130 bytes) to one of 5,000 loopback sockets"
measure_floor 130
FLOOR_ARGS=(--floor-ns "$FLOOR_NS" --floor-softirq-ns "$FLOOR_SOFTIRQ_NS" --payload "$PAYLOAD")

run() {  # label subscribers rate
    echo
    echo "== $1: $2 subscribers on one channel, $3 publishes/s for $DURATION s"
    start_server
    bench --label "$1" -c "$2" --channels 1 --rate "$3" -d "$DURATION" "${FLOOR_ARGS[@]}" | tee -a "$WORK_DIR/results.txt"
}
for subs in ${SUBSCRIBERS-1000 5000 10000}; do run "fanout-$subs" "$subs" "${RATE:-20}"; done
for rate in ${SATURATION_RATES-40 80 160}; do run "saturate-10000x$rate" 10000 "$rate"; done
for rate in ${COALESCE_RATES-500 1000}; do run "coalesce-1000x$rate" 1000 "$rate"; done
echo
"$BENCH_DIR/summarize.py" fanout <"$WORK_DIR/results.txt"
