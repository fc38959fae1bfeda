// Hostile input at the edges, through the real server (issue 11, section 5):
// numbers beyond double or int64 range, query strings that do not parse,
// text that is not UTF-8, bad close frames, and backend requests trickled a
// byte at a time.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/ip/tcp.hpp>

#include "snorky/protocol/ws_codec.hpp"
#include "support/clients.hpp"
#include "support/server_process.hpp"

using namespace snorky::it;

namespace {
const std::uint8_t kMask[4] = {9, 8, 7, 6};
const std::map<std::string, std::string> kAuth{{"X-Backend-Key", kKey}};

std::string upgradeRequest(const std::string& target = "/ws") {
    return "GET " + target + " HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
}

// The server's close frame with `code` and no reason, as it appears on the wire.
std::string serverClose(int code) {
    return std::string{'\x88', '\x02', static_cast<char>(code >> 8), static_cast<char>(code & 0xff)};
}
std::string closePayload(int code, const std::string& reason = "") {
    return std::string{static_cast<char>(code >> 8), static_cast<char>(code & 0xff)} + reason;
}
// Upgrades on a raw connection, sends `frames`, returns what came back until the server closed.
std::string afterUpgrade(int port, const std::string& frames) {
    std::string reply = rawExchange(port, upgradeRequest() + frames, std::chrono::milliseconds(3000));
    EXPECT_NE(reply.find("101 Switching Protocols"), std::string::npos) << reply;
    return reply;
}

std::string publishBody(const std::string& channel, const std::string& message) {
    return R"({"service":"pubsub_backend","message":{"command":"publish","params":{"channel":)" + channel +
           R"(,"message":)" + message + R"(},"callId":1}})";
}

// A connected TCP socket to 127.0.0.1:port (plain POSIX: the test paces its own writes).
int connectTo(int port) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
        ::close(fd);
        throw std::runtime_error("connect failed");
    }
    return fd;
}

// True when the peer closed `fd` (EOF or reset) within `window`; bytes it sent are appended to `seen`.
bool closedWithin(int fd, std::chrono::milliseconds window, std::string* seen = nullptr) {
    auto deadline = std::chrono::steady_clock::now() + window;
    while (true) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) return false;
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
        char buffer[4096];
        ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
        if (n <= 0) return true;
        if (seen) seen->append(buffer, static_cast<std::size_t>(n));
    }
}

// Writes `bytes` one at a time, `gap` apart, until all are sent or the server
// closes the connection; returns how long the server kept it open (or nullopt).
std::optional<std::chrono::milliseconds> trickle(int fd, const std::string& bytes, std::chrono::milliseconds gap) {
    auto start = std::chrono::steady_clock::now();
    for (char byte : bytes) {
        if (::send(fd, &byte, 1, MSG_NOSIGNAL) != 1 || closedWithin(fd, gap))
            return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
    }
    return std::nullopt;
}
}  // namespace

// ---------------------------------------------------------------- numbers

TEST(InputValidation, NumbersBeyondDoubleRangeAreRefusedOnBothListeners) {
    ServerProcess server(basicConfig(true));
    WsClient subscriber(server.frontendPort()), publisher(server.frontendPort());
    subscriber.request("pubsub", "subscribe", {{"channel", "c"}});

    // Backend: a clear 400 (Boost.JSON reads 1e400 as infinity, which was sent on as "Infinity").
    for (const std::string& message : {std::string("1e400"), std::string("[1,-1e400]"), "1" + std::string(400, '0'),
                                       std::string(R"({"deep":{"n":1E999}})")}) {
        HttpResponse reply = httpPost(server.backendPort(), "/backend", publishBody("\"c\"", message), kAuth);
        EXPECT_EQ(reply.status, 400) << message;
        EXPECT_EQ(reply.body, R"({"error":"Number out of range"})") << message;
    }
    // Frontend: dropped like invalid JSON, nothing reaches anyone.
    publisher.sendText(R"({"service":"pubsub","message":{"command":"publish","params":{"channel":"c","message":1e400},"callId":2}})");
    EXPECT_TRUE(publisher.silentFor());
    // The next frame the subscriber gets is the next good publish, and it parses.
    EXPECT_EQ(backendCall(server.backendPort(), "pubsub_backend", "publish", {{"channel", "c"}, {"message", 1.5e308}})
                  .at("type"),
              "response");
    EXPECT_EQ(subscriber.expectMessage().at("message"), 1.5e308);
    auto metrics = httpRequest(server.backendPort(), "GET", "/metrics", "").body;
    EXPECT_NE(metrics.find("snorky_messages_dropped_total 1\n"), std::string::npos) << metrics;
    EXPECT_NE(server.logs().find("number out of range"), std::string::npos) << server.logs();
}

TEST(InputValidation, HugeChannelNumbersAreChannelsLikeAnyOther) {
    ServerProcess server(basicConfig(true));
    WsClient huge(server.frontendPort()), integral(server.frontendPort());
    // 1e300 was cast to int64 to build the channel key: undefined behaviour.
    huge.sendText(R"({"service":"pubsub","message":{"command":"subscribe","params":{"channel":1e300},"callId":1}})");
    EXPECT_EQ(huge.expectMessage().at("type"), "response");
    integral.request("pubsub", "subscribe", {{"channel", json::parse("10000000000000000")}});

    HttpResponse reply = httpPost(server.backendPort(), "/backend", publishBody("-1e300", "\"not yours\""), kAuth);
    EXPECT_EQ(reply.status, 200);
    reply = httpPost(server.backendPort(), "/backend", publishBody("1e300", "\"huge\""), kAuth);
    EXPECT_EQ(reply.status, 200);
    EXPECT_EQ(huge.expectMessage().at("message"), "huge");
    // 1e16 is the integer 10000000000000000: the same channel.
    reply = httpPost(server.backendPort(), "/backend", publishBody("1e16", "\"same number\""), kAuth);
    EXPECT_EQ(integral.expectMessage().at("message"), "same number");
    EXPECT_TRUE(huge.silentFor());
}

// ---------------------------------------------------------------- query strings

TEST(InputValidation, AQueryStringThatDoesNotParseIsRefusedNotIgnored) {
    ServerProcess server(basicConfig());
    // The token would have been ignored and the client connected anonymously.
    EXPECT_EQ(upgradeStatus(server.frontendPort(), "/ws?token=bad&x=%zz"), 401);
    EXPECT_EQ(upgradeStatus(server.frontendPort(), "/ws?x=%zz&token=bad"), 401);
    EXPECT_EQ(upgradeStatus(server.frontendPort(), "/ws?x=%zz"), 401);
    EXPECT_EQ(upgradeStatus(server.frontendPort(), "/ws?%"), 401);
    std::string answer = rawExchange(server.frontendPort(), upgradeRequest("/ws?token=bad&x=%zz"));
    EXPECT_NE(answer.find("401 Unauthorized"), std::string::npos) << answer;
    EXPECT_NE(answer.find(R"({"error":"Malformed query string"})"), std::string::npos) << answer;
    // Well-formed queries without a token still connect.
    EXPECT_EQ(upgradeStatus(server.frontendPort(), "/ws?x=%41&y"), 101);
}

// ---------------------------------------------------------------- UTF-8 and close frames

TEST(InputValidation, TextThatIsNotUtf8ClosesWith1007) {
    ServerProcess server(basicConfig());
    for (std::string bad : {std::string("\xff\xfe"), std::string("{\"a\":\"\xc0\xaf\"}"),  // overlong '/'
                            std::string("{\"a\":\"\xed\xa0\x80\"}"),                        // a surrogate
                            std::string("{\"a\":\"\xf4\x90\x80\x80\"}"),                    // above U+10FFFF
                            std::string("{\"a\":\"\xe2\x82\"}")}) {                          // truncated
        WsClient client(server.frontendPort());
        client.sendText(bad);
        EXPECT_EQ(client.waitClosed(), 1007);
    }
    WsClient other(server.frontendPort());
    EXPECT_EQ(other.request("pubsub", "subscribe", {{"channel", "still"}}).at("type"), "response");
}

TEST(InputValidation, FragmentedTextIsValidatedAsAWhole) {
    ServerProcess server(basicConfig());
    // "café" with its two-byte é split across fragments: valid.
    WsClient client(server.frontendPort());
    std::string text = R"({"service":"pubsub","message":{"command":"subscribe","params":{"channel":"caf)" "\xc3";
    std::string rest = "\xa9\"},\"callId\":4}}";
    client.sendRaw(snorky::ws::clientFrame(snorky::ws::Text, text, kMask, false) +
                   snorky::ws::clientFrame(snorky::ws::Continuation, rest, kMask, true));
    EXPECT_EQ(client.expectMessage(), json::parse(R"({"type":"response","callId":4,"data":null})"));
    // A lead byte whose continuation never comes: the whole message is not UTF-8.
    WsClient bad(server.frontendPort());
    bad.sendRaw(snorky::ws::clientFrame(snorky::ws::Text, "{\"a\":\"\xc3", kMask, false) +
                snorky::ws::clientFrame(snorky::ws::Continuation, "A\"}", kMask, true));
    EXPECT_EQ(bad.waitClosed(), 1007);
}

TEST(InputValidation, CloseFramesWithReservedCodesOrBadReasonsGet1002) {
    ServerProcess server(basicConfig());
    using snorky::ws::clientFrame;
    using snorky::ws::Close;
    for (int code : {1004, 1005, 1006, 1015, 1016, 2999, 999, 5000}) {
        std::string reply = afterUpgrade(server.frontendPort(), clientFrame(Close, closePayload(code), kMask));
        EXPECT_NE(reply.find(serverClose(1002)), std::string::npos) << code;
    }
    std::string reply = afterUpgrade(server.frontendPort(), clientFrame(Close, "\x03", kMask));  // 1-byte payload
    EXPECT_NE(reply.find(serverClose(1002)), std::string::npos);
    reply = afterUpgrade(server.frontendPort(), clientFrame(Close, closePayload(1000, "bye \xff"), kMask));
    EXPECT_NE(reply.find(serverClose(1002)), std::string::npos);
    // Codes a peer may send are echoed.
    for (int code : {1000, 1001, 1003, 1007, 1011, 1014, 3000, 4999}) {
        reply = afterUpgrade(server.frontendPort(), clientFrame(Close, closePayload(code, "caf\xc3\xa9"), kMask));
        EXPECT_NE(reply.find(serverClose(code)), std::string::npos) << code;
    }
    reply = afterUpgrade(server.frontendPort(), clientFrame(Close, "", kMask));
    EXPECT_NE(reply.find(serverClose(1000)), std::string::npos);
}

// ---------------------------------------------------------------- backend read timeout

namespace {
std::string backendWithReadTimeout() {
    std::string config = basicConfig(true);
    std::string key = "key = \"swordfish\"";
    config.replace(config.find(key), key.size(), key + "\nrequest_read_timeout = 1");
    return config;
}
}  // namespace

TEST(InputValidation, BackendHeadersTrickledAByteAtATimeAreCutOff) {
    ServerProcess server(backendWithReadTimeout());  // keepalive_timeout stays 60 s
    int fd = connectTo(server.backendPort());
    std::string request = "POST /backend HTTP/1.1\r\nHost: x\r\nX-Backend-Key: swordfish\r\nContent-Type: "
                          "application/json\r\nX-Padding: " + std::string(100, 'p') + "\r\n\r\n";
    auto keptFor = trickle(fd, request, std::chrono::milliseconds(200));
    ::close(fd);
    ASSERT_TRUE(keptFor.has_value()) << "the server read the whole trickled header";
    EXPECT_GE(keptFor->count(), 800);
    EXPECT_LT(keptFor->count(), 3000);
}

TEST(InputValidation, BackendBodiesTrickledAByteAtATimeAreCutOff) {
    ServerProcess server(backendWithReadTimeout());
    int fd = connectTo(server.backendPort());
    std::string body = publishBody("\"c\"", "\"" + std::string(100, 'x') + "\"");
    std::string header = "POST /backend HTTP/1.1\r\nHost: x\r\nX-Backend-Key: swordfish\r\nContent-Length: " +
                         std::to_string(body.size()) + "\r\n\r\n";
    ASSERT_EQ(::send(fd, header.data(), header.size(), MSG_NOSIGNAL), static_cast<ssize_t>(header.size()));
    auto keptFor = trickle(fd, body, std::chrono::milliseconds(200));
    ::close(fd);
    ASSERT_TRUE(keptFor.has_value()) << "the server read the whole trickled body";
    EXPECT_LT(keptFor->count(), 3000);
}

TEST(InputValidation, IdleKeepAliveConnectionsStillWaitForTheirNextRequest) {
    ServerProcess server(backendWithReadTimeout());
    int fd = connectTo(server.backendPort());
    // Idle longer than request_read_timeout: the keep-alive timeout (60 s) applies, not the read timeout.
    EXPECT_FALSE(closedWithin(fd, std::chrono::milliseconds(1500)));
    std::string body = publishBody("\"c\"", "1");
    std::string request = "POST /backend HTTP/1.1\r\nHost: x\r\nX-Backend-Key: swordfish\r\nContent-Length: " +
                          std::to_string(body.size()) + "\r\n\r\n" + body;
    ASSERT_EQ(::send(fd, request.data(), request.size(), MSG_NOSIGNAL), static_cast<ssize_t>(request.size()));
    std::string seen;
    closedWithin(fd, std::chrono::milliseconds(1500), &seen);  // reads the answer, then idles again
    ::close(fd);
    EXPECT_EQ(seen.rfind("HTTP/1.1 200 OK", 0), 0u) << seen;
}
