#!/usr/bin/env python3
"""Writes the seed corpora of fuzz/corpus/<target>/ (valid and near-valid
inputs). Run from anywhere; rewrites only the files it names."""
import base64, hashlib, hmac, json, os, struct

HERE = os.path.dirname(os.path.abspath(__file__))
SECRET = b"fuzz-secret-fuzz-secret-fuzz-secret!"  # as fuzz/targets/jwt.cpp


def put(target, name, data):
    folder = os.path.join(HERE, "corpus", target)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def frame(opcode, payload, fin=True, mask=b"\x11\x22\x33\x44", masked=True, rsv=0):
    out = bytes([(0x80 if fin else 0) | rsv | opcode])
    n = len(payload)
    bit = 0x80 if masked else 0
    if n < 126:
        out += bytes([bit | n])
    elif n <= 0xFFFF:
        out += bytes([bit | 126]) + struct.pack(">H", n)
    else:
        out += bytes([bit | 127]) + struct.pack(">Q", n)
    if masked:
        out += mask
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return out + payload


# ws_frame: whole frames, several in a row, fragments, and broken headers.
put("ws_frame", "text", frame(1, b'{"service":"pubsub","message":{}}'))
put("ws_frame", "ping_pong_close", frame(9, b"hi") + frame(10, b"") + frame(8, struct.pack(">H", 1000) + b"bye"))
put("ws_frame", "fragments", frame(1, b"hel", fin=False) + frame(0, b"lo", fin=False) + frame(9, b"") + frame(0, b"!"))
put("ws_frame", "len126", frame(1, b"x" * 300))
put("ws_frame", "len127_header", frame(2, b"y" * 70000)[:20])
put("ws_frame", "close_short", frame(8, b"\x03"))
put("ws_frame", "close_reserved", frame(8, struct.pack(">H", 1005)))
put("ws_frame", "unmasked", frame(1, b"abc", masked=False))
put("ws_frame", "rsv", frame(1, b"abc", rsv=0x40))
put("ws_frame", "nonminimal", bytes([0x81, 0x80 | 126, 0, 5]) + b"\0\0\0\0hello")
put("ws_frame", "long_control", frame(9, b"z" * 126))
put("ws_frame", "partial", frame(1, b"0123456789")[:9])

# ws_upgrade: handshakes good and bad, plain requests, keep-alive.
KEY = "dGhlIHNhbXBsZSBub25jZQ=="


def upgrade(target="/ws", extra="", version="13", key=KEY):
    return (f"GET {target} HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: {version}\r\n{extra}\r\n")


put("ws_upgrade", "upgrade", upgrade())
put("ws_upgrade", "token_good", upgrade("/ws?token=good-token&x=1"))
put("ws_upgrade", "token_bad", upgrade("/ws?token=bad"))
put("ws_upgrade", "token_badquery", upgrade("/ws?token=bad&x=%zz"))
put("ws_upgrade", "origin_ok", upgrade(extra="Origin: https://app.example\r\n"))
put("ws_upgrade", "origin_bad", upgrade(extra="Origin: https://evil.example\r\n"))
put("ws_upgrade", "version12", upgrade(version="12"))
put("ws_upgrade", "shortkey", upgrade(key="abc"))
put("ws_upgrade", "wrongpath", upgrade("/other"))
put("ws_upgrade", "plain_keepalive",
    "GET /index.html HTTP/1.1\r\nHost: x\r\n\r\nHEAD / HTTP/1.1\r\nHost: x\r\n\r\n" + upgrade())
put("ws_upgrade", "plain_ws", "GET /ws HTTP/1.0\r\n\r\n")
put("ws_upgrade", "post_body", "POST /ws HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc")

# static_path: URL paths, allowed and every known escape attempt.
for i, path in enumerate([
        "/", "/index.html", "/app.js", "/sub/", "/sub", "/sub/page.css", "/sub/deeper/x.json", "/a%20b%25.txt",
        "/link-in", "/link-out", "/sub/rootfs/etc/passwd", "//etc/passwd", "/%2fetc/passwd", "/%2Fetc/passwd",
        "/%2e%2e/secret.txt", "/..%2fsecret.txt", "/sub/..%5c..%5csecret.txt", "/%252e%252e/secret.txt",
        "/.env", "/%2eenv", "/sub/%00.html", "/%", "/%4", "/sub//page.css", "\\..\\secret.txt",
        "/" + "a" * 300, "/sub/./page.css"]):
    put("static_path", f"path{i:02d}", path)

# backend_request: the backend API over HTTP/1.1.
ENV = '{"service":"pubsub_backend","message":{"command":"publish","params":{"channel":"news","message":"hi"}}}'


def post(body, headers="", key="fuzz-key", target="/backend", length=True):
    h = f"POST {target} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    if key is not None:
        h += f"X-Backend-Key: {key}\r\n"
    if length:
        h += f"Content-Length: {len(body)}\r\n"
    return h + headers + "\r\n" + body


def chunked(body, size=7):
    out = ""
    for i in range(0, len(body), size):
        part = body[i:i + size]
        out += f"{len(part):x}\r\n{part}\r\n"
    return out + "0\r\n\r\n"


put("backend_request", "post", post(ENV))
put("backend_request", "post_keepalive", post(ENV) + post("{}") + post("not json"))
put("backend_request", "chunked", post(chunked(ENV), "Transfer-Encoding: chunked\r\n", length=False))
put("backend_request", "chunked_ext", post("5;x=y\r\nhello\r\n0\r\nTrailer: 1\r\n\r\n", "Transfer-Encoding: chunked\r\n", length=False))
put("backend_request", "too_large", post("", "", length=False).replace("\r\n\r\n", "\r\nContent-Length: 99999\r\n\r\n"))
put("backend_request", "chunked_too_large", post(chunked("x" * 600, 200), "Transfer-Encoding: chunked\r\n", length=False))
put("backend_request", "no_key", post(ENV, key=None))
put("backend_request", "bad_key", post(ENV, key="nope"))
put("backend_request", "wrong_path", post(ENV, target="/other?x=1"))
put("backend_request", "health", "GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
put("backend_request", "metrics", "GET /metrics?x HTTP/1.0\r\n\r\n")
put("backend_request", "put", post(ENV).replace("POST", "PUT", 1))
put("backend_request", "http10", post(ENV).replace("HTTP/1.1", "HTTP/1.0", 1))

# envelope_rpc: messages for the Probe service of fuzz/targets/envelope_rpc.cpp.
def msg(command, params, call_id=1, service="fuzz"):
    m = {"command": command, "params": params}
    if call_id is not None:
        m["callId"] = call_id
    return json.dumps({"service": service, "message": m})


put("envelope_rpc", "any", msg("any", {"value": {"b": [1, 2.0, "x"], "a": None, "c": {"z": 1, "y": True}}}))
put("envelope_rpc", "typed", msg("typed", {"s": "x", "n": 1.5, "i": 7, "b": True, "o": {}, "a": []}, "id"))
put("envelope_rpc", "typed_intdouble", msg("typed", {"s": "", "n": -3, "i": 7.0}))
put("envelope_rpc", "typed_big", msg("typed", {"s": "", "n": 1e300, "i": 18446744073709551615}))
put("envelope_rpc", "typed_bad", msg("typed", {"s": 1, "n": "1", "i": 1.5}))
put("envelope_rpc", "path", msg("path", {"data": {"team": {"id": 7}}, "path": "team.id"}, None))
put("envelope_rpc", "fail", msg("fail", {"text": "custom"}, [1, {"x": 2}]))
put("envelope_rpc", "later", msg("later", {"now": False}))
put("envelope_rpc", "unknown_command", msg("nope", {}))
put("envelope_rpc", "unknown_param", msg("any", {"value": 1, "extra": 2}))
put("envelope_rpc", "unknown_service", msg("any", {"value": 1}, service="other"))
put("envelope_rpc", "not_object", '["service","message"]')
put("envelope_rpc", "no_message", '{"service":"fuzz"}')
put("envelope_rpc", "bad_json", '{"service":"fuzz","message":{"command":"any",')
put("envelope_rpc", "params_array", '{"service":"fuzz","message":{"command":"any","params":[]}}')
put("envelope_rpc", "unicode", msg("any", {"value": "\u00e9\ud83d\ude00\u0000"}))

# datasync_filter: [filter, row, row...].
rows = [{"team": {"id": 7}, "age": 30, "name": "b"}, {"team": {"id": 7.0}, "age": 12.5, "name": "a"},
        {"team": {"id": "7"}}, {"tags": [1, {"b": 2, "a": 1}]}, {}]
for i, f in enumerate([
        ["==", "team.id", 7], ["<", "age", 21], ["<=", "name", "b"], [">", "age", 1e3], [">=", "age", -1],
        ["and", ["==", "team.id", 7], ["not", ["<", "age", 18]]], ["or"], ["and"],
        ["or", ["==", "name", "a"], ["and", ["==", "team.id", 7], ["==", "age", 30]]],
        ["==", "tags", [1, {"a": 1, "b": 2}]], ["==", "team", {"id": 7}], ["not", ["==", "x", None]],
        ["==", "big", 18446744073709551615], ["==", "", 1], ["nope", "a", 1], ["==", "a"], ["not"], []]):
    put("datasync_filter", f"filter{i:02d}", json.dumps([f] + rows))
put("datasync_filter", "deep", "[" + '["not",' * 70 + '["==","a",1]' + "]" * 70 + "]")

# jwt: mode byte, then a token (0), claims (1) or a header (2).
def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def token(header, claims, secret=SECRET):
    signing = b64(json.dumps(header).encode()) + b"." + b64(json.dumps(claims).encode())
    return signing + b"." + b64(hmac.new(secret, signing, hashlib.sha256).digest())


HS = {"alg": "HS256", "typ": "JWT"}
GOOD = {"identity": {"user": "alice"}, "iat": 1699999000, "exp": 1700001000}
put("jwt", "valid", b"\0" + token(HS, GOOD))
put("jwt", "expired", b"\0" + token(HS, dict(GOOD, exp=1600000000)))
put("jwt", "badsig", b"\0" + token(HS, GOOD, b"x" * 32))
put("jwt", "none", b"\0" + b64(b'{"alg":"none"}') + b"." + b64(json.dumps(GOOD).encode()) + b".")
put("jwt", "garbage", b"\0a.b.c")
put("jwt", "claims", b"\1" + json.dumps(GOOD).encode())
put("jwt", "claims_noexp", b"\1" + json.dumps({"identity": 1}).encode())
put("jwt", "claims_nbf", b"\1" + json.dumps(dict(GOOD, nbf=1800000000)).encode())
put("jwt", "claims_bigexp", b"\1" + json.dumps(dict(GOOD, exp=1e300)).encode())
put("jwt", "claims_types", b"\1" + b'{"identity":null,"iat":"x","exp":"y"}')
put("jwt", "header_hs512", b"\2" + json.dumps({"alg": "HS512"}).encode())
put("jwt", "header_none", b"\2" + json.dumps({"alg": "none", "typ": "JWT"}).encode())
put("jwt", "header_rs256", b"\2" + json.dumps({"alg": "RS256", "kid": "1"}).encode())

# config: the embedded default, scale-out, every service type, mistakes.
DEFAULT = open(os.path.join(HERE, "..", "src", "server", "config.cpp")).read().split('R"toml(')[1].split(')toml"')[0]
put("config", "default", DEFAULT)
put("config", "redis", DEFAULT.replace('engine = "memory"', 'engine = "redis://:pw@127.0.0.1:6380/2?prefix=a:"'))
put("config", "services", '''[server]
threads = 2
engine_max_backlog = 4096
[[listener]]
type = "websocket"
registry = "f"
port = 0
allowed_origins = ["https://a.example"]
ping_interval = 10
max_message_size = 1024
[[listener]]
type = "backend"
registry = "b"
key = "k"
max_body_size = 200
metrics = false
[[service]]
name = "auth"
type = "auth"
registry = "f"
secret = "0123456789abcdef0123456789abcdef"
[[service]]
name = "chat"
type = "chat"
registry = "f"
[[service]]
name = "cursors"
type = "cursors"
registry = "f"
[[service]]
name = "messaging"
type = "messaging"
registry = "f"
[[service]]
name = "ds"
type = "datasync"
registry = "f"
acquire_timeout = 2.5
[[service.dealer]]
name = "byTeam"
model = "task"
kind = "simple"
key = "team.id"
[[service.dealer]]
name = "all"
model = "task"
kind = "broadcast"
''')
put("config", "bad_section", "[nope]\nx = 1\n")
put("config", "bad_type", '[[listener]]\ntype = "udp"\nregistry = "r"\n')
put("config", "bad_toml", '[server\nthreads = = 1\n')
put("config", "dates", '[server]\nthreads = 1979-05-27T07:32:00Z\n[[listener]]\ntype = "websocket"\nregistry = "f"\n')
put("config", "unknown_key", '[[listener]]\ntype = "websocket"\nregistry = "f"\nprot = 1\n')

# redis_url
for i, url in enumerate([
        "redis://127.0.0.1", "redis://cache.internal:7000", "redis://:secret@h:6380/3?prefix=app:",
        "redis://user:pw@[::1]:6379/0", "redis://h:0", "redis://h:65536", "redis://h/99999999",
        "redis://h?x=1", "redis://h#frag", "http://h", "redis:///", "redis://h:6379/-1", "redis://%41:1",
        "not a url"]):
    put("redis_url", f"url{i:02d}", url)
