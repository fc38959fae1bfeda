// The SockJS listener over real sockets: the published SockJS 0.3 protocol
// behaviours (info, session URLs, each transport's framing and lifecycle,
// another-connection, close frames, heartbeats, session timeout, CORS,
// JSESSIONID, streaming limits, escaping) with the project's services.
#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/string.hpp>
#include <thread>

#include "support/clients.hpp"
#include "support/probes.hpp"
#include "support/server_process.hpp"

using namespace snorky::it;
namespace asio = boost::asio;

namespace {

// websocket 0, backend 1, sockjs 2 (heartbeat and timeout short for the tests).
std::string sockjsConfig(const std::string& options = "", const std::string& services = "") {
    return basicConfig(true, "", services + R"(
[[listener]]
type = "sockjs"
registry = "frontend"
address = "127.0.0.1"
port = 0
heartbeat_delay = 1
disconnect_delay = 1
response_limit = 4096
)" + options + "\n");
}

int sockjsPort(const ServerProcess& server) { return server.port(2); }

std::string envelope(const std::string& command, json::object params, int callId = 1) {
    json::object message{{"command", command}, {"params", std::move(params)}, {"callId", callId}};
    return json::serialize(json::object{{"service", "pubsub"}, {"message", std::move(message)}});
}

// The xhr_send body carrying these messages.
std::string sendBody(const std::vector<std::string>& messages) {
    json::array array;
    for (const auto& m : messages) array.emplace_back(m);
    return json::serialize(array);
}

// The messages of an "a[...]" frame, each parsed as JSON.
std::vector<json::value> messagesOf(std::string frame) {
    while (!frame.empty() && (frame.back() == '\n' || frame.back() == '\r')) frame.pop_back();
    EXPECT_EQ(frame.substr(0, 1), "a") << frame;
    std::vector<json::value> out;
    if (frame.empty() || frame[0] != 'a') return out;
    json::value array = json::parse(frame.substr(1));
    for (const auto& item : array.as_array()) out.push_back(json::parse(item.as_string()));
    return out;
}

void publish(const ServerProcess& server, json::value channel, json::value message) {
    backendCall(server.backendPort(), "pubsub_backend", "publish", {{"channel", channel}, {"message", message}});
}

// A long-lived HTTP request read as it arrives (xhr_streaming, eventsource,
// a held poll).
class Stream {
public:
    Stream(int port, const std::string& method, const std::string& target,
           const std::map<std::string, std::string>& headers = {})
        : socket_(ioc_) {
        socket_.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)));
        std::string request = method + " " + target + " HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n";
        for (const auto& [k, v] : headers) request += k + ": " + v + "\r\n";
        request += "\r\n";
        asio::write(socket_, asio::buffer(request));
    }
    // Reads until `text` has arrived (true) or the time is up / the peer closed.
    bool waitFor(const std::string& text, std::chrono::milliseconds timeout = 3000ms) {
        auto deadline = std::chrono::steady_clock::now() + timeout;
        while (data_.find(text, consumed_) == std::string::npos) {
            if (closed_ || !readOnce(deadline)) return false;
        }
        consumed_ = data_.find(text, consumed_) + text.size();
        return true;
    }
    // True when the server closes the connection within `timeout`.
    bool waitClosed(std::chrono::milliseconds timeout = 3000ms) {
        auto deadline = std::chrono::steady_clock::now() + timeout;
        while (!closed_)
            if (!readOnce(deadline)) return closed_;
        return true;
    }
    const std::string& data() const { return data_; }
    std::string rest() const { return data_.substr(consumed_); }

private:
    bool readOnce(std::chrono::steady_clock::time_point deadline) {
        char buffer[8192];
        bool done = false, got = false;
        socket_.async_read_some(asio::buffer(buffer), [&](const boost::system::error_code& ec, std::size_t n) {
            done = true;
            if (ec == asio::error::operation_aborted) return;  // our timeout, not the peer
            if (ec) closed_ = true;
            else {
                data_.append(buffer, n);
                got = true;
            }
        });
        ioc_.restart();
        ioc_.run_until(deadline);
        if (!done) {
            socket_.cancel();
            ioc_.restart();
            ioc_.run();
            return false;
        }
        return got;
    }
    asio::io_context ioc_;
    asio::ip::tcp::socket socket_;
    std::string data_;
    std::size_t consumed_ = 0;
    bool closed_ = false;
};

// A response header by its name in any case.
std::string header(const HttpResponse& response, std::string name) {
    for (const auto& [key, value] : response.headers)
        if (boost::beast::iequals(key, name)) return value;
    return "";
}

std::string sessionUrl(const std::string& id) { return "/sockjs/000/" + id; }

}  // namespace

TEST(SockJs, InfoGreetingAndPreflight) {
    ServerProcess server(sockjsConfig());
    int port = sockjsPort(server);
    auto info = httpRequest(port, "GET", "/sockjs/info", "");
    ASSERT_EQ(info.status, 200);
    auto body = info.json().as_object();
    EXPECT_EQ(body.at("websocket"), true);
    EXPECT_EQ(body.at("cookie_needed"), false);
    EXPECT_EQ(body.at("origins"), json::parse(R"(["*:*"])"));
    EXPECT_TRUE(body.at("entropy").is_number());
    EXPECT_NE(httpRequest(port, "GET", "/sockjs/info", "").json().at("entropy"), body.at("entropy"));
    EXPECT_EQ(header(info, "cache-control"), "no-store, no-cache, no-transform, must-revalidate, max-age=0");
    EXPECT_EQ(header(info, "access-control-allow-origin"), "*");
    EXPECT_EQ(header(info, "set-cookie"), "");

    auto options = httpRequest(port, "OPTIONS", "/sockjs/info", "", {{"Origin", "http://app"}, {"Access-Control-Request-Method", "GET"}});
    EXPECT_EQ(options.status, 204);
    EXPECT_NE(header(options, "cache-control").find("public, max-age=31536000"), std::string::npos);
    EXPECT_FALSE(header(options, "expires").empty());
    EXPECT_EQ(header(options, "access-control-max-age"), "31536000");
    EXPECT_EQ(header(options, "access-control-allow-origin"), "http://app");
    EXPECT_EQ(header(options, "access-control-allow-credentials"), "true");
    EXPECT_NE(header(options, "access-control-allow-methods").find("GET"), std::string::npos);

    auto greeting = httpRequest(port, "GET", "/sockjs", "");
    EXPECT_EQ(greeting.status, 200);
    EXPECT_EQ(greeting.body, "Welcome to SockJS!\n");
    EXPECT_EQ(httpRequest(port, "GET", "/sockjs/", "").body, "Welcome to SockJS!\n");
    EXPECT_EQ(httpRequest(port, "GET", "/elsewhere", "").status, 404);
}

TEST(SockJs, InvalidSessionUrlsAre404AndTheServerIdIsIgnored) {
    ServerProcess server(sockjsConfig());
    int port = sockjsPort(server);
    for (const char* suffix : {"//", "/a./a", "/a/a.", "/./.", "/", "///", "/a/b/c"}) {
        EXPECT_EQ(httpPost(port, std::string("/sockjs") + suffix + "/xhr", "").status, 404) << suffix;
        EXPECT_EQ(httpRequest(port, "GET", std::string("/sockjs") + suffix + "/xhr", "").status, 404) << suffix;
    }
    EXPECT_EQ(httpPost(port, "/sockjs/a/" + std::string(200, 'x') + "/xhr", "").status, 404);
    EXPECT_EQ(httpPost(port, "/sockjs/a/b/unknown", "").status, 404);
    EXPECT_EQ(httpRequest(port, "GET", "/sockjs/a/b/xhr", "").status, 405);

    auto opened = httpPost(port, "/sockjs/000/s1/xhr", "");
    EXPECT_EQ(opened.status, 200);
    EXPECT_EQ(opened.body, "o\n");
    EXPECT_EQ(httpPost(port, "/sockjs/000/s1/xhr_send", sendBody({envelope("subscribe", {{"channel", "c"}})})).status, 204);
    auto reply = httpPost(port, "/sockjs/999/s1/xhr", "");  // another server id, the same session
    ASSERT_EQ(reply.status, 200);
    EXPECT_EQ(messagesOf(reply.body).at(0), json::parse(R"({"service":"pubsub","message":{"type":"response","callId":1,"data":null}})"));
}

TEST(SockJs, XhrPollingBatchesWhatQueuedIntoOneFrame) {
    ServerProcess server(sockjsConfig());
    int port = sockjsPort(server);
    auto opened = httpPost(port, sessionUrl("poll") + "/xhr", "", {{"Origin", "http://app"}});
    EXPECT_EQ(opened.body, "o\n");
    EXPECT_EQ(header(opened, "content-type"), "application/javascript; charset=UTF-8");
    EXPECT_EQ(header(opened, "access-control-allow-origin"), "http://app");
    EXPECT_EQ(header(opened, "access-control-allow-credentials"), "true");
    EXPECT_EQ(header(opened, "cache-control"), "no-store, no-cache, no-transform, must-revalidate, max-age=0");
    auto sent = httpPost(port, sessionUrl("poll") + "/xhr_send", sendBody({envelope("subscribe", {{"channel", "news"}})}),
                         {{"Origin", "http://app"}});
    EXPECT_EQ(sent.status, 204);
    EXPECT_EQ(sent.body, "");
    EXPECT_EQ(header(sent, "content-type"), "text/plain; charset=UTF-8");
    EXPECT_EQ(header(sent, "access-control-allow-origin"), "http://app");
    ASSERT_EQ(messagesOf(httpPost(port, sessionUrl("poll") + "/xhr", "").body).size(), 1u);  // the reply
    publish(server, "news", 1);
    publish(server, "news", 2);
    publish(server, "news", 3);
    auto batch = messagesOf(httpPost(port, sessionUrl("poll") + "/xhr", "").body);
    ASSERT_EQ(batch.size(), 3u);
    for (int i = 0; i < 3; ++i) EXPECT_EQ(batch[i].at("message").at("message"), i + 1);

    // A held poll is answered by the next message.
    Stream held(port, "POST", sessionUrl("poll") + "/xhr");
    std::this_thread::sleep_for(100ms);  // the poll must be attached before the publish (nothing to await)
    publish(server, "news", 4);
    ASSERT_TRUE(held.waitFor("\"message\\\":4"));
}

TEST(SockJs, XhrSendRefusals) {
    ServerProcess server(sockjsConfig());
    int port = sockjsPort(server);
    EXPECT_EQ(httpPost(port, sessionUrl("nobody") + "/xhr_send", R"(["x"])").status, 404);
    httpPost(port, sessionUrl("s") + "/xhr", "");
    auto empty = httpPost(port, sessionUrl("s") + "/xhr_send", "");
    EXPECT_EQ(empty.status, 500);
    EXPECT_NE(empty.body.find("Payload expected."), std::string::npos);
    for (const char* broken : {R"(["x)", R"({"a":1})", R"([1])", R"("x")", R"(["\ud800"])"}) {
        auto r = httpPost(port, sessionUrl("s") + "/xhr_send", broken);
        EXPECT_EQ(r.status, 500) << broken;
        EXPECT_NE(r.body.find("Broken JSON encoding."), std::string::npos) << broken;
    }
    for (const char* type : {"text/plain", "T", "application/json", "application/xml", ""})
        EXPECT_EQ(httpPost(port, sessionUrl("s") + "/xhr_send", "[]", {{"Content-Type", type}}).status, 204) << type;
    auto preflight = httpRequest(port, "OPTIONS", sessionUrl("s") + "/xhr_send", "",
                                 {{"Origin", "null"}, {"Access-Control-Request-Method", "POST"},
                                  {"Access-Control-Request-Headers", "a, b, c"}});
    EXPECT_EQ(preflight.status, 204);
    EXPECT_EQ(header(preflight, "access-control-allow-origin"), "null");
    EXPECT_EQ(header(preflight, "access-control-allow-headers"), "a, b, c");
    EXPECT_NE(header(preflight, "access-control-allow-methods").find("POST"), std::string::npos);
    // A message over max_message_size closes the session (as 1009 on WebSocket).
    auto big = httpPost(port, sessionUrl("s") + "/xhr_send", sendBody({std::string(70 * 1024, 'x')}));
    EXPECT_EQ(big.status, 413);
    EXPECT_EQ(httpPost(port, sessionUrl("s") + "/xhr", "").body, "c[1009,\"Message too big\"]\n");
}

TEST(SockJs, XhrStreamingPreludeFramesAndResponseLimit) {
    ServerProcess server(sockjsConfig());
    int port = sockjsPort(server);
    Stream stream(port, "POST", sessionUrl("st") + "/xhr_streaming", {{"Origin", "http://app"}});
    ASSERT_TRUE(stream.waitFor("\r\n\r\n" + std::string(2048, 'h') + "\n"));
    EXPECT_NE(stream.data().find("Content-Type: application/javascript; charset=UTF-8"), std::string::npos);
    EXPECT_NE(stream.data().find("Access-Control-Allow-Origin: http://app"), std::string::npos);
    ASSERT_TRUE(stream.waitFor("o\n"));
    httpPost(port, sessionUrl("st") + "/xhr_send", sendBody({envelope("subscribe", {{"channel", "s"}})}));
    ASSERT_TRUE(stream.waitFor("a[\"{\\\"service\\\":\\\"pubsub\\\""));
    // A second receiving request gets 2010 and ends; the first one stays.
    auto second = httpPost(port, sessionUrl("st") + "/xhr", "");
    EXPECT_EQ(second.body, "c[2010,\"Another connection still open\"]\n");
    publish(server, "s", "still here");
    ASSERT_TRUE(stream.waitFor("still here"));
    // response_limit = 4096: the stream ends once it carried that much.
    publish(server, "s", json::string(std::string(4096, 'y')));
    ASSERT_TRUE(stream.waitFor(std::string(4096, 'y')));
    EXPECT_TRUE(stream.waitClosed());
    // The session lives on: the next request continues it.
    publish(server, "s", "after");
    EXPECT_NE(httpPost(port, sessionUrl("st") + "/xhr", "").body.find("after"), std::string::npos);
}

TEST(SockJs, EventSourceFraming) {
    ServerProcess server(sockjsConfig());
    int port = sockjsPort(server);
    Stream stream(port, "GET", sessionUrl("es") + "/eventsource");
    ASSERT_TRUE(stream.waitFor("\r\n\r\n\r\ndata: o\r\n\r\n"));
    EXPECT_NE(stream.data().find("Content-Type: text/event-stream"), std::string::npos);
    EXPECT_NE(stream.data().find("Cache-Control: no-store, no-cache, no-transform, must-revalidate, max-age=0"), std::string::npos);
    httpPost(port, sessionUrl("es") + "/xhr_send", sendBody({envelope("subscribe", {{"channel", "e"}})}));
    ASSERT_TRUE(stream.waitFor("data: a[\"{"));
    ASSERT_TRUE(stream.waitFor("]\r\n\r\n"));
    EXPECT_EQ(httpPost(port, sessionUrl("es") + "/eventsource", "").status, 405);
}

TEST(SockJs, HeartbeatsAnswerAHeldPoll) {
    ServerProcess server(sockjsConfig());
    int port = sockjsPort(server);
    EXPECT_EQ(httpPost(port, sessionUrl("hb") + "/xhr", "").body, "o\n");
    auto started = std::chrono::steady_clock::now();
    EXPECT_EQ(httpPost(port, sessionUrl("hb") + "/xhr", "").body, "h\n");
    EXPECT_LT(std::chrono::steady_clock::now() - started, 3s);
}

TEST(SockJs, SessionWithoutReceivingRequestTimesOutAsADisconnect) {
    ServerProcess server(sockjsConfig());
    int port = sockjsPort(server);
    httpPost(port, sessionUrl("gone") + "/xhr", "");
    EXPECT_EQ(metric(server.backendPort(), "connections_open"), 1);
    // disconnect_delay = 1: within a couple of ticks the services hear of it.
    EXPECT_TRUE(waitUntil([&] { return metric(server.backendPort(), "connections_open") == 0; }, 4000ms));
    EXPECT_EQ(httpPost(port, sessionUrl("gone") + "/xhr_send", "[]").status, 404);
    // The same id opens a new session.
    EXPECT_EQ(httpPost(port, sessionUrl("gone") + "/xhr", "").body, "o\n");
}

TEST(SockJs, ServerCloseIsRepeatedToLaterRequests) {
    ServerProcess server(sockjsConfig("rate_limit = 1\nrate_burst = 1\nrate_limit_disconnect = 2"));
    int port = sockjsPort(server);
    httpPost(port, sessionUrl("rl") + "/xhr", "");
    std::vector<std::string> flood;
    for (int i = 0; i < 4; ++i) flood.push_back(envelope("subscribe", {{"channel", std::to_string(i)}}, i));
    EXPECT_EQ(httpPost(port, sessionUrl("rl") + "/xhr_send", sendBody(flood)).status, 204);
    EXPECT_EQ(httpPost(port, sessionUrl("rl") + "/xhr", "").body, "c[1008,\"Rate limit exceeded\"]\n");
    EXPECT_EQ(httpPost(port, sessionUrl("rl") + "/xhr", "").body, "c[1008,\"Rate limit exceeded\"]\n");
    EXPECT_EQ(metric(server.backendPort(), "connections_open"), 0);
}

TEST(SockJs, SlowConsumerWithoutReceiverIsClosed) {
    ServerProcess server(sockjsConfig("max_queue_bytes = 2048"));
    int port = sockjsPort(server);
    httpPost(port, sessionUrl("slow") + "/xhr", "");
    httpPost(port, sessionUrl("slow") + "/xhr_send", sendBody({envelope("subscribe", {{"channel", "f"}})}));
    for (int i = 0; i < 4; ++i) publish(server, "f", json::string(std::string(1000, 'z')));
    EXPECT_TRUE(waitUntil([&] { return metric(server.backendPort(), "slow_consumers_total") == 1; }));
    EXPECT_EQ(httpPost(port, sessionUrl("slow") + "/xhr", "").body, "c[1008,\"Slow consumer\"]\n");
}

TEST(SockJs, UnicodeThatJavaScriptCannotCarryRawIsEscaped) {
    ServerProcess server(sockjsConfig());
    int port = sockjsPort(server);
    httpPost(port, sessionUrl("u") + "/xhr", "");
    httpPost(port, sessionUrl("u") + "/xhr_send", sendBody({envelope("subscribe", {{"channel", "u"}})}));
    httpPost(port, sessionUrl("u") + "/xhr", "");
    publish(server, "u", "\xe2\x80\xa8|\xef\xbf\xb0|\xe2\x80\x8c|\xe2\x81\xa0|\xc3\xa9|\xf0\x9f\x98\x80");
    std::string body = httpPost(port, sessionUrl("u") + "/xhr", "").body;
    EXPECT_NE(body.find("\\u2028|\\ufff0|\\u200c|\\u2060|\xc3\xa9|\xf0\x9f\x98\x80"), std::string::npos) << body;
    EXPECT_EQ(messagesOf(body).at(0).at("message").at("message"),
              "\xe2\x80\xa8|\xef\xbf\xb0|\xe2\x80\x8c|\xe2\x81\xa0|\xc3\xa9|\xf0\x9f\x98\x80");
}

TEST(SockJs, JsessionIdCookieWhenNeeded) {
    ServerProcess server(sockjsConfig("cookie_needed = true"));
    int port = sockjsPort(server);
    auto info = httpRequest(port, "GET", "/sockjs/info", "");
    EXPECT_EQ(info.json().at("cookie_needed"), true);
    EXPECT_EQ(header(info, "set-cookie"), "");
    EXPECT_EQ(header(httpPost(port, sessionUrl("c1") + "/xhr", ""), "set-cookie"), "JSESSIONID=dummy; path=/");
    EXPECT_EQ(header(httpPost(port, sessionUrl("c2") + "/xhr", "", {{"Cookie", "a=b; JSESSIONID=abcdef"}}), "set-cookie"),
              "JSESSIONID=abcdef; path=/");
    Stream es(port, "GET", sessionUrl("c3") + "/eventsource");
    ASSERT_TRUE(es.waitFor("data: o"));
    EXPECT_NE(es.data().find("Set-Cookie: JSESSIONID=dummy; path=/"), std::string::npos);
}

TEST(SockJs, WebSocketTransportFramesAndBrokenJson) {
    ServerProcess server(sockjsConfig());
    int port = sockjsPort(server);
    WsClient ws(port, sessionUrl("w") + "/websocket");
    boost::beast::flat_buffer buffer;
    auto next = [&] {
        buffer.clear();
        ws.stream().read(buffer);
        return boost::beast::buffers_to_string(buffer.data());
    };
    EXPECT_EQ(next(), "o");
    ws.sendText("");    // ignored
    ws.sendText("[]");  // ignored
    ws.sendText(sendBody({envelope("subscribe", {{"channel", "w"}})}));
    auto reply = next();
    EXPECT_EQ(messagesOf(reply).at(0).at("message").at("type"), "response");
    publish(server, "w", "hello");
    EXPECT_EQ(messagesOf(next()).at(0).at("message").at("message"), "hello");
    // Two websockets may share a session id: each is its own session.
    WsClient other(port, sessionUrl("w") + "/websocket");
    boost::beast::flat_buffer otherBuffer;
    other.stream().read(otherBuffer);
    EXPECT_EQ(boost::beast::buffers_to_string(otherBuffer.data()), "o");
    ws.sendText("[\"x");  // broken JSON ends the connection
    EXPECT_TRUE(ws.waitClosed().has_value());
    EXPECT_EQ(upgradeStatus(port, "/sockjs/000/w/xhr"), 405);
}

TEST(SockJs, RawWebSocketCarriesPlainMessages) {
    ServerProcess server(sockjsConfig());
    int port = sockjsPort(server);
    WsClient ws(port, "/sockjs/websocket");
    EXPECT_EQ(ws.request("pubsub", "subscribe", {{"channel", "r"}}).at("type"), "response");
    publish(server, "r", "plain");
    EXPECT_EQ(ws.expectMessage().at("message"), "plain");
}

TEST(SockJs, ShutdownClosesSessions) {
    ServerProcess server(sockjsConfig());
    int port = sockjsPort(server);
    httpPost(port, sessionUrl("sd") + "/xhr", "");
    Stream held(port, "POST", sessionUrl("sd") + "/xhr");
    std::this_thread::sleep_for(100ms);
    EXPECT_EQ(server.terminate(), 0);
    EXPECT_TRUE(held.waitFor("c[1001,\"Server shutting down\"]\n"));
}

TEST(SockJs, ConnectTimeTokenAndChatPresenceWhenTheSessionTimesOut) {
    const std::string services = R"(
[[service]]
name = "auth"
type = "auth"
registry = "frontend"

[[service]]
name = "auth_backend"
type = "auth_backend"
registry = "backend"
auth = "auth"

[[service]]
name = "chat"
type = "chat"
registry = "frontend"
)";
    ServerProcess server(sockjsConfig("", services), {{"SNORKY_IDENTITY_SECRET", "it-secret-0123456789abcdef0123456789"}});
    int port = sockjsPort(server);
    auto mint = [&](const char* who) {
        return std::string(backendCall(server.backendPort(), "auth_backend", "mintToken", {{"identity", who}}).at("data").as_string());
    };
    EXPECT_EQ(httpPost(port, sessionUrl("bad") + "/xhr?token=forged", "").status, 401);
    EXPECT_EQ(httpPost(port, sessionUrl("ann") + "/xhr?token=" + mint("ann"), "").body, "o\n");
    json::object join{{"command", "join"}, {"params", {{"channel", "lobby"}}}, {"callId", 1}};
    std::string joinEnvelope = json::serialize(json::object{{"service", "chat"}, {"message", join}});
    EXPECT_EQ(httpPost(port, sessionUrl("ann") + "/xhr_send", sendBody({joinEnvelope})).status, 204);
    EXPECT_EQ(messagesOf(httpPost(port, sessionUrl("ann") + "/xhr", "").body).at(0).at("message").at("data"),
              json::parse(R"({"members":["ann"]})"));

    WsClient bob(server.frontendPort(), "/ws?token=" + mint("bob"));
    EXPECT_EQ(bob.request("chat", "join", {{"channel", "lobby"}}).at("data"), json::parse(R"({"members":["ann","bob"]})"));
    // Ann's page is gone (no more polls): after disconnect_delay she leaves.
    json::value left = bob.expectMessage(5000ms);
    EXPECT_EQ(left.at("type"), "presence");
    EXPECT_EQ(left.at("from"), "ann");
    EXPECT_EQ(left.at("status"), "left");
}

TEST(SockJs, OriginAndPerAddressLimitsAreEnforcedPerSession) {
    ServerProcess server(sockjsConfig("allowed_origins = [\"http://app\"]\nmax_connections_per_ip = 2"));
    int port = sockjsPort(server);
    EXPECT_EQ(httpPost(port, sessionUrl("o1") + "/xhr", "", {{"Origin", "http://evil"}}).status, 403);
    EXPECT_EQ(upgradeStatus(port, sessionUrl("o2") + "/websocket", {{"Origin", "http://evil"}}), 403);
    EXPECT_EQ(httpPost(port, sessionUrl("o3") + "/xhr", "", {{"Origin", "http://app"}}).body, "o\n");
    // A session, not a request, takes a place: polling it again is no new connection.
    EXPECT_EQ(httpPost(port, sessionUrl("p1") + "/xhr", "").body, "o\n");
    EXPECT_EQ(httpPost(port, sessionUrl("p1") + "/xhr_send", "[]").status, 204);
    auto third = httpPost(port, sessionUrl("p2") + "/xhr", "");
    EXPECT_EQ(third.status, 429);
    EXPECT_EQ(third.json().at("error"), "Too many connections from this address");
    EXPECT_EQ(upgradeStatus(port, "/sockjs/websocket"), 429);
    EXPECT_EQ(metric(server.backendPort(), "connections_per_ip_refused_total"), 2);
    // Once a session expires its place is free again.
    EXPECT_TRUE(waitUntil([&] { return httpPost(port, sessionUrl("p3") + "/xhr", "").status == 200; }, 5000ms, 200ms));
}

TEST(SockJs, OversizedBodyIsRefused) {
    ServerProcess server(sockjsConfig("max_message_size = 1024"));
    int port = sockjsPort(server);
    httpPost(port, sessionUrl("b") + "/xhr", "");
    // The body limit allows JSON escaping (6x); beyond it the request is refused unread.
    EXPECT_EQ(httpPost(port, sessionUrl("b") + "/xhr_send", "[\"" + std::string(7000, 'x') + "\"]").status, 413);
}
