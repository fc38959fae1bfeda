#!/bin/sh
# Starts Snorky (serving the page on http://127.0.0.1:5800/) and the Django
# to-do application (its API on http://127.0.0.1:8000/api/tasks/).
# Then open http://127.0.0.1:5800/ in two windows.
# Builds Snorky first if ../../build/snorky does not exist yet.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../start_snorky.sh"
# The page's lib/ is a link to the JS client (clients/js/src): follow it.
start_snorky --config "$here/snorky.toml" --static-dir "$here/static" --static-follow-symlinks

cd "$here"
export SNORKY_BACKEND_URL=http://127.0.0.1:5801/backend
/usr/bin/python3 manage.py migrate --noinput
echo "run.sh: open http://127.0.0.1:5800/ (the API is on http://127.0.0.1:${TODO_PORT:-8000}/api/tasks/)"
/usr/bin/python3 manage.py runserver --noreload "127.0.0.1:${TODO_PORT:-8000}"
