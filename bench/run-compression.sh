#!/usr/bin/env bash
# permessage-deflate (docs/compression.md): bytes on the wire and server CPU
# per delivery with and without compression, for JSON payloads of about 200 B
# and 2 KB (rows of a price feed, --json-payload). Two shapes: fan-out (one
# channel, every message compressed once for all its subscribers) and one
# subscriber per channel (every message compressed for a single delivery,
# the worst case for compression's CPU).
# Env: SUBSCRIBERS=1000, RATE=20 (fan-out), RATE_SINGLE=1000 (one per channel),
#      DURATION=10, PAYLOADS="200 2000"
source "$(dirname "$0")/lib.sh"
build_targets snorky snorky-bench
machine_info
DURATION=${DURATION:-10}
SUBSCRIBERS=${SUBSCRIBERS:-1000}
export WS_OPTIONS="compression = true"  # agreed only with subscribers that offer it (--deflate)

for payload in ${PAYLOADS-200 2000}; do
    for mode in plain deflate; do
        flags=(--json-payload --payload "$payload")
        [[ $mode == deflate ]] && flags+=(--deflate)
        echo
        echo "== fan-out, $payload B JSON, $mode: $SUBSCRIBERS subscribers on one channel, ${RATE:-20}/s"
        start_server
        bench --label "fanout-$payload-$mode" -c "$SUBSCRIBERS" --channels 1 --rate "${RATE:-20}" -d "$DURATION" \
            "${flags[@]}" | tee -a "$WORK_DIR/results.txt"
        echo
        echo "== single, $payload B JSON, $mode: $SUBSCRIBERS channels of one subscriber, ${RATE_SINGLE:-1000}/s"
        start_server
        bench --label "single-$payload-$mode" -c "$SUBSCRIBERS" --channels "$SUBSCRIBERS" --rate "${RATE_SINGLE:-1000}" \
            -d "$DURATION" --publishers 8 "${flags[@]}" | tee -a "$WORK_DIR/results.txt"
    done
done
stop_server
