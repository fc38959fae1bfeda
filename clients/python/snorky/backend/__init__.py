"""Backend connector: RPC calls to Snorky backend services over HTTP.

Same interface as the original Python connector::

    from snorky.backend import SnorkyBackend, SnorkyHTTPTransport, SnorkyError

    backend_http = SnorkyHTTPTransport("http://127.0.0.1:5801/backend",
                                       key="swordfish")
    backend = SnorkyBackend(backend_http)
    backend.call("pubsub_backend", "publish",
                 channel="announcements", message="Hello World")

``call`` returns the service's return value (``None`` for JSON null). When the
service answers an error, :class:`SnorkyError` is raised with its message;
anything else (server down, timeout, HTTP status other than 200, a body that
is not a Snorky reply) raises :class:`RuntimeError` with the detail.

Standard library only. One HTTP/1.1 connection is kept alive and reused; when
the server closed it meanwhile (idle timeout, restart) the next call
reconnects. A reused connection that fails before any byte of a reply arrived
is retried once on a fresh connection; a request is never sent again once a
reply has started or after a timeout.
"""

import http.client
import json as _json_module
import select
import socket
import ssl
import threading
import urllib.parse
from typing import Any, Dict, Optional, Protocol

__all__ = ["SnorkyError", "SnorkyHTTPTransport", "SnorkyBackend"]


class SnorkyError(Exception):
    """An error answered by a Snorky service; ``args[0]`` (and ``str()``) is
    the service's message, e.g. ``"Unknown command"``."""

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else ""


class JSONModule(Protocol):
    """What ``json=`` arguments must provide (the :mod:`json` module does)."""

    def dumps(self, obj: Any) -> str: ...

    def loads(self, s: str) -> Any: ...


# Failures that mean "the peer had already closed this kept-alive connection".
_STALE_ERRORS = (
    http.client.RemoteDisconnected,
    ConnectionResetError,
    ConnectionAbortedError,
    BrokenPipeError,
    ssl.SSLEOFError,
    ssl.SSLZeroReturnError,
)
_BODY_EXCERPT = 500


def _excerpt(body: bytes) -> str:
    text = body.decode("utf-8", errors="replace")
    if len(text) > _BODY_EXCERPT:
        return "%s... (%d bytes)" % (text[:_BODY_EXCERPT], len(body))
    return text


class SnorkyHTTPTransport:
    """Sends envelopes to a Snorky backend listener (``POST`` with the key in
    ``X-Backend-Key``) and returns the decoded reply envelope.

    :param url: ``http://host:port/path`` or ``https://...``
    :param key: the backend key
    :param timeout: seconds each network operation may wait for the server
    :param connect_timeout: seconds to wait for the connection (TCP and TLS)
    :param ssl_context: for https; default: system trust store, host checked
    :param json: module with ``dumps``/``loads`` used to encode and decode

    Calls are serialized by a lock; use one transport per thread for parallel
    calls.
    """

    def __init__(
        self,
        url: str,
        key: str,
        timeout: float = 30.0,
        connect_timeout: float = 5.0,
        ssl_context: Optional[ssl.SSLContext] = None,
        json: JSONModule = _json_module,
    ) -> None:
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise ValueError("invalid backend URL %r: expected http://host[:port]/path or https://..." % url)
        if parsed.username is not None or parsed.password is not None:
            raise ValueError("invalid backend URL %r: user info is not allowed (the key is sent in a header)" % url)
        try:
            port = parsed.port
        except ValueError:
            raise ValueError("invalid backend URL %r: port must be 1-65535" % url) from None
        if port == 0:
            raise ValueError("invalid backend URL %r: port must be 1-65535" % url)
        if any(ord(c) < 0x20 or ord(c) == 0x7F for c in key):
            raise ValueError("the backend key contains control characters")
        self.url = url
        self.key = key
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.json = json
        self.connections_opened = 0
        self._secure = parsed.scheme == "https"
        self._host = parsed.hostname
        self._port = port or (443 if self._secure else 80)
        self._target = (parsed.path or "/") + ("?" + parsed.query if parsed.query else "")
        self._ssl_context = ssl_context
        self._connection: Optional[http.client.HTTPConnection] = None
        self._lock = threading.Lock()

    # -- connection handling -------------------------------------------------

    def close(self) -> None:
        """Drops the kept-alive connection; the next call opens a new one."""
        with self._lock:
            self._drop()

    def __enter__(self) -> "SnorkyHTTPTransport":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _drop(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _connected(self) -> bool:
        return self._connection is not None and self._connection.sock is not None

    def _peer_closed(self) -> bool:
        """A kept-alive connection the server closed shows as readable with
        nothing to read; checked before reuse so the usual case (idle timeout,
        restart) does not even send."""
        assert self._connection is not None
        sock = self._connection.sock
        try:
            readable, _, _ = select.select([sock], [], [], 0)
        except (OSError, ValueError):
            return True
        if not readable:
            return False
        if isinstance(sock, ssl.SSLSocket):
            return False  # may be a TLS session ticket; the retry covers a close
        try:
            sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
        except BlockingIOError:
            return False
        except OSError:
            return True
        # Readable means EOF, an error, or stray bytes the server should never
        # have sent: in every case start afresh.
        return True

    def _connect(self) -> http.client.HTTPConnection:
        connection: http.client.HTTPConnection
        if self._secure:
            context = self._ssl_context or ssl.create_default_context()
            connection = http.client.HTTPSConnection(
                self._host, self._port, timeout=self.connect_timeout, context=context
            )
        else:
            connection = http.client.HTTPConnection(self._host, self._port, timeout=self.connect_timeout)
        try:
            connection.connect()
        except socket.timeout:
            connection.close()
            raise RuntimeError(
                "cannot connect to %s: timed out after %g s" % (self.url, self.connect_timeout)
            ) from None
        except ssl.SSLError as e:
            connection.close()
            raise RuntimeError("TLS handshake with %s failed: %s" % (self.url, e)) from e
        except OSError as e:
            connection.close()
            reason = e.strerror or str(e)
            raise RuntimeError("cannot connect to %s: %s" % (self.url, reason)) from e
        assert connection.sock is not None
        connection.sock.settimeout(self.timeout)
        self.connections_opened += 1
        return connection

    # -- sending ---------------------------------------------------------------

    def send(self, message: Any, json: Optional[JSONModule] = None) -> Any:
        """Sends one envelope and returns the reply envelope, decoded.

        Raises :class:`RuntimeError` when no well-formed JSON reply came
        back (the message says why: connection, timeout, status, body)."""
        codec = json or self.json
        body = codec.dumps(message).encode("utf-8")
        headers = {
            "X-Backend-Key": self.key,
            "Content-Type": "application/json",
            "Accept": "application/json",
            "Connection": "keep-alive",
        }
        with self._lock:
            status, reason, content = self._exchange(body, headers)
        if status != 200:
            raise RuntimeError(
                "Error from Snorky server: %d %s: %s" % (status, reason, _excerpt(content))
            )
        try:
            return codec.loads(content.decode("utf-8"))
        except ValueError:
            raise RuntimeError("Non-JSON response from Snorky: %s" % _excerpt(content)) from None

    def _exchange(self, body: bytes, headers: Dict[str, str]) -> "tuple[int, str, bytes]":
        for attempt in (0, 1):
            reused = self._connected()
            if reused and self._peer_closed():
                self._drop()
                reused = False
            if not self._connected():
                self._drop()
                self._connection = self._connect()
            connection = self._connection
            assert connection is not None
            response_started = False
            try:
                connection.request("POST", self._target, body=body, headers=headers)
                response = connection.getresponse()
                response_started = True
                content = response.read()
                if response.will_close:
                    self._drop()
                return response.status, response.reason, content
            except socket.timeout:
                self._drop()
                raise RuntimeError("no reply from %s within %g s" % (self.url, self.timeout)) from None
            except _STALE_ERRORS as e:
                self._drop()
                if reused and attempt == 0 and not response_started:
                    continue  # the server had closed it: send again on a fresh connection
                stage = "while reading the reply" if response_started else "before any reply"
                raise RuntimeError("connection to %s failed %s: %s" % (self.url, stage, e)) from e
            except (http.client.HTTPException, OSError) as e:
                self._drop()
                raise RuntimeError("connection to %s failed: %s" % (self.url, e)) from e
        raise AssertionError("unreachable")


class SnorkyBackend:
    """Makes RPC calls to Snorky services through a transport."""

    def __init__(self, transport: Any, json: JSONModule = _json_module) -> None:
        self.transport = transport
        self.json = json

    def send(self, message: Any) -> Any:
        """Sends a bare envelope and returns the reply envelope untouched."""
        return self.transport.send(message, json=self.json)

    def call(self, service: str, command: str, **params: Any) -> Any:
        """Calls ``command`` of ``service`` with ``params`` and returns the
        value it returned. Raises :class:`SnorkyError` with the service's
        message when it answered an error, :class:`RuntimeError` otherwise."""
        reply = self.send({"service": service, "message": {"command": command, "params": params}})

        def bad(why: str) -> RuntimeError:
            text = _excerpt(self.json.dumps(reply).encode("utf-8"))
            return RuntimeError("Unexpected reply from Snorky (%s): %s" % (why, text))

        if not isinstance(reply, dict):
            raise bad("not a JSON object")
        if reply.get("service") != service:
            raise bad("not from service %r" % service)
        message = reply.get("message")
        if not isinstance(message, dict):
            raise bad("no message object")
        kind = message.get("type")
        if kind == "response":
            if "data" not in message:
                raise bad("response without data")
            return message["data"]
        if kind == "error":
            text = message.get("message")
            if not isinstance(text, str):
                raise bad("error without a message text")
            raise SnorkyError(text)
        raise bad("type is neither response nor error")
