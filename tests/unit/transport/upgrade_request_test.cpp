// decideUpgrade: what the WebSocket listener answers to each kind of request.
#include "transport/upgrade_request.hpp"

#include <gtest/gtest.h>

#include <boost/beast/http/parser.hpp>

using namespace snorky;
namespace http = boost::beast::http;

namespace {
http::request<http::empty_body> parse(const std::string& text) {
    http::request_parser<http::empty_body> parser;
    parser.header_limit(kMaxUpgradeHeader);
    boost::beast::error_code ec;
    parser.put(boost::asio::buffer(text), ec);
    EXPECT_FALSE(ec) << ec.message();
    return parser.release();
}

std::string upgrade(const std::string& target, const std::string& extra = "") {
    return "GET " + target + " HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" + extra + "\r\n";
}

WebSocketOptions options() {
    WebSocketOptions o;
    o.allowedOrigins = {"https://app.example"};
    o.verifyToken = [](std::string_view token, std::string& error) -> std::optional<json::value> {
        if (token == "good") return json::value("alice");
        error = "Invalid token";
        return std::nullopt;
    };
    return o;
}
}  // namespace

TEST(UpgradeRequest, AcceptsAHandshakeWithItsIdentity) {
    auto request = parse(upgrade("/ws?token=good"));
    auto d = decideUpgrade(request, options());
    EXPECT_EQ(d.kind, UpgradeDecision::Kind::Accept);
    EXPECT_EQ(d.key, "dGhlIHNhbXBsZSBub25jZQ==");
    EXPECT_EQ(d.identity, "alice");
    request = parse(upgrade("/ws"));
    EXPECT_TRUE(decideUpgrade(request, options()).identity.is_null());
}

TEST(UpgradeRequest, Refusals) {
    struct Case {
        std::string request;
        unsigned status;
        std::string error;
    } cases[] = {
        {upgrade("/other"), 404, "Not found"},
        {upgrade("/ws?token=bad"), 401, "Invalid token"},
        {upgrade("/ws?token=good&x=%zz"), 401, "Malformed query string"},
        {upgrade("/ws", "Origin: https://evil.example\r\n"), 403, "Origin not allowed"},
        {"GET /ws HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: short\r\n"
         "Sec-WebSocket-Version: 13\r\n\r\n", 400, "Invalid Sec-WebSocket-Key"},
    };
    for (const auto& c : cases) {
        auto request = parse(c.request);
        auto d = decideUpgrade(request, options());
        EXPECT_EQ(d.kind, UpgradeDecision::Kind::Refuse) << c.request;
        EXPECT_EQ(d.status, c.status) << c.request;
        EXPECT_EQ(d.error, c.error) << c.request;
    }
    auto request = parse(upgrade("/ws").replace(upgrade("/ws").find("13"), 2, "12"));
    auto d = decideUpgrade(request, options());
    EXPECT_EQ(d.status, 426u);
    EXPECT_EQ(d.extraHeaders, "Sec-WebSocket-Version: 13\r\n");
}

TEST(UpgradeRequest, PlainRequestsAreLeftToTheStaticFiles) {
    auto request = parse("GET /chat/index.html?x=1 HTTP/1.1\r\nHost: x\r\n\r\n");
    auto d = decideUpgrade(request, options());
    EXPECT_EQ(d.kind, UpgradeDecision::Kind::NotUpgrade);
    EXPECT_EQ(d.path, "/chat/index.html");
    EXPECT_EQ(d.status, 404u);
    request = parse("GET /ws HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_EQ(decideUpgrade(request, options()).status, 426u);
}

TEST(UpgradeRequest, PermessageDeflateOnlyWhenTheListenerCompresses) {
    auto request = parse(upgrade("/ws", "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"));
    EXPECT_FALSE(decideUpgrade(request, options()).deflate.accepted);  // compression is off by default
    auto compressing = options();
    compressing.compression = true;
    auto d = decideUpgrade(request, compressing);
    ASSERT_EQ(d.kind, UpgradeDecision::Kind::Accept);
    EXPECT_TRUE(d.deflate.accepted);
    EXPECT_EQ(d.deflate.response, "permessage-deflate; server_no_context_takeover; client_no_context_takeover");
    // Offers over several header lines are one list: the first acceptable one wins.
    request = parse(upgrade("/ws", "Sec-WebSocket-Extensions: permessage-deflate; unknown_param\r\n"
                                   "Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=11\r\n"));
    d = decideUpgrade(request, compressing);
    EXPECT_TRUE(d.deflate.accepted);
    EXPECT_EQ(d.deflate.maxCompressedPayload, 2048u);
    // No offer, or none acceptable: a plain connection.
    request = parse(upgrade("/ws"));
    EXPECT_FALSE(decideUpgrade(request, compressing).deflate.accepted);
    request = parse(upgrade("/ws", "Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=99\r\n"));
    d = decideUpgrade(request, compressing);
    EXPECT_EQ(d.kind, UpgradeDecision::Kind::Accept);
    EXPECT_FALSE(d.deflate.accepted);
}
