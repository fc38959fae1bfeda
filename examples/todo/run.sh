#!/bin/sh
# Starts Snorky with this example's config and the to-do web application.
# Then open http://127.0.0.1:8000/ (in two windows, to see the views move).
# Builds Snorky first if ../../build/snorky does not exist yet.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../start_snorky.sh"
start_snorky --config "$here/snorky.toml"

cd "$here"
SNORKY_BACKEND_URL=http://127.0.0.1:5801/backend \
SNORKY_WS_URL='ws://{host}:5800/ws' \
TODO_PORT=${TODO_PORT:-8000} \
/usr/bin/python3 "$here/app.py"
