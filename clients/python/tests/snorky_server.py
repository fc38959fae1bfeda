"""Test support: runs the real `snorky` binary (path in SNORKY_BINARY) on free
ports, and a minimal WebSocket client to watch what browsers receive."""

import base64
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time
from typing import Any, List, Optional

KEY = "test-backend-key"


def binary() -> Optional[str]:
    return os.environ.get("SNORKY_BINARY")


def free_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as s:
        return s.getsockname()[1]


def config(frontend_port: int = 0, backend_port: int = 0, keepalive_timeout: Optional[int] = None) -> str:
    extra = "keepalive_timeout = %d\n" % keepalive_timeout if keepalive_timeout else ""
    return """
[server]
threads = 1
log_level = "warn"

[[listener]]
type = "websocket"
registry = "frontend"
address = "127.0.0.1"
port = %d
path = "/ws"

[[listener]]
type = "backend"
registry = "backend"
address = "127.0.0.1"
port = %d
path = "/backend"
key = "%s"
%s
[[service]]
name = "pubsub"
type = "pubsub"
registry = "frontend"

[[service]]
name = "pubsub_backend"
type = "pubsub_backend"
registry = "backend"
pubsub = "pubsub"
""" % (frontend_port, backend_port, KEY, extra)


class SnorkyServer:
    """Starts snorky with a config and waits for its ready file."""

    def __init__(self, toml_text: str) -> None:
        path = binary()
        if not path:
            raise RuntimeError("SNORKY_BINARY is not set")
        self._dir = tempfile.mkdtemp(prefix="snorky-pytest-")
        config_path = os.path.join(self._dir, "snorky.toml")
        ready_path = os.path.join(self._dir, "ready.json")
        with open(config_path, "w") as f:
            f.write(toml_text)
        self._log = open(os.path.join(self._dir, "log.txt"), "w+")
        self.process = subprocess.Popen([path, "--config", config_path, "--ready-file", ready_path],
                                        stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while not os.path.exists(ready_path):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("snorky did not start: %s" % self.logs())
            time.sleep(0.02)
        with open(ready_path) as f:
            listeners = json.load(f)["listeners"]
        self.frontend_port = next(l["port"] for l in listeners if l["type"] == "websocket")
        self.backend_port = next(l["port"] for l in listeners if l["type"] == "backend")
        self.backend_url = "http://127.0.0.1:%d/backend" % self.backend_port

    def logs(self) -> str:
        self._log.flush()
        self._log.seek(0)
        return self._log.read()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()
        shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> "SnorkyServer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class WsClient:
    """Just enough WebSocket (RFC 6455) for a test: text frames both ways."""

    def __init__(self, port: int, path: str = "/ws") -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
                           "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n"
                           % (path, port, key)).encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(1)
            if not chunk:
                raise RuntimeError("WebSocket handshake failed: %r" % head)
            head += chunk
        if not head.startswith(b"HTTP/1.1 101"):
            raise RuntimeError("WebSocket handshake refused: %r" % head)

    def send_json(self, value: Any) -> None:
        payload = json.dumps(value).encode()
        mask = os.urandom(4)
        header = bytes([0x81])
        if len(payload) < 126:
            header += bytes([0x80 | len(payload)])
        elif len(payload) < 65536:
            header += bytes([0x80 | 126]) + struct.pack("!H", len(payload))
        else:
            header += bytes([0x80 | 127]) + struct.pack("!Q", len(payload))
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(header + mask + masked)

    def _read_exact(self, n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise RuntimeError("WebSocket closed")
            data += chunk
        return data

    def receive_json(self, timeout: float = 5) -> Any:
        self.sock.settimeout(timeout)
        while True:
            first, second = self._read_exact(2)
            length = second & 0x7F
            if length == 126:
                length = struct.unpack("!H", self._read_exact(2))[0]
            elif length == 127:
                length = struct.unpack("!Q", self._read_exact(8))[0]
            payload = self._read_exact(length)
            opcode = first & 0x0F
            if opcode == 0x1:
                return json.loads(payload.decode())
            if opcode == 0x8:
                raise RuntimeError("WebSocket closed by the server")
            # ping/pong: ignored (tests are far shorter than the ping interval)

    def call(self, service: str, command: str, call_id: int, **params: Any) -> Any:
        self.send_json({"service": service, "message": {"command": command, "params": params, "callId": call_id}})
        return self.receive_json()

    def close(self) -> None:
        self.sock.close()
