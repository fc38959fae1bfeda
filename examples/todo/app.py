#!/usr/bin/python3
"""A to-do list whose pages stay live through Snorky DataSync.

Standard library only (http.server + sqlite3 + urllib). The rules that make
the views exact:

1. GET /api/tasks authorizes a Snorky subscription *before* it queries the
   database, and returns the rows together with the token.
2. Every change is committed, then published to Snorky as a delta.
3. Both happen under one lock, so a change is either wholly before the
   authorization (the query sees it, no delta reaches the view) or wholly
   after the query (the delta reaches the view, the query did not see it).

Environment:
  SNORKY_BACKEND_KEY   required: the key of Snorky's backend listener
  SNORKY_BACKEND_URL   http://127.0.0.1:5801/backend
  SNORKY_WS_URL        what browsers connect to: ws://{host}:5800/ws, {host}
                       being the host that served the page
  TODO_PORT            8000 (0: any free port, printed at start)
  TODO_DB              todo.sqlite3 (":memory:" for a throwaway list)
  TODO_ALLOWED_ORIGINS pages on other origins allowed to call the API (CORS),
                       comma-separated; default: Snorky's own demo pages,
                       http://localhost:5800,http://127.0.0.1:5800
"""
import json
import os
import re
import sqlite3
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from snorky_backend import SnorkyBackend, SnorkyError

STATIC = Path(__file__).resolve().parent / "static"
CONTENT_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
                 ".css": "text/css; charset=utf-8"}
MAX_BODY = 64 * 1024
MAX_TITLE = 200


class TodoStore:
    """The application's own database; Snorky never sees it, only deltas."""

    def __init__(self, path, snorky):
        self.db = sqlite3.connect(path, check_same_thread=False)
        self.db.row_factory = sqlite3.Row
        self.db.execute("""CREATE TABLE IF NOT EXISTS task (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            title TEXT NOT NULL,
            team INTEGER NOT NULL,
            done INTEGER NOT NULL DEFAULT 0)""")
        self.db.commit()
        self.snorky = snorky
        self.lock = threading.Lock()  # rule 3 above

    @staticmethod
    def as_json(row):
        return {"id": row["id"], "title": row["title"], "team": row["team"], "done": bool(row["done"])}

    @staticmethod
    def view_filter(team, done):
        """The Snorky filter for a view: the same condition as the SQL below."""
        expression = ["==", "team", team]
        return expression if done is None else ["and", expression, ["==", "done", done]]

    def view(self, team, done):
        with self.lock:
            # Rule 1: authorize first, then query.
            token = self.snorky.call("datasync_backend", "authorizeSubscription",
                                     items=[{"dealer": "tasks", "query": self.view_filter(team, done)}])
            sql, args = "SELECT * FROM task WHERE team = ?", [team]
            if done is not None:
                sql, args = sql + " AND done = ?", args + [int(done)]
            rows = self.db.execute(sql + " ORDER BY id", args).fetchall()
            return {"token": token, "tasks": [self.as_json(r) for r in rows]}

    def _get(self, task_id):
        row = self.db.execute("SELECT * FROM task WHERE id = ?", (task_id,)).fetchone()
        return self.as_json(row) if row else None

    def _publish(self, delta):
        # Rule 2: after the commit. If Snorky is down the change stays made;
        # open views miss it (a real application would queue and retry).
        try:
            self.snorky.call("datasync_backend", "publishDeltas", deltas=[delta])
        except (SnorkyError, OSError, RuntimeError) as error:
            print(f"todo: could not publish a delta: {error}", file=sys.stderr)

    def create(self, title, team):
        with self.lock:
            cursor = self.db.execute("INSERT INTO task (title, team) VALUES (?, ?)", (title, team))
            self.db.commit()
            task = self._get(cursor.lastrowid)
            self._publish({"type": "insert", "model": "task", "data": task})
            return task

    def update(self, task_id, changes):
        with self.lock:
            old = self._get(task_id)
            if old is None:
                return None
            new = dict(old, **changes)
            self.db.execute("UPDATE task SET title = ?, team = ?, done = ? WHERE id = ?",
                            (new["title"], new["team"], int(new["done"]), task_id))
            self.db.commit()
            self._publish({"type": "update", "model": "task", "newData": new, "oldData": old})
            return new

    def delete(self, task_id):
        with self.lock:
            old = self._get(task_id)
            if old is None:
                return False
            self.db.execute("DELETE FROM task WHERE id = ?", (task_id,))
            self.db.commit()
            self._publish({"type": "delete", "model": "task", "data": old})
            return True


class BadRequest(Exception):
    pass


def parse_team(value):
    if isinstance(value, bool) or not isinstance(value, int):
        try:
            value = int(value)
        except (TypeError, ValueError):
            raise BadRequest("team must be an integer")
    if not 1 <= value <= 1_000_000:
        raise BadRequest("team must be between 1 and 1000000")
    return value


def parse_title(value):
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_TITLE:
        raise BadRequest(f"title must be a non-empty string of at most {MAX_TITLE} characters")
    return value.strip()


class Handler(BaseHTTPRequestHandler):
    allowed_origins = frozenset()  # set in main()
    store = None       # set by main()
    snorky_ws = None   # the WebSocket URL the page connects to
    server_version = "todo-example"

    def log_message(self, fmt, *args):
        if os.environ.get("TODO_QUIET") != "1":
            super().log_message(fmt, *args)

    def cors_headers(self):
        # web/todo/ is served by Snorky on another origin; only listed origins may call.
        origin = self.headers.get("Origin")
        if origin and origin in self.allowed_origins:
            self.send_header("Access-Control-Allow-Origin", origin)
            self.send_header("Vary", "Origin")

    def do_OPTIONS(self):
        self.send_response(204)
        self.cors_headers()
        self.send_header("Access-Control-Allow-Methods", "GET, POST, PATCH, DELETE")
        self.send_header("Access-Control-Allow-Headers", "Content-Type")
        self.send_header("Access-Control-Max-Age", "600")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def reply(self, status, body=None, content_type="application/json"):
        data = b"" if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
        self.send_response(status)
        self.cors_headers()
        if body is not None:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(data)

    def body(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            raise BadRequest("body too large")
        try:
            value = json.loads(self.rfile.read(length) or b"{}")
        except ValueError:
            raise BadRequest("body must be JSON")
        if not isinstance(value, dict):
            raise BadRequest("body must be a JSON object")
        return value

    def handle_errors(self, fn):
        try:
            fn()
        except BadRequest as error:
            self.reply(400, {"error": str(error)})
        except (SnorkyError, OSError, RuntimeError) as error:
            self.reply(502, {"error": f"Snorky: {error}"})

    def do_GET(self):
        self.handle_errors(self.get)

    def do_POST(self):
        self.handle_errors(self.post)

    def do_PATCH(self):
        self.handle_errors(self.patch)

    def do_DELETE(self):
        self.handle_errors(self.delete)

    def get(self):
        path, _, query = self.path.partition("?")
        if path == "/api/config":
            return self.reply(200, {"snorkyUrl": self.snorky_ws})
        if path == "/api/tasks":
            params = dict(p.split("=", 1) for p in query.split("&") if "=" in p)
            done = {"true": True, "false": False, "any": None, None: None}.get(params.get("done"), "bad")
            if done == "bad":
                raise BadRequest("done must be true, false or any")
            return self.reply(200, self.store.view(parse_team(params.get("team")), done))
        name = "index.html" if path == "/" else path.lstrip("/")
        file = STATIC / name
        if re.fullmatch(r"[a-z_]+\.(html|js|css)", name) and file.is_file():
            return self.reply(200, file.read_bytes(), CONTENT_TYPES[file.suffix])
        self.reply(404, {"error": "not found"})

    def post(self):
        if self.path != "/api/tasks":
            return self.reply(404, {"error": "not found"})
        body = self.body()
        self.reply(201, self.store.create(parse_title(body.get("title")), parse_team(body.get("team"))))

    def task_id(self):
        match = re.fullmatch(r"/api/tasks/(\d+)", self.path)
        return int(match.group(1)) if match else None

    def patch(self):
        task_id = self.task_id()
        if task_id is None:
            return self.reply(404, {"error": "not found"})
        body, changes = self.body(), {}
        if "title" in body:
            changes["title"] = parse_title(body["title"])
        if "team" in body:
            changes["team"] = parse_team(body["team"])
        if "done" in body:
            if not isinstance(body["done"], bool):
                raise BadRequest("done must be true or false")
            changes["done"] = body["done"]
        if set(body) - {"title", "team", "done"}:
            raise BadRequest("only title, team and done can change")
        task = self.store.update(task_id, changes)
        self.reply(200, task) if task else self.reply(404, {"error": "no such task"})

    def delete(self):
        task_id = self.task_id()
        if task_id is None or not self.store.delete(task_id):
            return self.reply(404, {"error": "no such task"})
        self.reply(204)


def main():
    key = os.environ.get("SNORKY_BACKEND_KEY")
    if not key:
        sys.exit("todo: set SNORKY_BACKEND_KEY (the key of Snorky's backend listener)")
    snorky = SnorkyBackend(os.environ.get("SNORKY_BACKEND_URL", "http://127.0.0.1:5801/backend"), key)
    Handler.store = TodoStore(os.environ.get("TODO_DB", "todo.sqlite3"), snorky)
    Handler.snorky_ws = os.environ.get("SNORKY_WS_URL", "ws://{host}:5800/ws")
    origins = os.environ.get("TODO_ALLOWED_ORIGINS", "http://localhost:5800,http://127.0.0.1:5800")
    Handler.allowed_origins = {o.strip() for o in origins.split(",") if o.strip()}
    server = ThreadingHTTPServer(("127.0.0.1", int(os.environ.get("TODO_PORT", "8000"))), Handler)
    print(f"todo: listening on http://127.0.0.1:{server.server_address[1]}/", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
