"""The Python connector against the real `snorky` binary (SNORKY_BINARY)."""

import socket
import time
import unittest

from snorky.backend import SnorkyBackend, SnorkyError, SnorkyHTTPTransport

import snorky_server
from fake_http_server import FakeHttpServer, Reply
from snorky_server import KEY, SnorkyServer, WsClient


@unittest.skipUnless(snorky_server.binary(), "SNORKY_BINARY not set")
class RealServerTest(unittest.TestCase):
    def setUp(self):
        self.server = SnorkyServer(snorky_server.config())
        self.addCleanup(self.server.stop)
        self.transport = SnorkyHTTPTransport(self.server.backend_url, key=KEY, timeout=5)
        self.addCleanup(self.transport.close)
        self.backend = SnorkyBackend(self.transport)

    def subscriber(self, channel):
        ws = WsClient(self.server.frontend_port)
        self.addCleanup(ws.close)
        reply = ws.call("pubsub", "subscribe", 1, channel=channel)
        self.assertEqual(reply["message"]["type"], "response", reply)
        return ws

    def test_publish_reaches_a_subscribed_websocket_client(self):
        ws = self.subscriber("announcements")
        result = self.backend.call("pubsub_backend", "publish", channel="announcements", message="Hello World")
        self.assertIsNone(result)
        self.assertEqual(ws.receive_json(), {"service": "pubsub", "message": {
            "type": "message", "channel": "announcements", "message": "Hello World"}})

    def test_service_errors_carry_the_exact_message(self):
        with self.assertRaises(SnorkyError) as caught:
            self.backend.call("pubsub_backend", "nope")
        self.assertEqual(str(caught.exception), "Unknown command")
        with self.assertRaises(SnorkyError) as caught:
            self.backend.call("pubsub_backend", "publish", channel="x")
        self.assertEqual(str(caught.exception), "Invalid params")

    def test_wrong_key(self):
        backend = SnorkyBackend(SnorkyHTTPTransport(self.server.backend_url, key="not-the-key"))
        with self.assertRaises(RuntimeError) as caught:
            backend.call("pubsub_backend", "publish", channel="x", message=1)
        self.assertNotIsInstance(caught.exception, SnorkyError)
        self.assertIn("401", str(caught.exception))
        self.assertIn("Invalid API key", str(caught.exception))

    def test_many_calls_over_one_connection(self):
        ws = self.subscriber("counter")
        for i in range(50):
            self.backend.call("pubsub_backend", "publish", channel="counter", message=i)
            if i == 0:
                port = self.transport._connection.sock.getsockname()[1]
        self.assertEqual(self.transport.connections_opened, 1)
        self.assertEqual(self.transport._connection.sock.getsockname()[1], port)
        self.assertEqual([ws.receive_json()["message"]["message"] for _ in range(50)], list(range(50)))

    def test_server_down(self):
        self.server.stop()
        with self.assertRaisesRegex(RuntimeError, "cannot connect to .*[Rr]efused"):
            self.backend.call("pubsub_backend", "publish", channel="x", message=1)


@unittest.skipUnless(snorky_server.binary(), "SNORKY_BINARY not set")
class RestartTest(unittest.TestCase):
    def test_server_restarting_between_calls(self):
        frontend, backend_port = snorky_server.free_port(), snorky_server.free_port()
        toml = snorky_server.config(frontend, backend_port)
        transport = SnorkyHTTPTransport("http://127.0.0.1:%d/backend" % backend_port, key=KEY, timeout=5)
        backend = SnorkyBackend(transport)
        with SnorkyServer(toml):
            self.assertIsNone(backend.call("pubsub_backend", "publish", channel="x", message=1))
        with SnorkyServer(toml) as server:
            ws = WsClient(server.frontend_port)
            ws.call("pubsub", "subscribe", 1, channel="x")
            self.assertIsNone(backend.call("pubsub_backend", "publish", channel="x", message=2))
            self.assertEqual(ws.receive_json()["message"]["message"], 2)
            ws.close()
        self.assertEqual(transport.connections_opened, 2)

    def test_server_closing_the_idle_connection(self):
        with SnorkyServer(snorky_server.config(keepalive_timeout=1)) as server:
            transport = SnorkyHTTPTransport(server.backend_url, key=KEY, timeout=5)
            backend = SnorkyBackend(transport)
            backend.call("pubsub_backend", "publish", channel="x", message=1)
            time.sleep(1.5)
            backend.call("pubsub_backend", "publish", channel="x", message=2)
            self.assertEqual(transport.connections_opened, 2)


class NonJsonReplyTest(unittest.TestCase):
    def test_non_json_reply_is_a_runtime_error(self):
        with FakeHttpServer(lambda request: Reply(body=b"Service Unavailable", content_type="text/plain")) as fake:
            backend = SnorkyBackend(SnorkyHTTPTransport(fake.url(), key=KEY))
            with self.assertRaisesRegex(RuntimeError, "Non-JSON response from Snorky: Service Unavailable"):
                backend.call("pubsub_backend", "publish", channel="x", message=1)


if __name__ == "__main__":
    unittest.main()
