# Shared helpers for bench/run-*.sh and bench/smoke.sh (sourced, not run).
# Builds what a scenario needs, starts the real server on free loopback ports
# and stops it on exit. Environment:
#   BUILD_DIR   build tree (default <repo>/build-bench, RelWithDebInfo)
#   SNORKY      server binary (default $BUILD_DIR/snorky); SNORKY_BENCH, SEND_FLOOR likewise
#   THREADS     server I/O threads (default 2)
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$BENCH_DIR/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$REPO_DIR/build-bench}
THREADS=${THREADS:-2}
BACKEND_KEY=${BACKEND_KEY:-bench-key}
WORK_DIR=$(mktemp -d /tmp/snorky-bench.XXXXXX)
SERVER_PID=""

cleanup() {
    stop_server
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
    "$SNORKY" --config "$WORK_DIR/snorky.toml" --ready-file "$WORK_DIR/ready.json" >"$WORK_DIR/server.log" 2>&1 &
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

stop_server() {
    if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill "$SERVER_PID"
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    SERVER_PID=""
}

# Runs the generator against the running server; extra arguments pass through.
bench() {
    ulimit -n "$(ulimit -Hn)"
    "$SNORKY_BENCH" --ready-file "$WORK_DIR/ready.json" --backend-key "$BACKEND_KEY" --server-pid "$SERVER_PID" "$@"
}

# Measures the floor for sends of $1 bytes to 5,000 sockets; sets FLOOR_NS and FLOOR_SOFTIRQ_NS.
measure_floor() {
    local size=${1:-130} out
    out=$("$SEND_FLOOR" -n 5000 -s "$size" -r "${FLOOR_ROUNDS:-200}" -i 50)
    echo "$out"
    FLOOR_NS=$(sed -n 's/^FLOOR ns_per_send=\([0-9]*\).*/\1/p' <<<"$out")
    FLOOR_SOFTIRQ_NS=$(sed -n 's/^FLOOR.*softirq_ns_per_send=\([0-9]*\).*/\1/p' <<<"$out")
}

machine_info() {
    echo "machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), $(free -g | awk '/Mem:/{print $2}') GiB RAM, kernel $(uname -r)"
    echo "date: $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git -C "$REPO_DIR" rev-parse --short HEAD 2>/dev/null || echo '?'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
}
