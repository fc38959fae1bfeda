#!/bin/sh
# Starts Snorky with this example's config and the to-do web application.
# Then open http://127.0.0.1:8000/ (in two windows, to see the views move).
# Builds Snorky first if ../../build/snorky does not exist yet.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
snorky=${SNORKY:-$root/build/snorky}
if [ ! -x "$snorky" ]; then
    echo "run.sh: building Snorky first"
    cmake -S "$root" -B "$root/build" -G Ninja >/dev/null
    ninja -C "$root/build" -j2 snorky
fi

# One key shared by Snorky and the application, made up unless given.
if [ -z "${SNORKY_BACKEND_KEY:-}" ]; then
    SNORKY_BACKEND_KEY=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
fi
export SNORKY_BACKEND_KEY

work=$(mktemp -d)
snorky_pid=""
cleanup() {
    [ -n "$snorky_pid" ] && kill "$snorky_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

"$snorky" --config "$here/snorky.toml" --ready-file "$work/ready" &
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

cd "$here"
SNORKY_BACKEND_URL=http://127.0.0.1:5801/backend \
SNORKY_WS_URL='ws://{host}:5800/ws' \
TODO_PORT=${TODO_PORT:-8000} \
/usr/bin/python3 "$here/app.py"
