// The WebSocket frontend over real sockets: RPC replies, bad input, frame
// rules, limits, slow consumers, origins, pings and static files.
#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "snorky/protocol/ws_codec.hpp"
#include "support/clients.hpp"
#include "support/probes.hpp"
#include "support/server_process.hpp"

using namespace snorky::it;

namespace {
const std::uint8_t kMask[4] = {1, 2, 3, 4};

std::string upgradeRequest(const std::string& target = "/ws") {
    return "GET " + target + " HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
}

void publish(const ServerProcess& server, json::value channel, json::value message) {
    backendCall(server.backendPort(), "pubsub_backend", "publish", {{"channel", channel}, {"message", message}});
}
}  // namespace

TEST(WebSocket, CallIdIsEchoedAndOmittedWhenAbsent) {
    ServerProcess server(basicConfig());
    WsClient client(server.frontendPort());
    EXPECT_EQ(client.request("pubsub", "subscribe", {{"channel", "a"}}, "id-1"),
              json::parse(R"({"type":"response","callId":"id-1","data":null})"));
    client.call("pubsub", "unsubscribe", {{"channel", "a"}}, nullptr);
    EXPECT_EQ(client.expectMessage(), json::parse(R"({"type":"response","data":null})"));
    client.call("pubsub", "unsubscribe", {{"channel", "a"}}, nullptr);
    EXPECT_EQ(client.expectMessage(), json::parse(R"({"type":"error","callId":null,"message":"Not subscribed"})"));
}

TEST(WebSocket, ClientPublishReachesEverySubscriberIncludingThePublisher) {
    ServerProcess server(basicConfig(true));
    WsClient alice(server.frontendPort()), bob(server.frontendPort()), carol(server.frontendPort());
    alice.request("pubsub", "subscribe", {{"channel", json::parse(R"({"room":1,"kind":"chat"})")}});
    bob.request("pubsub", "subscribe", {{"channel", json::parse(R"({"kind":"chat","room":1})")}});
    carol.request("pubsub", "subscribe", {{"channel", "elsewhere"}});
    EXPECT_EQ(alice.request("pubsub", "publish", {{"channel", json::parse(R"({"kind":"chat","room":1})")}, {"message", "hi"}}).at("type"),
              "response");
    auto expected = json::parse(R"({"type":"message","channel":{"kind":"chat","room":1},"message":"hi"})");
    EXPECT_EQ(bob.expectMessage(), expected);
    // Alice got her own message (it may precede or follow her reply; request() skipped it if before).
    EXPECT_TRUE(carol.silentFor());
}

TEST(WebSocket, BackendOnlyPolicyRefusesClientPublish) {
    ServerProcess server(basicConfig(false));
    WsClient client(server.frontendPort());
    client.request("pubsub", "subscribe", {{"channel", "announcements"}});
    EXPECT_EQ(client.request("pubsub", "publish", {{"channel", "announcements"}, {"message", "x"}}, 5),
              json::parse(R"({"type":"error","callId":5,"message":"Not authorized"})"));
    EXPECT_TRUE(client.silentFor());
    publish(server, "announcements", "from backend");
    EXPECT_EQ(client.expectMessage().at("message"), "from backend");
}

TEST(WebSocket, RpcErrorsForUnknownCommandsAndWrongParams) {
    ServerProcess server(basicConfig());
    WsClient client(server.frontendPort());
    EXPECT_EQ(client.request("pubsub", "dance", {}).at("message"), "Unknown command");
    EXPECT_EQ(client.request("pubsub", "subscribe", {}).at("message"), "Invalid params");
    EXPECT_EQ(client.request("pubsub", "subscribe", {{"channel", 1}, {"extra", 2}}).at("message"), "Invalid params");
    EXPECT_EQ(client.request("pubsub", "publish", {{"channel", 1}}).at("message"), "Invalid params");
    client.request("pubsub", "subscribe", {{"channel", 1}});
    EXPECT_EQ(client.request("pubsub", "subscribe", {{"channel", 1}}).at("message"), "Already subscribed");
}

TEST(WebSocket, MalformedInputIsDroppedAndTheConnectionKeepsWorking) {
    ServerProcess server(basicConfig());
    WsClient client(server.frontendPort());
    for (const char* text : {"{not json", "42", "null", "[1]", R"({"service":"pubsub"})", R"({"message":{}})",
                             R"({"service":"nope","message":{"command":"x","params":{}}})",
                             R"({"service":"pubsub","message":{"params":{}}})",
                             R"({"service":"pubsub","message":{"command":"subscribe"}})",
                             R"({"service":"pubsub","message":{"command":1,"params":{}}})",
                             R"({"service":"pubsub","message":{"command":"subscribe","params":[]}})",
                             R"({"service":"pubsub","message":"subscribe"})"}) {
        client.sendText(text);
    }
    EXPECT_TRUE(client.silentFor());
    EXPECT_EQ(client.request("pubsub", "subscribe", {{"channel", "still-here"}}).at("type"), "response");
    auto metrics = httpRequest(server.backendPort(), "GET", "/metrics", "").body;
    // (Text that is not UTF-8 is not dropped but closes the connection: input_validation_test.cpp.)
    EXPECT_NE(metrics.find("snorky_messages_dropped_total 12"), std::string::npos) << metrics;
}

TEST(WebSocket, FragmentedMessagesAreReassembled) {
    ServerProcess server(basicConfig());
    WsClient client(server.frontendPort());
    std::string text = R"({"service":"pubsub","message":{"command":"subscribe","params":{"channel":"f"},"callId":3}})";
    client.sendRaw(snorky::ws::clientFrame(snorky::ws::Text, text.substr(0, 10), kMask, false) +
                   snorky::ws::clientFrame(snorky::ws::Continuation, text.substr(10, 20), kMask, false) +
                   snorky::ws::clientFrame(snorky::ws::Ping, "p", kMask) +  // control frames may interleave
                   snorky::ws::clientFrame(snorky::ws::Continuation, text.substr(30), kMask, true));
    EXPECT_EQ(client.expectMessage(), json::parse(R"({"type":"response","callId":3,"data":null})"));
}

TEST(WebSocket, BinaryFramesCloseWith1003) {
    ServerProcess server(basicConfig());
    WsClient client(server.frontendPort()), other(server.frontendPort());
    client.sendBinary("\x01\x02");
    EXPECT_EQ(client.waitClosed(), 1003);
    EXPECT_EQ(other.request("pubsub", "subscribe", {{"channel", 1}}).at("type"), "response");
}

TEST(WebSocket, OversizedMessagesCloseWith1009) {
    ServerProcess server(basicConfig(true, "max_message_size = 1024\n"));
    WsClient client(server.frontendPort()), other(server.frontendPort());
    client.sendText(R"({"service":"pubsub","message":{"command":"publish","params":{"channel":1,"message":")" +
                    std::string(2000, 'x') + "\"}}}");
    EXPECT_EQ(client.waitClosed(), 1009);
    EXPECT_EQ(other.request("pubsub", "subscribe", {{"channel", 1}}).at("type"), "response");
}

TEST(WebSocket, ProtocolViolationsCloseWith1002) {
    ServerProcess server(basicConfig());
    std::string unmasked = "\x81\x02hi";
    std::string reply = rawExchange(server.frontendPort(), upgradeRequest() + unmasked);
    ASSERT_NE(reply.find("101 Switching Protocols"), std::string::npos);
    // The close frame: 0x88, length 2+, code 1002 (0x03 0xEA).
    EXPECT_NE(reply.find(std::string("\x88") ), std::string::npos);
    EXPECT_NE(reply.find(std::string("\x03\xea")), std::string::npos);
}

TEST(WebSocket, FramesSentRightAfterTheHandshakeAreProcessed) {
    ServerProcess server(basicConfig());
    std::string frame = snorky::ws::clientFrame(
        snorky::ws::Text, R"({"service":"pubsub","message":{"command":"subscribe","params":{"channel":1},"callId":9}})", kMask);
    std::string reply = rawExchange(server.frontendPort(), upgradeRequest() + frame, std::chrono::milliseconds(500));
    EXPECT_NE(reply.find(R"("callId":9)"), std::string::npos) << reply;
}

TEST(WebSocket, ClientsThatVanishMidMessageDoNotDisturbOthers) {
    ServerProcess server(basicConfig());
    WsClient survivor(server.frontendPort());
    survivor.request("pubsub", "subscribe", {{"channel", "c"}});
    {
        WsClient vanishing(server.frontendPort());
        vanishing.request("pubsub", "subscribe", {{"channel", "c"}});
        std::string frame = snorky::ws::clientFrame(snorky::ws::Text, std::string(500, 'x'), kMask);
        vanishing.sendRaw(frame.substr(0, 100));  // half a frame, then gone
    }
    // The server has seen it go: only the survivor is left.
    ASSERT_TRUE(waitUntil([&] { return metric(server.backendPort(), "connections_open") == 1; }));
    publish(server, "c", "after");
    EXPECT_EQ(survivor.expectMessage().at("message"), "after");
}

TEST(WebSocket, SlowConsumerIsCutOffWhileOthersKeepReceiving) {
    ServerProcess server(basicConfig(false, "max_queue_bytes = 262144\n"));
    WsClient slow(server.frontendPort()), healthy(server.frontendPort());
    slow.request("pubsub", "subscribe", {{"channel", "firehose"}});
    healthy.request("pubsub", "subscribe", {{"channel", "firehose"}});
    constexpr int kMessages = 1000;  // 20 MB: more than the kernel buffers can hide
    int received = 0;
    std::thread reader([&] {
        // Generous: on a loaded CI machine the publishing loop can stall for seconds.
        while (received < kMessages && healthy.receive(std::chrono::milliseconds(20000))) ++received;
    });
    std::string payload(20000, 'z');
    for (int i = 0; i < kMessages; ++i) publish(server, "firehose", json::string(payload));  // slow never reads
    reader.join();
    auto metrics = httpRequest(server.backendPort(), "GET", "/metrics", "").body;
    EXPECT_EQ(received, kMessages) << metrics << server.logs();
    EXPECT_NE(metrics.find("snorky_slow_consumers_total 1\n"), std::string::npos) << metrics;
    EXPECT_NE(server.logs().find("disconnecting slow consumer"), std::string::npos);
    EXPECT_EQ(slow.waitClosed(std::chrono::milliseconds(5000)), -1);  // cut without a close frame
}

TEST(WebSocket, OriginAllowList) {
    ServerProcess server(basicConfig(true, "allowed_origins = [\"https://app.example\"]\n"));
    EXPECT_EQ(upgradeStatus(server.frontendPort(), "/ws", {{"Origin", "https://evil.example"}}), 403);
    EXPECT_EQ(upgradeStatus(server.frontendPort(), "/ws", {{"Origin", "https://app.example"}}), 101);
    EXPECT_EQ(upgradeStatus(server.frontendPort(), "/ws"), 101);  // non-browser clients send no Origin
}

TEST(WebSocket, AnyOriginByDefaultAndWrongPaths) {
    ServerProcess server(basicConfig());
    EXPECT_EQ(upgradeStatus(server.frontendPort(), "/ws", {{"Origin", "https://anywhere.example"}}), 101);
    EXPECT_EQ(upgradeStatus(server.frontendPort(), "/elsewhere"), 404);
    EXPECT_EQ(httpRequest(server.frontendPort(), "GET", "/ws", "").status, 426);
    // Tokens need an identity verifier; without one they are refused, not ignored.
    EXPECT_EQ(upgradeStatus(server.frontendPort(), "/ws?token=abc"), 401);
}

TEST(WebSocket, UnansweredPingsDisconnectIdleClients) {
    ServerProcess server(basicConfig(true, "ping_interval = 1\nidle_timeout = 1\n"));
    auto start = std::chrono::steady_clock::now();
    // A raw client completes the handshake and then never answers anything.
    std::string received = rawExchange(server.frontendPort(), upgradeRequest(), std::chrono::milliseconds(6000));
    auto elapsed = std::chrono::steady_clock::now() - start;
    EXPECT_NE(received.find("\x89\x00", 0, 2), std::string::npos) << "no ping was sent";
    EXPECT_LT(elapsed, std::chrono::milliseconds(5500)) << "the idle client was not disconnected";
}

TEST(WebSocket, StaticFilesAreServedWithoutTraversal) {
    std::string index = writeTempFile("index.html", "<h1>hello</h1>");
    std::string root = index.substr(0, index.rfind('/'));
    std::string secret = writeTempFile("secret.txt", "secret");  // another folder's file
    ServerProcess server(basicConfig(true, "static_dir = \"" + root + "\"\n"));
    HttpResponse page = httpRequest(server.frontendPort(), "GET", "/", "");
    EXPECT_EQ(page.status, 200);
    EXPECT_EQ(page.body, "<h1>hello</h1>");
    EXPECT_EQ(page.headers["Content-Type"], "text/html; charset=utf-8");
    EXPECT_EQ(httpRequest(server.frontendPort(), "GET", "/index.html", "").status, 200);
    EXPECT_EQ(httpRequest(server.frontendPort(), "GET", "/missing.js", "").status, 404);
    std::filesystem::create_symlink(secret, root + "/link.txt");
    // The files an attacker wants: the process environment holds the backend key.
    std::vector<std::string> evil = {"//proc/self/environ", "//etc/passwd", "/%2fetc/passwd", "/%2Fetc/passwd",
                                     "/%5c..%5csecret.txt", "/%2f%2e%2e/secret.txt", "/%252e%252e/secret.txt",
                                     "/..%2fsecret.txt", "/%2e%2E%2fsecret.txt", "/link.txt", "/" + secret,
                                     "//" + secret.substr(1), "/%2f" + secret.substr(1), "/a/" + std::string(5000, 'a'),
                                     "/../secret.txt", "/%2e%2e/secret.txt", "/a/../../secret.txt", "/.hidden", "/%00"};
    for (const auto& path : evil) {
        std::string reply = rawExchange(server.frontendPort(), "GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n");
        EXPECT_EQ(reply.find("200 OK"), std::string::npos) << path;
        EXPECT_EQ(reply.find("secret"), std::string::npos) << path;
        EXPECT_EQ(reply.find("root:"), std::string::npos) << path;
        EXPECT_EQ(reply.find("SNORKY_BACKEND_KEY"), std::string::npos) << path;
    }
    EXPECT_EQ(upgradeStatus(server.frontendPort(), "/ws"), 101);  // the WebSocket still works beside the files
}

TEST(WebSocket, PingFloodWithoutReadingIsCutOffLikeASlowConsumer) {
    ServerProcess server(basicConfig(true, "max_queue_bytes = 65536\n"));
    WsClient bystander(server.frontendPort());
    bystander.request("pubsub", "subscribe", {{"channel", "c"}});
    {
        WsClient flooder(server.frontendPort());
        std::string ping = snorky::ws::clientFrame(snorky::ws::Ping, std::string(125, 'p'), kMask);
        std::string burst;
        for (int i = 0; i < 1000; ++i) burst += ping;
        try {
            // 130 MB of pings at most; the flooder never reads a pong.
            for (int i = 0; i < 1000; ++i) flooder.sendRaw(burst);
        } catch (const std::exception&) {
            // cut off: the write failed
        }
    }
    auto metrics = httpRequest(server.backendPort(), "GET", "/metrics", "").body;
    EXPECT_NE(metrics.find("snorky_slow_consumers_total 1\n"), std::string::npos) << metrics;
    publish(server, "c", "still served");
    EXPECT_EQ(bystander.expectMessage().at("message"), "still served");
}
