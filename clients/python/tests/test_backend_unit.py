"""The Python connector against a scripted HTTP server (no Snorky needed)."""

import json
import socket
import time
import unittest

from snorky.backend import SnorkyBackend, SnorkyError, SnorkyHTTPTransport

from fake_http_server import FakeHttpServer, Reply, Request

ENVELOPE = {"service": "s", "message": {"command": "c", "params": {}}}


def closed_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as s:
        return s.getsockname()[1]


def replying(**reply_fields):
    return lambda request: Reply(**reply_fields)


class TransportTest(unittest.TestCase):
    def test_sends_envelope_key_and_headers(self):
        with FakeHttpServer() as server:
            transport = SnorkyHTTPTransport(server.url("/backend?v=1"), key="swordfish")
            self.assertEqual(transport.send(ENVELOPE), json.loads(Reply().body))
            (request,) = server.requests
            self.assertEqual(request.method, "POST")
            self.assertEqual(request.target, "/backend?v=1")
            self.assertEqual(request.headers["x-backend-key"], "swordfish")
            self.assertEqual(request.headers["content-type"], "application/json")
            self.assertEqual(request.headers["accept"], "application/json")
            self.assertEqual(json.loads(request.body), ENVELOPE)

    def test_many_calls_share_one_connection(self):
        with FakeHttpServer() as server:
            transport = SnorkyHTTPTransport(server.url(), key="k")
            for _ in range(20):
                transport.send(ENVELOPE)
            self.assertEqual(len(server.requests), 20)
            self.assertEqual(server.accepts, 1)
            self.assertEqual(transport.connections_opened, 1)

    def test_reconnects_when_the_server_closed_the_idle_connection(self):
        with FakeHttpServer(replying(close_after=True)) as server:
            transport = SnorkyHTTPTransport(server.url(), key="k")
            for _ in range(3):
                transport.send(ENVELOPE)
                time.sleep(0.02)
            self.assertEqual(server.accepts, 3)
            self.assertEqual(len(server.requests), 3)

    def test_retries_once_when_a_reused_connection_dies_before_any_reply(self):
        calls = []

        def handler(request: Request) -> Reply:
            calls.append(1)
            return Reply(mode="close") if len(calls) == 2 else Reply()

        with FakeHttpServer(handler) as server:
            transport = SnorkyHTTPTransport(server.url(), key="k")
            transport.send(ENVELOPE)
            transport.send(ENVELOPE)
            self.assertEqual(server.accepts, 2)
            self.assertEqual([r.connection for r in server.requests], [1, 1, 2])

    def test_no_retry_on_a_fresh_connection(self):
        with FakeHttpServer(replying(mode="close")) as server:
            transport = SnorkyHTTPTransport(server.url(), key="k")
            with self.assertRaisesRegex(RuntimeError, "before any reply"):
                transport.send(ENVELOPE)
            self.assertEqual(len(server.requests), 1)

    def test_never_resends_once_a_reply_started(self):
        calls = []

        def handler(request: Request) -> Reply:
            calls.append(1)
            return Reply(mode="partial") if len(calls) == 2 else Reply()

        with FakeHttpServer(handler) as server:
            transport = SnorkyHTTPTransport(server.url(), key="k")
            transport.send(ENVELOPE)
            with self.assertRaises(RuntimeError):
                transport.send(ENVELOPE)
            self.assertEqual(len(server.requests), 2)
            transport.send(ENVELOPE)  # usable again
            self.assertEqual(server.accepts, 2)

    def test_connection_close_header(self):
        with FakeHttpServer(replying(announce_close=True)) as server:
            transport = SnorkyHTTPTransport(server.url(), key="k")
            transport.send(ENVELOPE)
            transport.send(ENVELOPE)
            self.assertEqual(server.accepts, 2)
            self.assertEqual(len(server.requests), 2)

    def test_non_200_status_gives_code_and_body(self):
        with FakeHttpServer(replying(status=401, body=b'{"error":"Invalid API key"}')) as server:
            transport = SnorkyHTTPTransport(server.url(), key="wrong-key")
            with self.assertRaises(RuntimeError) as caught:
                transport.send(ENVELOPE)
            text = str(caught.exception)
            self.assertIn("401", text)
            self.assertIn("Invalid API key", text)
            self.assertNotIn("wrong-key", text)

    def test_non_json_body(self):
        with FakeHttpServer(replying(body=b"<html>proxy error</html>", content_type="text/html")) as server:
            transport = SnorkyHTTPTransport(server.url(), key="k")
            with self.assertRaisesRegex(RuntimeError, "Non-JSON response from Snorky: <html>proxy error"):
                transport.send(ENVELOPE)

    def test_timeout(self):
        with FakeHttpServer(replying(mode="silent")) as server:
            transport = SnorkyHTTPTransport(server.url(), key="k", timeout=0.2)
            start = time.monotonic()
            with self.assertRaisesRegex(RuntimeError, "no reply .* within 0.2 s"):
                transport.send(ENVELOPE)
            self.assertLess(time.monotonic() - start, 2)
            self.assertEqual(len(server.requests), 1)
            transport.close()

    def test_connection_refused(self):
        url = "http://127.0.0.1:%d/backend" % closed_port()
        transport = SnorkyHTTPTransport(url, key="k")
        with self.assertRaisesRegex(RuntimeError, "cannot connect to http://127.0.0.1:.*[Rr]efused"):
            transport.send(ENVELOPE)

    def test_connect_timeout(self):
        # A listener that never accepts, its backlog filled: Linux drops
        # further SYNs, so connecting hangs until our timeout.
        with socket.socket() as listener:
            listener.bind(("127.0.0.1", 0))
            listener.listen(0)
            fillers = []
            for _ in range(4):
                s = socket.socket()
                s.setblocking(False)
                try:
                    s.connect(listener.getsockname())
                except BlockingIOError:
                    pass
                fillers.append(s)
            time.sleep(0.05)
            url = "http://127.0.0.1:%d/backend" % listener.getsockname()[1]
            transport = SnorkyHTTPTransport(url, key="k", connect_timeout=0.3)
            start = time.monotonic()
            with self.assertRaisesRegex(RuntimeError, "cannot connect to .*timed out after 0.3 s"):
                transport.send(ENVELOPE)
            self.assertLess(time.monotonic() - start, 2)
            for s in fillers:
                s.close()

    def test_bad_urls(self):
        for url in ["", "127.0.0.1:5801/backend", "ftp://h/x", "http:///x", "http://u:p@h/x", "http://h:99999/x"]:
            with self.assertRaises(ValueError, msg=url):
                SnorkyHTTPTransport(url, key="k")
        with self.assertRaises(ValueError):
            SnorkyHTTPTransport("http://h/b", key="k\r\nX-Evil: 1")


class FakeTransport:
    def __init__(self, reply):
        self.reply = reply
        self.sent = []

    def send(self, message, json=json):
        self.sent.append(json.loads(json.dumps(message)))
        return self.reply


class BackendTest(unittest.TestCase):
    def test_call_builds_envelope_and_returns_data(self):
        transport = FakeTransport({"service": "pubsub_backend", "message": {"type": "response", "data": [1, 2]}})
        backend = SnorkyBackend(transport)
        self.assertEqual(backend.call("pubsub_backend", "publish", channel="news", message="hi"), [1, 2])
        self.assertEqual(transport.sent, [{"service": "pubsub_backend", "message": {
            "command": "publish", "params": {"channel": "news", "message": "hi"}}}])

    def test_error_reply_raises_snorky_error_with_exact_message(self):
        backend = SnorkyBackend(FakeTransport(
            {"service": "s", "message": {"type": "error", "callId": None, "message": "Unknown command"}}))
        with self.assertRaises(SnorkyError) as caught:
            backend.call("s", "nope")
        self.assertEqual(caught.exception.args, ("Unknown command",))
        self.assertEqual(str(caught.exception), "Unknown command")
        self.assertNotIsInstance(caught.exception, RuntimeError)

    def test_malformed_replies_raise_runtime_error(self):
        for reply in [[1], {"message": {"type": "response", "data": 1}},
                      {"service": "other", "message": {"type": "response", "data": 1}},
                      {"service": "s", "message": "x"}, {"service": "s", "message": {"type": "response"}},
                      {"service": "s", "message": {"type": "error"}},
                      {"service": "s", "message": {"type": "message"}}]:
            with self.assertRaisesRegex(RuntimeError, "Unexpected reply", msg=repr(reply)):
                SnorkyBackend(FakeTransport(reply)).call("s", "c")

    def test_custom_json_module_is_used(self):
        class Codec:
            used = 0

            @classmethod
            def dumps(cls, obj):
                cls.used += 1
                return json.dumps(obj)

            @staticmethod
            def loads(s):
                return json.loads(s)

        with FakeHttpServer() as server:
            backend = SnorkyBackend(SnorkyHTTPTransport(server.url(), key="k"), json=Codec)
            self.assertIsNone(backend.call("s", "c"))
            self.assertEqual(Codec.used, 1)


if __name__ == "__main__":
    unittest.main()
