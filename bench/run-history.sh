#!/usr/bin/env bash
# Cost of history per publish (issue 13, docs/benchmarks.md): the same fan-out
# with history off, with history kept (subscribers as the original clients,
# no offsets) and with history kept for subscribers that asked for offsets
# (`recover`: the second, offset-carrying frame). Server CPU per delivery of
# each as a ratio to "off" for the same engine and load, run one after the
# other so that the shared machine's drift hits all three alike.
#   memory   one node, in-memory engine (a ring per channel)
#   redis    one node, Redis engine (history kept in Redis)
# Env: CASES="1000x500 5000x20" (subscribers x publishes/s), DURATION=10,
#      ENGINES="memory redis", HISTORY_SIZE=100, PAYLOAD=16, REDIS_PORT
source "$(dirname "$0")/lib.sh"
build_targets snorky snorky-bench send_floor
machine_info
DURATION=${DURATION:-10}
HISTORY="history_size = ${HISTORY_SIZE:-100}"

REDIS_URL=""
if [[ " ${ENGINES:-memory redis} " == *" redis "* ]]; then start_redis; fi

run() {  # engine case variant pubsub-options [generator options...]
    local subs=${2%x*} rate=${2#*x}
    echo; echo "== $1/$2/$3: $subs subscribers on one channel, $rate publishes/s for $DURATION s"
    local engine=""
    [[ $1 == redis ]] && engine=$REDIS_URL
    PUBSUB_OPTIONS="$4" ENGINE="$engine" start_server
    # Past 20/s, 8 publishing connections keep the offered rate up (as run-fanout.sh).
    bench --label "$1/$2/$3" -c "$subs" --channels 1 --rate "$rate" -d "$DURATION" --payload "${PAYLOAD:-16}" \
        --publishers 8 "${@:5}" | tee -a "$WORK_DIR/results.txt"
}
for engine in ${ENGINES:-memory redis}; do
    for case in ${CASES:-1000x500 5000x20}; do
        run "$engine" "$case" off ""
        run "$engine" "$case" kept "$HISTORY"
        run "$engine" "$case" offsets "$HISTORY" --recover
    done
done
echo
"$BENCH_DIR/summarize.py" fanout <"$WORK_DIR/results.txt"
echo
"$BENCH_DIR/summarize.py" ratios <"$WORK_DIR/results.txt"
