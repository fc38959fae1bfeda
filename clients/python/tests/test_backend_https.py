"""The Python connector over https against a scripted TLS server."""

import os
import ssl
import subprocess
import tempfile
import unittest

from snorky.backend import SnorkyHTTPTransport

from fake_http_server import FakeHttpServer, Reply
import snorky_server
from snorky_server import KEY, SnorkyServer, WsClient

ENVELOPE = {"service": "s", "message": {"command": "c", "params": {}}}


def make_certificate(directory: str):
    """A self-signed certificate naming only "localhost" (openssl CLI)."""
    cert, key = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost", "-days", "2",
                    "-keyout", key, "-out", cert], check=True, capture_output=True)
    return cert, key


class HttpsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls._dir = tempfile.TemporaryDirectory()
        cls.cert, key = make_certificate(cls._dir.name)
        cls.server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        cls.server_context.load_cert_chain(cls.cert, key)

    @classmethod
    def tearDownClass(cls):
        cls._dir.cleanup()

    def trusting(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.cert)

    def test_verified_certificate_keep_alive_and_reconnect(self):
        calls = []

        def handler(request):
            calls.append(1)
            return Reply(close_after=len(calls) == 5)  # the server drops the connection once

        with FakeHttpServer(handler, tls=self.server_context) as server:
            transport = SnorkyHTTPTransport(server.https_url(), key="swordfish", ssl_context=self.trusting())
            for _ in range(8):
                transport.send(ENVELOPE)
            transport.close()
            self.assertEqual(server.accepts, 2)
            self.assertEqual(transport.connections_opened, 2)
            self.assertEqual(server.requests[0].headers["x-backend-key"], "swordfish")

    def test_untrusted_certificate_is_refused(self):
        with FakeHttpServer(tls=self.server_context) as server:
            transport = SnorkyHTTPTransport(server.https_url(), key="k")  # system trust store only
            with self.assertRaisesRegex(RuntimeError, "TLS handshake with .* failed.*CERTIFICATE_VERIFY_FAILED"):
                transport.send(ENVELOPE)
            self.assertEqual(server.requests, [])

    def test_host_name_must_match(self):
        with FakeHttpServer(tls=self.server_context) as server:
            transport = SnorkyHTTPTransport(server.https_url("127.0.0.1"), key="k", ssl_context=self.trusting())
            with self.assertRaisesRegex(RuntimeError, "TLS handshake"):
                transport.send(ENVELOPE)
            self.assertEqual(server.requests, [])


@unittest.skipUnless(snorky_server.binary(), "SNORKY_BINARY is not set")
class AgainstSnorkyTlsBackendTest(unittest.TestCase):
    """The connector against Snorky's own https backend listener (tls_cert/tls_key)."""

    def test_publish_over_https_reaches_a_subscriber(self):
        with tempfile.TemporaryDirectory() as directory:
            cert, key = make_certificate(directory)
            toml = snorky_server.config().replace(
                'path = "/backend"\n', 'path = "/backend"\ntls_cert = "%s"\ntls_key = "%s"\n' % (cert, key))
            with SnorkyServer(toml) as server:
                subscriber = WsClient(server.frontend_port)
                subscriber.call("pubsub", "subscribe", 1, channel="tls")
                url = "https://localhost:%d/backend" % server.backend_port
                transport = SnorkyHTTPTransport(url, key=KEY, ssl_context=ssl.create_default_context(cafile=cert))
                envelope = {"service": "pubsub_backend",
                            "message": {"command": "publish", "params": {"channel": "tls", "message": "hi"}}}
                for _ in range(3):
                    transport.send(envelope)
                self.assertEqual(transport.connections_opened, 1)  # kept alive over TLS
                for _ in range(3):
                    self.assertEqual(subscriber.receive_json()["message"]["message"], "hi")
                # Plain http to the TLS port is refused, and the server keeps serving.
                plain = SnorkyHTTPTransport("http://localhost:%d/backend" % server.backend_port, key=KEY)
                with self.assertRaises(RuntimeError):
                    plain.send(envelope)
                transport.send(envelope)
                self.assertEqual(subscriber.receive_json()["message"]["message"], "hi")
                transport.close()
                subscriber.close()


if __name__ == "__main__":
    unittest.main()
