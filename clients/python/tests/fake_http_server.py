"""A scripted HTTP/1.1 server on 127.0.0.1 for connector tests: counts
accepted connections and requests, and answers each request the way the
test's handler says (reply, close without reply, partial reply, silence)."""

import dataclasses
import socket
import ssl
import threading
from typing import Callable, List, Optional

OK_BODY = b'{"service":"s","message":{"type":"response","data":null}}'


@dataclasses.dataclass
class Reply:
    mode: str = "reply"  # reply | close | partial | silent
    status: int = 200
    body: bytes = OK_BODY
    content_type: str = "application/json"
    close_after: bool = False  # close after replying, without saying so
    announce_close: bool = False  # send Connection: close and close


@dataclasses.dataclass
class Request:
    method: str
    target: str
    headers: dict
    body: bytes
    connection: int


class FakeHttpServer:
    def __init__(self, handler: Optional[Callable[[Request], Reply]] = None,
                 tls: Optional[ssl.SSLContext] = None) -> None:
        """With ``tls`` (a server-side context) it speaks HTTPS."""
        self.handler = handler or (lambda request: Reply())
        self.tls = tls
        self.failed_handshakes = 0
        self.accepts = 0
        self.requests: List[Request] = []
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._stopping = False
        self._threads: List[threading.Thread] = []
        self._sockets: List[socket.socket] = []
        accept_thread = threading.Thread(target=self._accept_loop, daemon=True)
        accept_thread.start()
        self._threads.append(accept_thread)

    def url(self, path: str = "/backend") -> str:
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def https_url(self, host: str = "localhost", path: str = "/backend") -> str:
        return "https://%s:%d%s" % (host, self.port, path)

    def close(self) -> None:
        self._stopping = True
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()  # wake accept()
        except OSError:
            pass
        self._listener.close()
        for s in list(self._sockets):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()
        for t in self._threads:
            t.join(timeout=2)

    def __enter__(self) -> "FakeHttpServer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _accept_loop(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            if self._stopping:
                conn.close()
                return
            with self._lock:
                self.accepts += 1
                index = self.accepts
                self._sockets.append(conn)
            t = threading.Thread(target=self._serve, args=(conn, index), daemon=True)
            t.start()
            self._threads.append(t)

    def _serve(self, conn: socket.socket, index: int) -> None:
        if self.tls is not None:
            try:
                conn = self.tls.wrap_socket(conn, server_side=True)
            except (ssl.SSLError, OSError):
                with self._lock:
                    self.failed_handshakes += 1
                conn.close()
                return
        reader = conn.makefile("rb")
        try:
            while True:
                request_line = reader.readline()
                if not request_line:
                    return
                method, target, _ = request_line.decode("latin-1").split(" ", 2)
                headers = {}
                while True:
                    line = reader.readline().decode("latin-1")
                    if line in ("\r\n", "\n", ""):
                        break
                    name, value = line.split(":", 1)
                    headers[name.strip().lower()] = value.strip()
                body = reader.read(int(headers.get("content-length", "0")))
                request = Request(method, target, headers, body, index)
                with self._lock:
                    self.requests.append(request)
                reply = self.handler(request)
                if reply.mode == "close":
                    return
                if reply.mode == "partial":
                    head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % (
                        len(reply.body) + 100)
                    conn.sendall(head.encode() + reply.body)
                    return
                if reply.mode == "silent":
                    while conn.recv(256):
                        pass
                    return
                head = "HTTP/1.1 %d X\r\nContent-Type: %s\r\nContent-Length: %d\r\n%s\r\n" % (
                    reply.status, reply.content_type, len(reply.body),
                    "Connection: close\r\n" if reply.announce_close else "")
                conn.sendall(head.encode() + reply.body)
                if reply.close_after or reply.announce_close:
                    return
        except OSError:
            return
        finally:
            reader.close()
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            conn.close()
