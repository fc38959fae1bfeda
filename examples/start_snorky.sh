# Sourced by the examples' run.sh after setting `here` (the example's folder):
# `start_snorky ARGS...` builds Snorky if ../../build/snorky does not exist yet,
# makes up the backend key shared by Snorky and the application unless
# SNORKY_BACKEND_KEY is given (exported), starts Snorky with ARGS in the
# background, waits until it is ready and stops it when the script exits.
root=$(cd "$here/../.." && pwd)
snorky=${SNORKY:-$root/build/snorky}

start_snorky() {
    if [ ! -x "$snorky" ]; then
        echo "run.sh: building Snorky first"
        cmake -S "$root" -B "$root/build" -G Ninja >/dev/null
        ninja -C "$root/build" -j2 snorky
    fi
    if [ -z "${SNORKY_BACKEND_KEY:-}" ]; then
        SNORKY_BACKEND_KEY=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
    fi
    export SNORKY_BACKEND_KEY

    work=$(mktemp -d)
    snorky_pid=""
    trap 'stop_snorky' EXIT INT TERM
    "$snorky" "$@" --ready-file "$work/ready" &
    snorky_pid=$!
    tries=0
    while [ ! -s "$work/ready" ]; do
        tries=$((tries + 1))
        if [ "$tries" -gt 100 ] || ! kill -0 "$snorky_pid" 2>/dev/null; then
            echo "run.sh: Snorky did not start (see its log above)" >&2
            exit 1
        fi
        sleep 0.1
    done
}

stop_snorky() {
    [ -n "$snorky_pid" ] && kill "$snorky_pid" 2>/dev/null || true
    rm -rf "$work"
}
