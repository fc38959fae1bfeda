# Shared helpers for bench/run-*.sh and bench/smoke.sh (sourced, not run).
# Builds what a scenario needs, starts the real server on free loopback ports
# and stops it on exit. Environment:
#   BUILD_DIR   build tree (default <repo>/build-bench, RelWithDebInfo)
#   SNORKY      server binary (default $BUILD_DIR/snorky); SNORKY_BENCH, SEND_FLOOR likewise
#   THREADS     server I/O threads (default 2)
#   WS_OPTIONS, PUBSUB_OPTIONS  extra TOML lines for the websocket listener / the pubsub service
#   PROFILE     a folder: record each run's server with `perf record -e cpu-clock -g`
#               and write perf-<label>.txt (top symbols, with and without children) there
#   BENCH_NICE  niceness of the server and the generator (default -10 when root, else 0):
#               the machine is shared, and a compile at nice 0 next to the run
#               would otherwise take most of the two cores and skew latencies.
#               With scheduler autogroups on, niceness only orders processes of
#               one session, so the script re-runs itself in a session of its own
#               and gives that session's group the niceness.
set -euo pipefail

if [[ -z "${BENCH_NICE:-}" ]]; then
    if [[ $(id -u) == 0 ]]; then BENCH_NICE=-10; else BENCH_NICE=0; fi
fi
export BENCH_NICE
if [[ "$BENCH_NICE" != 0 && -w /proc/self/autogroup && -z "${SNORKY_BENCH_SESSION:-}" ]]; then
    SNORKY_BENCH_SESSION=1 exec setsid -w bash "$0" "$@"
fi
if [[ "$BENCH_NICE" != 0 && -n "${SNORKY_BENCH_SESSION:-}" ]]; then
    echo "$BENCH_NICE" >/proc/self/autogroup 2>/dev/null || true
fi

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$BENCH_DIR/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$REPO_DIR/build-bench}
THREADS=${THREADS:-2}
BACKEND_KEY=${BACKEND_KEY:-bench-key}
WORK_DIR=$(mktemp -d /tmp/snorky-bench.XXXXXX)
SERVER_PID=""
NODE_A_PID=""
REDIS_PID=""

cleanup() {
    stop_server
    [[ -n "$NODE_A_PID" ]] && kill "$NODE_A_PID" 2>/dev/null
    [[ -n "$REDIS_PID" ]] && kill "$REDIS_PID" 2>/dev/null
    rm -rf "$WORK_DIR"
}
trap cleanup EXIT

# Configures (once) and builds only the targets the scenario needs, -j2 at most.
build_targets() {
    if [[ -n "${SNORKY:-}" && -n "${SNORKY_BENCH:-}" && -n "${SEND_FLOOR:-}" ]]; then return; fi
    if [[ ! -f "$BUILD_DIR/build.ninja" ]]; then
        cmake -S "$REPO_DIR" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    fi
    ninja -C "$BUILD_DIR" -j2 "$@" >/dev/null
    SNORKY=${SNORKY:-$BUILD_DIR/snorky}
    SNORKY_BENCH=${SNORKY_BENCH:-$BUILD_DIR/bench/snorky-bench}
    SEND_FLOOR=${SEND_FLOOR:-$BUILD_DIR/bench/send_floor}
}

# The config every scenario uses: frontend WebSocket and backend HTTP on free
# loopback ports, PubSub with backend-only publishing ($1 = client_publish).
write_config() {
    local client_publish=${1:-false}
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
# The load generator is trusted and opens thousands of connections at once:
# the public listener's abuse limits would measure themselves, not the server.
rate_limit = 0
max_handshakes = 0
${WS_OPTIONS:-}

[[listener]]
type = "backend"
registry = "backend"
address = "127.0.0.1"
port = 0
path = "/backend"
key = "$BACKEND_KEY"

[[service]]
name = "pubsub"
type = "pubsub"
registry = "frontend"
client_publish = $client_publish
${PUBSUB_OPTIONS:-}

[[service]]
name = "pubsub_backend"
type = "pubsub_backend"
registry = "backend"
pubsub = "pubsub"
TOML
}

# Starts the server (fresh each time, so RSS baselines are clean) and waits for its ready file.
start_server() {
    stop_server
    write_config "${1:-false}"
    rm -f "$WORK_DIR/ready.json"
    # A process may hold at most the hard limit of open files (20,000 here).
    ulimit -n "$(ulimit -Hn)"
    # ENGINE (e.g. redis://127.0.0.1:6390) selects the scale-out engine; default in-memory.
    nice -n "$BENCH_NICE" "$SNORKY" --config "$WORK_DIR/snorky.toml" --ready-file "$WORK_DIR/ready.json" ${ENGINE:+--engine "$ENGINE"} >"$WORK_DIR/server.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 1 200); do
        [[ -s "$WORK_DIR/ready.json" ]] && return 0
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.05
    done
    echo "server did not become ready; its log:" >&2
    cat "$WORK_DIR/server.log" >&2
    return 1
}

# A redis-server of the scenario's own (REDIS_PORT, default a free one), no
# persistence; sets REDIS_PID and REDIS_URL. Stopped on exit.
start_redis() {
    command -v redis-server >/dev/null || { echo "redis-server is needed (apt-get install redis-server)" >&2; exit 1; }
    REDIS_PORT=${REDIS_PORT:-$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')}
    redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no >"$WORK_DIR/redis.log" 2>&1 &
    REDIS_PID=$!
    for _ in $(seq 1 100); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.05; done
    REDIS_URL="redis://127.0.0.1:$REDIS_PORT"
}

# A second node ("node A") on the Redis engine with the config of the running
# server (start_server first); its ready file is $WORK_DIR/ready-a.json.
start_node_a() {
    nice -n "$BENCH_NICE" "$SNORKY" --config "$WORK_DIR/snorky.toml" --ready-file "$WORK_DIR/ready-a.json" \
        --engine "$REDIS_URL" >"$WORK_DIR/node-a.log" 2>&1 &
    NODE_A_PID=$!
    for _ in $(seq 1 200); do [[ -s "$WORK_DIR/ready-a.json" ]] && break; sleep 0.05; done
}

# The port of the first listener of a type in a ready file.
port_of() {
    /usr/bin/python3 -c 'import json,sys; print([l["port"] for l in json.load(open(sys.argv[1]))["listeners"] if l["type"]==sys.argv[2]][0])' "$1" "$2"
}

stop_server() {
    if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill "$SERVER_PID"
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    SERVER_PID=""
}

# Runs the generator against the running server; extra arguments pass through
# (the first must be --label NAME when PROFILE is set).
bench() {
    ulimit -n "$(ulimit -Hn)"
    local perf_pid=""
    if [[ -n "${PROFILE:-}" ]]; then
        # The VM has no hardware counters: sample on the cpu-clock software event.
        perf record -q -e cpu-clock -F 999 -g -p "$SERVER_PID" -o "$WORK_DIR/perf.data" 2>/dev/null &
        perf_pid=$!
        sleep 0.3
    fi
    nice -n "$BENCH_NICE" "$SNORKY_BENCH" --ready-file "$WORK_DIR/ready.json" --backend-key "$BACKEND_KEY" --server-pid "$SERVER_PID" "$@"
    if [[ -n "$perf_pid" ]]; then
        kill -INT "$perf_pid"
        wait "$perf_pid" 2>/dev/null || true
        mkdir -p "$PROFILE"
        local out="$PROFILE/perf-${2:-run}.txt"
        perf report -i "$WORK_DIR/perf.data" --no-children --sort symbol --stdio -g none >"$WORK_DIR/self.txt" 2>/dev/null || true
        perf report -i "$WORK_DIR/perf.data" --children --sort symbol --stdio -g none >"$WORK_DIR/children.txt" 2>/dev/null || true
        {
            echo "# perf record -e cpu-clock -g of the server during: $*"
            echo "## self time by symbol"
            grep -v '^#' "$WORK_DIR/self.txt" | grep -v '^$' | sed 's/  *-  *- *$//; s/ *$//' | head -40 || true
            echo "## including callees (children, self)"
            grep -v '^#' "$WORK_DIR/children.txt" | grep -v '^$' | sed 's/  *-  *- *$//; s/ *$//' | head -70 || true
        } >"$out"
        echo "profile: $out"
    fi
}

# Measures the floor for sends of $1 bytes to 5,000 sockets; sets FLOOR_NS and FLOOR_SOFTIRQ_NS.
measure_floor() {
    local size=${1:-130} out
    local perf=()
    # With PROFILE, the sender alone (--no-inherit: not the draining child) is sampled too.
    [[ -n "${PROFILE:-}" ]] && perf=(perf record -q -e cpu-clock -F 999 -g --no-inherit -o "$WORK_DIR/floor.data" --)
    out=$(nice -n "$BENCH_NICE" "${perf[@]}" "$SEND_FLOOR" -n 5000 -s "$size" -r "${FLOOR_ROUNDS:-60}" -i 50)
    echo "$out"
    if [[ -n "${PROFILE:-}" ]]; then
        mkdir -p "$PROFILE"
        perf report -i "$WORK_DIR/floor.data" --no-children --sort symbol --stdio -g none >"$WORK_DIR/self.txt" 2>/dev/null || true
        {
            echo "# perf record -e cpu-clock -g of send_floor's sender"
            grep -v '^#' "$WORK_DIR/self.txt" | grep -v '^$' | sed 's/  *-  *- *$//; s/ *$//' | head -40 || true
        } >"$PROFILE/perf-floor.txt"
    fi
    FLOOR_NS=$(sed -n 's/^FLOOR ns_per_send=\([0-9]*\).*/\1/p' <<<"$out")
    FLOOR_SOFTIRQ_NS=$(sed -n 's/^FLOOR.*softirq_ns_per_send=\([0-9]*\).*/\1/p' <<<"$out")
}

machine_info() {
    echo "machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), $(free -g | awk '/Mem:/{print $2}') GiB RAM, kernel $(uname -r)"
    echo "date: $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git -C "$REPO_DIR" rev-parse --short HEAD 2>/dev/null || echo '?'), load average $(cut -d' ' -f1-3 /proc/loadavg), server and generator at nice $BENCH_NICE"
}
