#!/bin/sh
# Starts Snorky (serving the page on http://127.0.0.1:5800/) and the Django
# to-do application (its API on http://127.0.0.1:8000/api/tasks/).
# Then open http://127.0.0.1:5800/ in two windows.
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

# One key shared by Snorky and Django, made up unless given.
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

# The page's lib/ is a link to the JS client (clients/js/src): follow it.
"$snorky" --config "$here/snorky.toml" --static-dir "$here/static" --static-follow-symlinks \
    --ready-file "$work/ready" &
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
export SNORKY_BACKEND_URL=http://127.0.0.1:5801/backend
/usr/bin/python3 manage.py migrate --noinput
echo "run.sh: open http://127.0.0.1:5800/ (the API is on http://127.0.0.1:${TODO_PORT:-8000}/api/tasks/)"
/usr/bin/python3 manage.py runserver --noreload "127.0.0.1:${TODO_PORT:-8000}"
