"""A tiny Snorky backend connector (protocol.md section 3), urllib only.

The Python connector package (clients/python) will replace this file:
`SnorkyBackend(url, key).call(service, command, **params)` returns the reply's
data, raises SnorkyError(message) for an RPC error and RuntimeError for
anything else (server down, non-200 status, non-JSON body).
"""
import json
import urllib.error
import urllib.request


class SnorkyError(Exception):
    """The service answered with an error; the message is the protocol's text."""


class SnorkyBackend:
    def __init__(self, url, key, timeout=10):
        self.url, self.key, self.timeout = url, key, timeout

    def call(self, service, command, **params):
        body = json.dumps({"service": service, "message": {"command": command, "params": params}}).encode()
        request = urllib.request.Request(self.url, data=body, method="POST", headers={
            "X-Backend-Key": self.key, "Content-Type": "application/json", "Accept": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                reply = json.loads(response.read())
        except urllib.error.HTTPError as error:
            raise RuntimeError(f"Snorky backend answered HTTP {error.code}: {error.read()[:200]!r}") from None
        except (urllib.error.URLError, OSError) as error:
            raise RuntimeError(f"Snorky backend unreachable at {self.url}: {error}") from None
        except ValueError:
            raise RuntimeError("Snorky backend sent a body that is not JSON") from None
        message = reply.get("message") if isinstance(reply, dict) else None
        if not isinstance(message, dict):
            raise RuntimeError(f"malformed reply from Snorky: {reply!r}")
        if message.get("type") == "error":
            raise SnorkyError(message.get("message"))
        return message.get("data")
