#!/usr/bin/env bash
# Scenario 2: fan-out. One channel, 1k / 5k / 10k subscribers, the backend
# publishes at a fixed rate (default 20/s for 10 s): deliveries/s, server CPU
# per delivery as a multiple of the send() floor (measured right before each
# run, as the shared machine's load drifts), latency percentiles. Then the
# saturation sweep (10k subscribers, rising rates) and the coalescing case
# (1k subscribers at 500 and 1000 publishes/s).
# Env: SUBSCRIBERS="1000 5000 10000", RATE=20, DURATION=10, TRIALS=3 (runs of the
#      5,000 x 20/s target case), SATURATION_RATES="40 80 160",
#      COALESCE_RATES="500 1000", PAYLOAD=16, FLOOR_ROUNDS=60
source "$(dirname "$0")/lib.sh"
build_targets snorky snorky-bench send_floor
machine_info
DURATION=${DURATION:-10}
PAYLOAD=${PAYLOAD:-16}
FLOOR_ROUNDS=${FLOOR_ROUNDS:-60}

run() {  # label subscribers rate [generator options...]
    echo
    echo "== $1: $2 subscribers on one channel, $3 publishes/s for $DURATION s"
    echo "-- floor: one send() of a delivery-sized message (130 bytes) to one of 5,000 loopback sockets"
    stop_server
    measure_floor 130
    start_server
    bench --label "$1" -c "$2" --channels 1 --rate "$3" -d "$DURATION" --payload "$PAYLOAD" \
        --floor-ns "$FLOOR_NS" --floor-softirq-ns "$FLOOR_SOFTIRQ_NS" "${@:4}" | tee -a "$WORK_DIR/results.txt"
}
for subs in ${SUBSCRIBERS-1000 5000 10000}; do
    trials=1
    [[ $subs == 5000 ]] && trials=${TRIALS:-3}
    for trial in $(seq 1 "$trials"); do
        suffix=""
        [[ $trials -gt 1 ]] && suffix="-$trial"
        run "fanout-$subs$suffix" "$subs" "${RATE:-20}"
    done
done
# Past 20/s the HTTP round trip grows with the server's load: 8 publishing
# connections keep the offered rate up instead of slowing down with the server.
for rate in ${SATURATION_RATES-40 80 160}; do run "saturate-10000x$rate" 10000 "$rate" --publishers 8; done
for rate in ${COALESCE_RATES-500 1000}; do run "coalesce-1000x$rate" 1000 "$rate" --publishers 8; done
echo
"$BENCH_DIR/summarize.py" fanout <"$WORK_DIR/results.txt"
