"""The Python connector over https against a scripted TLS server."""

import os
import ssl
import subprocess
import tempfile
import unittest

from snorky.backend import SnorkyHTTPTransport

from fake_http_server import FakeHttpServer, Reply

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


if __name__ == "__main__":
    unittest.main()
