#!/usr/bin/python3
"""End-to-end check of the to-do example (run by ctest as example_todo_e2e).

Starts the real Snorky binary with this example's config (on free ports) and
the application, opens three filtered views over WebSocket, makes a seeded
random sequence of changes through the application's API (some of them
before the views are acquired), and checks that every view, built from its
initial rows plus the deltas it received, equals a fresh query. Deltas are
applied strictly: an insert of a row the view has, or an update or delete of
one it lacks, fails the check.

    /usr/bin/python3 e2e_check.py --snorky build/snorky
"""
import argparse
import base64
import hashlib
import json
import os
import random
import re
import secrets
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent


class WebSocket:
    """Just enough of RFC 6455 for a test: text frames, pings, close."""

    def __init__(self, port, path="/ws"):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                           f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                           "Sec-WebSocket-Version: 13\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise RuntimeError("connection closed during the WebSocket handshake")
            head += chunk
        head, _, self.buffer = head.partition(b"\r\n\r\n")
        accept = base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest())
        if not head.startswith(b"HTTP/1.1 101") or accept not in head:
            raise RuntimeError(f"WebSocket handshake refused: {head[:200]!r}")

    def _send(self, opcode, payload):
        mask = os.urandom(4)
        n = len(payload)
        header = bytes([0x80 | opcode])
        if n < 126:
            header += bytes([0x80 | n])
        elif n < 65536:
            header += bytes([0x80 | 126]) + struct.pack("!H", n)
        else:
            header += bytes([0x80 | 127]) + struct.pack("!Q", n)
        self.sock.sendall(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    def send_json(self, value):
        self._send(1, json.dumps(value).encode())

    def _read(self, n, deadline):
        while len(self.buffer) < n:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            self.sock.settimeout(remaining)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                raise TimeoutError from None
            if not chunk:
                raise ConnectionError("server closed the connection")
            self.buffer += chunk
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    def receive_json(self, timeout):
        """The next text message as JSON, or None after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        try:
            while True:
                b0, b1 = self._read(2, deadline)
                n = b1 & 0x7F
                if n == 126:
                    n = struct.unpack("!H", self._read(2, deadline))[0]
                elif n == 127:
                    n = struct.unpack("!Q", self._read(8, deadline))[0]
                payload = self._read(n, deadline)
                opcode = b0 & 0x0F
                if opcode == 9:
                    self._send(10, payload)
                elif opcode == 8:
                    raise ConnectionError("server closed the connection")
                elif opcode == 1:
                    return json.loads(payload)
        except TimeoutError:
            return None

    def close(self):
        try:
            self._send(8, struct.pack("!H", 1000))
        except OSError:
            pass
        self.sock.close()


def http(method, url, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        text = response.read()
        return json.loads(text) if text else None


class View:
    """A browser's view: rows from the application plus the deltas Snorky sends."""

    def __init__(self, app, ws_port, team, done):
        self.app, self.team, self.done = app, team, done
        reply = http("GET", f"{app}/api/tasks?team={team}&done={self.done_param()}")
        self.token = reply["token"]
        self.rows = {task["id"]: task for task in reply["tasks"]}
        self.socket = WebSocket(ws_port)
        self.applied = 0

    def done_param(self):
        return {True: "true", False: "false", None: "any"}[self.done]

    def acquire(self):
        self.socket.send_json({"service": "datasync", "message": {
            "command": "acquireSubscription", "params": {"token": self.token}, "callId": "acquire"}})

    def apply(self, message):
        if message.get("type") == "response":
            assert message == {"type": "response", "callId": "acquire", "data": None}, message
            return
        assert message.get("type") == "delta", f"unexpected message {message}"
        delta = message["delta"]
        assert delta["model"] == "task", delta
        if delta["type"] == "insert":
            row = delta["data"]
            assert row["id"] not in self.rows, f"{self}: insert of a row it has: {delta}"
            self.rows[row["id"]] = row
        elif delta["type"] == "update":
            row = delta["newData"]
            assert row["id"] in self.rows, f"{self}: update of a row it lacks: {delta}"
            assert self.rows[row["id"]] == delta["oldData"], f"{self}: stale oldData in {delta}"
            self.rows[row["id"]] = row
        elif delta["type"] == "delete":
            row = delta["data"]
            assert row["id"] in self.rows, f"{self}: delete of a row it lacks: {delta}"
            del self.rows[row["id"]]
        else:
            raise AssertionError(f"bad delta {delta}")
        self.applied += 1

    def drain(self, timeout):
        while True:
            message = self.socket.receive_json(timeout)
            if message is None:
                return
            assert message.get("service") == "datasync", message
            self.apply(message["message"])

    def fresh(self):
        reply = http("GET", f"{self.app}/api/tasks?team={self.team}&done={self.done_param()}")
        return {task["id"]: task for task in reply["tasks"]}

    def __str__(self):
        return f"view(team={self.team}, done={self.done_param()})"


def start(snorky, work):
    config = (HERE / "snorky.toml").read_text()
    config = re.sub(r"(?m)^port = \d+", "port = 0", config)
    config = config.replace('address = "0.0.0.0"', 'address = "127.0.0.1"')
    (work / "snorky.toml").write_text(config)
    env = dict(os.environ, SNORKY_BACKEND_KEY=secrets.token_hex(16))
    ready = work / "ready.json"
    server = subprocess.Popen([snorky, "--config", str(work / "snorky.toml"), "--ready-file", str(ready)], env=env,
                              stdout=open(work / "snorky.log", "wb"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 15
    while not (ready.exists() and ready.stat().st_size):
        if server.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("Snorky did not start:\n" + (work / "snorky.log").read_text())
        time.sleep(0.05)
    time.sleep(0.05)  # the ready file is complete once it is non-empty and parses
    listeners = json.loads(ready.read_text())["listeners"]
    ws_port = next(l["port"] for l in listeners if l["type"] == "websocket")
    backend_port = next(l["port"] for l in listeners if l["type"] == "backend")
    app_env = dict(env, TODO_PORT="0", TODO_DB=":memory:", TODO_QUIET="1",
                   SNORKY_BACKEND_URL=f"http://127.0.0.1:{backend_port}/backend")
    app = subprocess.Popen([sys.executable, str(HERE / "app.py")], env=app_env, stdout=subprocess.PIPE,
                           stderr=open(work / "app.log", "wb"))
    line = app.stdout.readline().decode()
    match = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
    if not match:
        raise RuntimeError("the application did not start: " + line + (work / "app.log").read_text())
    return server, app, ws_port, f"http://127.0.0.1:{match.group(1)}"


def change(app, rng, ids):
    """One random change through the application's API."""
    action = rng.choice(["create", "create", "done", "done", "done", "team", "title", "delete"] if ids else ["create"])
    if action == "create":
        task = http("POST", f"{app}/api/tasks", {"title": f"task {rng.randrange(1000)}", "team": rng.randint(1, 3)})
        ids.append(task["id"])
    elif action == "delete":
        ids.remove(task_id := rng.choice(ids))
        http("DELETE", f"{app}/api/tasks/{task_id}")
    else:
        task_id = rng.choice(ids)
        body = {"done": rng.random() < 0.5} if action == "done" else \
            {"team": rng.randint(1, 3)} if action == "team" else {"title": f"renamed {rng.randrange(1000)}"}
        http("PATCH", f"{app}/api/tasks/{task_id}", body)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--snorky", required=True, help="path of the snorky binary")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--changes", type=int, default=120)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        server, app_process, ws_port, app = start(args.snorky, work)
        try:
            ids = []
            for _ in range(12):
                change(app, rng, ids)
            views = [View(app, ws_port, 1, False), View(app, ws_port, 2, None), View(app, ws_port, 1, True)]
            # Changes between the query and the acquisition wait in Snorky's buffer.
            for _ in range(15):
                change(app, rng, ids)
            for view in views:
                view.acquire()
            for _ in range(args.changes):
                change(app, rng, ids)
            for view in views:
                deadline = time.monotonic() + 10
                while True:
                    view.drain(0.3)
                    fresh = view.fresh()
                    if view.rows == fresh or time.monotonic() > deadline:
                        break
                assert view.rows == fresh, f"{view} differs from a fresh query:\n{view.rows}\n!=\n{fresh}"
                print(f"{view}: {len(fresh)} rows, {view.applied} deltas applied, equal to a fresh query")
            assert all(v.applied >= 5 for v in views), "a view saw too few deltas: the check proved little"
            # Cancelling stops the deltas.
            views[0].socket.send_json({"service": "datasync", "message": {
                "command": "cancelSubscription", "params": {"token": views[0].token}, "callId": "c"}})
            reply = views[0].socket.receive_json(5)
            assert reply == {"service": "datasync", "message": {"type": "response", "callId": "c", "data": None}}, reply
            http("POST", f"{app}/api/tasks", {"title": "after cancel", "team": 1})
            assert views[0].socket.receive_json(0.5) is None, "a cancelled view still receives deltas"
            for view in views:
                view.socket.close()
        finally:
            app_process.terminate()
            server.terminate()
            app_process.wait(5)
            server.wait(5)
    print("todo example: OK")


if __name__ == "__main__":
    main()
