"""Test support for snorky.backend.django: Django configured for the test app
(djangoapp/, an in-memory SQLite database made by Django's own test-database
code), a real snorky with DataSync, and a WebSocket subscriber that sees what
browsers would."""

import json
import os
import socket
import threading
import urllib.request
from typing import Any, List, Optional

import django
from django.conf import settings

from snorky_server import KEY, SnorkyServer, WsClient

if not settings.configured:
    settings.configure(
        DEBUG=False,
        SECRET_KEY="tests-only",
        ALLOWED_HOSTS=["testserver", "localhost", "127.0.0.1"],
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
        INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth", "rest_framework", "djangoapp"],
        ROOT_URLCONF="djangoapp.urls",
        DEFAULT_AUTO_FIELD="django.db.models.AutoField",
        USE_TZ=True,
        REST_FRAMEWORK={"UNAUTHENTICATED_USER": None, "DEFAULT_AUTHENTICATION_CLASSES": []},
        SNORKY_API_KEY=KEY,
        SNORKY_TIMEOUT=1.0,
    )
    django.setup()

_database_ready = False


def setup_database() -> None:
    """Django's test runner's step: the tables of the installed apps."""
    global _database_ready
    if _database_ready:
        return
    from django.db import connection
    from django.test.utils import setup_test_environment

    setup_test_environment()
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    _database_ready = True


SNORKY_CONFIG = """
[server]
threads = 1
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
key = "%s"
metrics = true

[[service]]
name = "datasync"
type = "datasync"
registry = "frontend"

[[service.dealer]]
name = "tasks"
model = "task"
kind = "filter"

[[service.dealer]]
name = "all_tasks"
model = "task"
kind = "broadcast"

[[service.dealer]]
name = "notes"
model = "Note"
kind = "broadcast"

[[service]]
name = "datasync_backend"
type = "datasync_backend"
registry = "backend"
datasync = "datasync"
""" % KEY


def start_snorky() -> SnorkyServer:
    return SnorkyServer(SNORKY_CONFIG)


def metric(server: SnorkyServer, name: str) -> int:
    """A counter of snorky's /metrics (on the backend listener)."""
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % server.backend_port, timeout=5) as response:
        for line in response.read().decode().splitlines():
            if line.startswith("snorky_%s " % name):
                return int(line.split()[1])
    raise AssertionError("no metric snorky_%s" % name)


def backend_envelopes(server: SnorkyServer) -> int:
    # Envelopes snorky dispatched; with no browser sending meanwhile, the
    # backend calls made (a /metrics read is no envelope).
    return metric(server, "messages_received_total")


class Subscriber:
    """A browser's side of DataSync: acquires a token, then reads deltas."""

    def __init__(self, server: SnorkyServer, token: str) -> None:
        self.ws = WsClient(server.frontend_port)
        reply = self.ws.call("datasync", "acquireSubscription", 1, token=token)
        if reply != {"service": "datasync", "message": {"type": "response", "callId": 1, "data": None}}:
            raise AssertionError("acquireSubscription answered %r" % (reply,))

    @classmethod
    def authorize(cls, server: SnorkyServer, dealer: str, query: Any) -> "Subscriber":
        from snorky.backend.django import get_backend

        token = get_backend().call("datasync_backend", "authorizeSubscription",
                                   items=[{"dealer": dealer, "query": query}])
        return cls(server, token)

    def delta(self, timeout: float = 5) -> Any:
        message = self.ws.receive_json(timeout)
        if message.get("service") != "datasync" or message["message"].get("type") != "delta":
            raise AssertionError("expected a delta, got %r" % (message,))
        return message["message"]["delta"]

    def deltas(self, count: int) -> List[Any]:
        return [self.delta() for _ in range(count)]

    def close(self) -> None:
        self.ws.close()


def sentinel(text: str, model: str = "task", **fields: Any) -> dict:
    """A delta published straight to snorky (not through Django): the first
    thing a subscriber receives after a point where nothing else must come.
    ``fields`` make it match the subscriber's filter."""
    return {"type": "insert", "model": model, "data": dict({"id": -1, "title": text}, **fields)}


def publish_directly(delta: dict) -> None:
    from snorky.backend.django import get_backend

    get_backend().call("datasync_backend", "publishDeltas", deltas=[delta])


class SilentServer:
    """Accepts connections and never answers: a Snorky that hangs."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.accepted: List[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted.append(conn)

    def close(self) -> None:
        self.sock.close()
        for conn in self.accepted:
            conn.close()


def closed_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.create_server(("127.0.0.1", 0)) as s:
        return s.getsockname()[1]
