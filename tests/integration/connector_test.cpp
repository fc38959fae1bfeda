// The C++ backend connector (and its example program) against the real
// server: publishes reach a subscribed WebSocket client, and every failure
// mode gives the right exception with a useful message.
#include <gtest/gtest.h>

#include <thread>

#include "snorky/connector/backend.hpp"
#include "snorky/connector/http_transport.hpp"
#include "support/clients.hpp"
#include "support/fake_http_server.hpp"
#include "support/probes.hpp"
#include "support/run_program.hpp"
#include "support/server_process.hpp"

using namespace snorky::it;
using namespace snorky::connector;

namespace {

const json::value kHello = json::parse(
    R"({"service":"pubsub","message":{"type":"message","channel":"announcements","message":"Hello World"}})");

std::string backendUrl(const ServerProcess& server) {
    return "http://127.0.0.1:" + std::to_string(server.backendPort()) + "/backend";
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

struct ConnectorTest : ::testing::Test {
    ServerProcess server{basicConfig(false)};
    HttpTransport http{backendUrl(server), kKey};
    Backend backend{http};

    std::unique_ptr<WsClient> subscriber(const json::value& channel) {
        auto ws = std::make_unique<WsClient>(server.frontendPort());
        EXPECT_EQ(ws->request("pubsub", "subscribe", {{"channel", channel}}).at("type"), "response");
        return ws;
    }

    TransportError transportError(Backend& b) {
        try {
            b.call("pubsub_backend", "publish", {{"channel", "x"}, {"message", 1}});
        } catch (const TransportError& e) {
            return e;
        } catch (const std::exception& e) {
            ADD_FAILURE() << "not a TransportError: " << e.what();
            return TransportError(TransportError::Kind::Io, "");
        }
        ADD_FAILURE() << "no exception";
        return TransportError(TransportError::Kind::Io, "");
    }
};

}  // namespace

TEST_F(ConnectorTest, PublishReachesASubscribedWebSocketClient) {
    auto browser = subscriber("announcements");
    EXPECT_EQ(backend.call("pubsub_backend", "publish", {{"channel", "announcements"}, {"message", "Hello World"}}),
              nullptr);
    EXPECT_EQ(browser->expect(), kHello);
}

TEST_F(ConnectorTest, ObjectChannelsAndStructuredMessages) {
    auto browser = subscriber(json::parse(R"({"room":7,"kind":"chat"})"));
    backend.call("pubsub_backend", "publish",
                 {{"channel", json::parse(R"({"kind":"chat","room":7})")}, {"message", json::parse(R"({"n":[1,2]})")}});
    EXPECT_EQ(browser->expectMessage().at("message"), json::parse(R"({"n":[1,2]})"));
}

TEST_F(ConnectorTest, RawSendReturnsTheReplyEnvelope) {
    json::value reply = backend.send(json::parse(
        R"({"service":"pubsub_backend","message":{"command":"publish","params":{"channel":1,"message":2},"callId":"c1"}})"));
    EXPECT_EQ(reply, json::parse(R"({"service":"pubsub_backend","message":{"type":"response","callId":"c1","data":null}})"));
}

TEST_F(ConnectorTest, ServiceErrorsCarryTheExactMessage) {
    try {
        backend.call("pubsub_backend", "nope");
        FAIL() << "no exception";
    } catch (const SnorkyError& e) {
        EXPECT_STREQ(e.what(), "Unknown command");
    }
    try {
        backend.call("pubsub_backend", "publish", {{"channel", "x"}});
        FAIL() << "no exception";
    } catch (const SnorkyError& e) {
        EXPECT_STREQ(e.what(), "Invalid params");
    }
    // A service error leaves the kept-alive connection in use.
    EXPECT_EQ(backend.call("pubsub_backend", "publish", {{"channel", "x"}, {"message", 1}}), nullptr);
    EXPECT_EQ(http.connectionsOpened(), 1u);
}

TEST_F(ConnectorTest, UnknownServiceIsATransportErrorWith404) {
    try {
        backend.call("no_such_service", "publish");
        FAIL() << "no exception";
    } catch (const TransportError& e) {
        EXPECT_EQ(e.kind(), TransportError::Kind::HttpStatus);
        EXPECT_EQ(e.status(), 404);
        EXPECT_TRUE(contains(e.body(), "Unknown service")) << e.body();
    }
}

TEST_F(ConnectorTest, WrongKeyIsATransportErrorWith401) {
    HttpTransport wrong(backendUrl(server), "not-the-key");
    Backend wrongBackend(wrong);
    TransportError error = transportError(wrongBackend);
    EXPECT_EQ(error.kind(), TransportError::Kind::HttpStatus);
    EXPECT_EQ(error.status(), 401);
    EXPECT_TRUE(contains(error.what(), "401")) << error.what();
    EXPECT_TRUE(contains(error.what(), "Invalid API key")) << error.what();
    EXPECT_FALSE(contains(error.what(), "not-the-key")) << error.what();
}

TEST_F(ConnectorTest, ServerDownIsATransportError) {
    backend.call("pubsub_backend", "publish", {{"channel", "x"}, {"message", 1}});
    server.terminate();
    TransportError error = transportError(backend);
    EXPECT_EQ(error.kind(), TransportError::Kind::Connect) << error.what();
    EXPECT_TRUE(contains(error.what(), "cannot connect to " + http.url().text)) << error.what();
    EXPECT_TRUE(contains(error.what(), "refused")) << error.what();
}

TEST_F(ConnectorTest, ManyCallsOverOneKeptAliveConnection) {
    auto browser = subscriber("counter");
    backend.call("pubsub_backend", "publish", {{"channel", "counter"}, {"message", 0}});
    const std::uint16_t port = http.localPort();
    ASSERT_NE(port, 0);
    for (int i = 1; i < 100; ++i) backend.call("pubsub_backend", "publish", {{"channel", "counter"}, {"message", i}});
    EXPECT_EQ(http.connectionsOpened(), 1u);
    EXPECT_EQ(http.localPort(), port);  // the same TCP connection throughout
    for (int i = 0; i < 100; ++i) ASSERT_EQ(browser->expectMessage().at("message"), i);
}

TEST_F(ConnectorTest, ServerRestartingBetweenCalls) {
    backend.call("pubsub_backend", "publish", {{"channel", "x"}, {"message", 1}});
    server.restart();
    auto browser = subscriber("x");
    EXPECT_EQ(backend.call("pubsub_backend", "publish", {{"channel", "x"}, {"message", 2}}), nullptr);
    EXPECT_EQ(browser->expectMessage().at("message"), 2);
    EXPECT_EQ(http.connectionsOpened(), 2u);
}

TEST(ConnectorIdleTest, ServerClosingTheIdleConnection) {
    std::string config = basicConfig(false);
    const std::string key = "key = \"swordfish\"";
    config.replace(config.find(key), key.size(), key + "\nkeepalive_timeout = 1");
    ServerProcess server(config);
    HttpTransport http(backendUrl(server), kKey);
    Backend backend(http);
    backend.call("pubsub_backend", "publish", {{"channel", "x"}, {"message", 1}});
    // Idle past keepalive_timeout: the server closes its end.
    ASSERT_TRUE(waitUntil([&] { return tcpPeerClosed(http.localPort()); }, std::chrono::milliseconds(10000)));
    EXPECT_EQ(backend.call("pubsub_backend", "publish", {{"channel", "x"}, {"message", 2}}), nullptr);
    EXPECT_EQ(http.connectionsOpened(), 2u);
}

TEST(ConnectorNonJsonTest, NonJsonReplyIsATransportError) {
    snorky::testing::FakeHttpServer fake([](const snorky::testing::FakeRequest&) {
        snorky::testing::FakeReply reply;
        reply.body = "<html>502 Bad Gateway</html>";
        reply.contentType = "text/html";
        return reply;
    });
    HttpTransport http(fake.url(), kKey);
    Backend backend(http);
    try {
        backend.call("pubsub_backend", "publish", {{"channel", "x"}, {"message", 1}});
        FAIL() << "no exception";
    } catch (const TransportError& e) {
        EXPECT_EQ(e.kind(), TransportError::Kind::BadReply);
        EXPECT_TRUE(contains(e.what(), "non-JSON reply")) << e.what();
        EXPECT_TRUE(contains(e.what(), "502 Bad Gateway")) << e.what();
    }
}

#ifdef SNORKY_PUBLISH_HELLO  // built unless SNORKY_BUILD_EXAMPLES is off
TEST_F(ConnectorTest, ExampleProgramPublishesHelloWorld) {
    auto browser = subscriber("announcements");
    ProgramResult run = runProgram(SNORKY_PUBLISH_HELLO, {},
                                   {{"SNORKY_BACKEND_URL", backendUrl(server)}, {"SNORKY_BACKEND_KEY", kKey}});
    EXPECT_EQ(run.exitCode, 0) << run.err;
    EXPECT_EQ(browser->expect(), kHello);
}
#endif
