#!/usr/bin/env bash
# Churn soak: thousands of clients connect, authenticate, subscribe, join chat
# channels and cursor documents (names of 1 byte to the maximum, multi-byte
# UTF-8 too), create cursors, acquire DataSync subscriptions and go away in
# random order (half RST, half clean close; some in the middle of the handshake
# or right after a request), while a watcher checks that a numbered sequence
# published through the backend (PubSub and DataSync) arrives complete and in
# order. Starts its own server with every service type.
#
# Usage: bench/soak.sh [--minutes M | --seconds S] [--clients N] [--binary PATH]
#                      [--workers W] [--rate R] [--hold SECONDS] [--out DIR]
#                      [--rss-check auto|on|off]
#   --minutes/--seconds  how long the churn lasts (default 2 minutes)
#   --clients            concurrent client sessions (default 1000)
#   --binary             the server (default build/snorky)
#   --workers            client processes (default: one per 1,500 clients)
#   --rate               numbered publishes per second (default 20)
#   --hold               mean seconds a full session stays connected (default 8)
#   --out                where samples.csv, summary.json and server.log go
#   --rss-check          RSS within 5% from minute 2 to the last minute
#                        (auto: on for a build without ASan and at least 3 minutes)
#   --server-env VAR=VALUE  set in the server's environment only (repeatable),
#                        e.g. GLIBC_TUNABLES=glibc.malloc.mmap_threshold=16384
#   --heap-stats         also sample glibc's heap bytes in use (bench/soak/heapstats.c
#                        preloaded into the server): tells a leak from allocator retention
# Exit status non-zero on any failure: a sequence number missing or out of
# order, a client-visible error or lost answer, the server dying or exiting
# uncleanly, a sanitizer report in its log, RSS growth, a descriptor leak.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# First, with the arguments untouched: lib.sh may re-run this script in a session of its own.
SNORKY_BENCH=unused SEND_FLOOR=unused
source "$HERE/lib.sh"

main() {
SECONDS_TOTAL=120 CLIENTS=1000 BINARY="" WORKERS="" RATE=20 HOLD=8 OUT="" RSS_CHECK=auto HEAP_STATS=0 SERVER_ENV=()
while [[ $# -gt 0 ]]; do
    case $1 in
        --minutes) SECONDS_TOTAL=$(awk -v m="$2" 'BEGIN { printf "%d", m * 60 }'); shift 2 ;;
        --seconds) SECONDS_TOTAL=$2; shift 2 ;;
        --clients) CLIENTS=$2; shift 2 ;;
        --binary) BINARY=$2; shift 2 ;;
        --workers) WORKERS=$2; shift 2 ;;
        --rate) RATE=$2; shift 2 ;;
        --hold) HOLD=$2; shift 2 ;;
        --out) OUT=$2; shift 2 ;;
        --rss-check) RSS_CHECK=$2; shift 2 ;;
        --heap-stats) HEAP_STATS=1; shift ;;
        --server-env) SERVER_ENV+=("$2"); shift 2 ;;
        -h|--help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "soak.sh: unknown argument $1 (see --help)" >&2; exit 64 ;;
    esac
done

SNORKY=$(realpath "${BINARY:-$HERE/../build/snorky}")
[[ -x "$SNORKY" ]] || { echo "soak.sh: no server binary at $SNORKY (build it, or pass --binary)" >&2; exit 64; }
[[ -d "$HERE/../clients/js/node_modules/ws" ]] || { echo "soak.sh: the ws package is missing: run 'make deps' (or cd clients/js && npm ci)" >&2; exit 64; }
# Each client process stays far below the 20,000 open files of a process.
WORKERS=${WORKERS:-$(( (CLIENTS + 1499) / 1500 ))}
OUT=${OUT:-${TMPDIR:-/tmp}/snorky-soak-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUT"
OUT=$(realpath "$OUT")

ASAN=0
if nm -an "$SNORKY" 2>/dev/null | grep -c __asan_init >/dev/null; then ASAN=1; fi  # grep -q would cut nm short (pipefail)
case $RSS_CHECK in
    on) RSS=1 ;;
    off) RSS=0 ;;
    auto) RSS=$(( ASAN == 0 && SECONDS_TOTAL >= 180 ? 1 : 0 )) ;;
    *) echo "soak.sh: --rss-check auto|on|off" >&2; exit 64 ;;
esac

MAX_MESSAGE=65536
MAX_PARTICIPANT=256
SECRET=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')

# The abuse limits of newer servers (docs/abuse-limits.md) off, when the binary knows them.
LIMITS_OFF=""
printf '[[listener]]\ntype = "websocket"\nregistry = "frontend"\nport = 0\nrate_limit = 0\nmax_connections_per_ip = 0\nmax_handshakes = 0\n' >"$WORK_DIR/limits.toml"
if "$SNORKY" --config "$WORK_DIR/limits.toml" --check >/dev/null 2>&1; then
    LIMITS_OFF=$'rate_limit = 0\nmax_connections_per_ip = 0\nmax_handshakes = 0'
    echo "abuse limits (rate_limit, max_connections_per_ip, max_handshakes): off"
fi

# Every service type, limits far above what the soak does: it measures churn, not the limits.
write_config() {
    cat >"$WORK_DIR/snorky.toml" <<TOML
[server]
threads = $THREADS
log_level = "warn"

[[listener]]
type = "websocket"
registry = "frontend"
address = "127.0.0.1"
port = 0
path = "/ws"
max_message_size = $MAX_MESSAGE
handshake_timeout = 10
$LIMITS_OFF

[[listener]]
type = "backend"
registry = "backend"
address = "127.0.0.1"
port = 0
path = "/backend"
key = "$BACKEND_KEY"
metrics = true

[[service]]
name = "pubsub"
type = "pubsub"
registry = "frontend"

[[service]]
name = "pubsub_backend"
type = "pubsub_backend"
registry = "backend"
pubsub = "pubsub"

[[service]]
name = "auth"
type = "auth"
registry = "frontend"
secret = "$SECRET"

[[service]]
name = "auth_backend"
type = "auth_backend"
registry = "backend"
auth = "auth"

[[service]]
name = "chat"
type = "chat"
registry = "frontend"

[[service]]
name = "cursors"
type = "cursors"
registry = "frontend"

[[service]]
name = "messaging"
type = "messaging"
registry = "frontend"
max_name_bytes = $MAX_PARTICIPANT

[[service]]
name = "datasync"
type = "datasync"
registry = "frontend"
acquire_timeout = 20   # the tokens the soak abandons expire during the run

[[service.dealer]]
name = "tasks"
model = "task"
kind = "filter"

[[service.dealer]]
name = "byOwner"
model = "task"
kind = "simple"
key = "owner.id"

[[service.dealer]]
name = "seqAll"
model = "seq"
kind = "broadcast"

[[service]]
name = "datasync_backend"
type = "datasync_backend"
registry = "backend"
datasync = "datasync"
TOML
}

echo "soak: $SNORKY ($([[ $ASAN == 1 ]] && echo ASan || echo no ASan)), $CLIENTS clients, $SECONDS_TOTAL s, output in $OUT"
machine_info
# Sanitizer reports go to the server's log (stderr); any report fails the soak.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:halt_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
extra=()
local kv
for kv in "${SERVER_ENV[@]}"; do export "${kv?}"; done
if [[ $HEAP_STATS == 1 ]]; then
    [[ $ASAN == 0 ]] || { echo "soak.sh: --heap-stats needs a build without ASan" >&2; exit 64; }
    cc -O2 -shared -fPIC -o "$WORK_DIR/heapstats.so" "$HERE/soak/heapstats.c" -lpthread
    extra=(--heap-file "$WORK_DIR/heap.txt")
    LD_PRELOAD="$WORK_DIR/heapstats.so" SOAK_HEAP_FILE="$WORK_DIR/heap.txt" start_server
else
    start_server
fi
for kv in "${SERVER_ENV[@]}"; do export -n "${kv%%=*}"; done
ulimit -n "$(ulimit -Hn)"
[[ ${#SERVER_ENV[@]} == 0 ]] || echo "server environment: ${SERVER_ENV[*]}"

status=0
node "$HERE/soak/soak.mjs" --ready "$WORK_DIR/ready.json" --key "$BACKEND_KEY" --seconds "$SECONDS_TOTAL" \
    --clients "$CLIENTS" --workers "$WORKERS" --rate "$RATE" --hold-seconds "$HOLD" \
    --max-name $((MAX_MESSAGE - 256)) --max-participant "$MAX_PARTICIPANT" --rss-check "$RSS" --out "$OUT" "${extra[@]}" || status=1

# How often the allocator was trimmed ([server] memory_trim_interval) and how
# long that took, from /metrics, before the stop.
backend_port=$(python3 -c 'import json, sys; print(next(l["port"] for l in json.load(open(sys.argv[1]))["listeners"] if l["type"] == "backend"))' "$WORK_DIR/ready.json" 2>/dev/null || true)
if [[ -n $backend_port ]] && curl -sf "http://127.0.0.1:$backend_port/metrics" >"$OUT/metrics.txt" 2>/dev/null; then
    awk '$1 == "snorky_memory_trims_total" { n = $2 } $1 == "snorky_memory_trim_seconds_total" { t = $2 }
         $1 == "snorky_memory_trim_max_seconds" { m = $2 }
         END { if (n != "") printf "allocator trims: %d, %.1f ms in all, longest %.1f ms, mean %.1f ms\n", n, t * 1000, m * 1000, n ? t * 1000 / n : 0 }' "$OUT/metrics.txt"
fi

# A clean stop: SIGTERM, exit 0 (LeakSanitizer runs at exit in the ASan build).
server_rc=dead
if kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID"
    server_rc=0
    wait "$SERVER_PID" || server_rc=$?
fi
SERVER_PID=""
cp "$WORK_DIR/server.log" "$OUT/server.log"
if [[ $server_rc != 0 ]]; then
    echo "FAIL: the server exited with status $server_rc (log: $OUT/server.log)"
    status=1
fi
sanitizer=$(grep -E -c 'ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:|SUMMARY: (Address|Undefined|Leak)' "$OUT/server.log" || true)
if [[ $sanitizer != 0 ]]; then
    echo "FAIL: $sanitizer sanitizer report lines in $OUT/server.log:"
    grep -E -A30 'ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:' "$OUT/server.log" | head -60
    status=1
fi

python3 - "$OUT/summary.json" "$ASAN" "$sanitizer" <<'PY' || true
import json, sys
s = json.load(open(sys.argv[1]))
asan, reports = sys.argv[2] == "1", int(sys.argv[3])
mb = lambda kb: "n/a" if kb is None else f"{kb / 1024:.1f} MB"
print("---- churn soak summary")
print(f"clients {s['clients']} in {s['workers']} processes for {s['seconds']} s: {s['connections']} WebSocket connections "
      f"({s['connectsPerSecond']}/s), {s['sessions']} sessions ({s['sessionsPerSecond']}/s)")
print(f"  full {s['full']}, handshake aborted {s['handshakeAborts']}, aborted after a request {s['requestAborts']}, "
      f"open+close {s['openClose']}, forged token {s['badTokens']}; closes: RST {s['rstCloses']}, clean {s['cleanCloses']}")
print(f"  requests {s['requests']}, answers {s['responses']} (expected errors {s['expectedErrors']}), notifications {s['notifications']}")
print(f"  pubsub subscriptions {s['subscriptions']}, chat joins {s['chatJoins']}, cursors {s['cursors']}, "
      f"participants {s['participants']}, DataSync acquired {s['datasyncAcquired']} (abandoned tokens {s['abandonedTokens']})")
print(f"  name lengths (bytes): {dict(sorted(s['nameLengths'].items()))}")
print(f"sequence: {s['sequencePublished']} published, watcher got {s['watcherPubsub']} (PubSub) and {s['watcherDatasync']} (DataSync) in order; "
      f"{s['churnSeqChecked']} checked by churning subscribers; publisher max lag {s['publisherMaxLagMs']} ms")
print(f"RSS: baseline {mb(s['rssBaselineKb'])}, minute 2 {mb(s['rssMinute2Kb'])}, last minute {mb(s['rssLastMinuteKb'])} "
      f"({'n/a' if s['rssGrowthPercent'] is None else format(s['rssGrowthPercent'], '+.1f') + '%'}{'' if s['rssChecked'] else ', not checked'}), peak {mb(s['rssPeakKb'])}")
print(f"descriptors: baseline {s['fdsBaseline']}, peak {s['fdsPeak']}, after the churn {s['fdsAfter']}")
if "heapBaselineKb" in s:
    print(f"heap in use (mallinfo2): baseline {mb(s['heapBaselineKb'])}, minute 2 {mb(s['heapMinute2Kb'])}, "
          f"last minute {mb(s['heapLastMinuteKb'])}, after the churn {mb(s['heapAfterKb'])}; allocator held at the end {mb(s['heapHeldKb'])}")
print(f"sanitizer: {'ASan+UBSan build, ' + str(reports) + ' report lines' if asan else 'not an ASan build'}")
print(f"client failures: {s['clientFailures']}" + "".join(f"\n  {f}" for f in s['clientFailureSamples'][:10]))
for f in s["failures"]:
    print(f"FAIL: {f}")
PY
echo "soak: $([[ $status == 0 ]] && echo PASS || echo FAIL) (details in $OUT)"
exit $status
}

# All of it parsed before anything runs: editing this file during a run cannot derail it.
main "$@"
