// The HTTP backend over real sockets: every status code and body of
// protocol.md section 3, keep-alive, and the end-to-end publish scenario.
#include <gtest/gtest.h>

#include "support/clients.hpp"
#include "support/server_process.hpp"

using namespace snorky::it;

namespace {
const std::map<std::string, std::string> kAuth{{"X-Backend-Key", kKey}};
const std::string kPublish =
    R"({"service":"pubsub_backend","message":{"command":"publish","params":{"channel":"announcements","message":"Hello World"},"callId":7}})";

struct BackendTest : ::testing::Test {
    ServerProcess server{basicConfig(false, "", "")};
    int port() { return server.backendPort(); }
};
}  // namespace

TEST_F(BackendTest, PublishReachesSubscribedWebSocketClient) {
    WsClient browser(server.frontendPort());
    EXPECT_EQ(browser.request("pubsub", "subscribe", {{"channel", "announcements"}}),
              json::parse(R"({"type":"response","callId":1,"data":null})"));
    HttpResponse reply = httpPost(port(), "/backend", kPublish, kAuth);
    EXPECT_EQ(reply.status, 200);
    EXPECT_EQ(reply.headers["Content-Type"], "application/json");
    EXPECT_EQ(reply.json(), json::parse(R"({"service":"pubsub_backend","message":{"type":"response","callId":7,"data":null}})"));
    EXPECT_EQ(browser.expect(), json::parse(
        R"({"service":"pubsub","message":{"type":"message","channel":"announcements","message":"Hello World"}})"));
}

TEST_F(BackendTest, ReplyOmitsCallIdWhenTheRequestHadNone) {
    HttpResponse reply = httpPost(port(), "/backend",
        R"({"service":"pubsub_backend","message":{"command":"publish","params":{"channel":1,"message":2}}})", kAuth);
    EXPECT_EQ(reply.json().at("message"), json::parse(R"({"type":"response","data":null})"));
}

TEST_F(BackendTest, RpcErrorsComeBackWithStatus200) {
    HttpResponse unknown = httpPost(port(), "/backend",
        R"({"service":"pubsub_backend","message":{"command":"subscribe","params":{"channel":1}}})", kAuth);
    EXPECT_EQ(unknown.status, 200);
    EXPECT_EQ(unknown.json().at("message"), json::parse(R"({"type":"error","callId":null,"message":"Unknown command"})"));
    HttpResponse invalid = httpPost(port(), "/backend",
        R"({"service":"pubsub_backend","message":{"command":"publish","params":{"channel":1},"callId":"x"}})", kAuth);
    EXPECT_EQ(invalid.json().at("message"), json::parse(R"({"type":"error","callId":"x","message":"Invalid params"})"));
}

TEST_F(BackendTest, MissingAndWrongKeysAre401) {
    HttpResponse missing = httpPost(port(), "/backend", kPublish);
    EXPECT_EQ(missing.status, 401);
    EXPECT_EQ(missing.json(), json::parse(R"({"error":"Missing X-Backend-Key header"})"));
    HttpResponse wrong = httpPost(port(), "/backend", kPublish, {{"X-Backend-Key", "swordfisH"}});
    EXPECT_EQ(wrong.status, 401);
    EXPECT_EQ(wrong.json(), json::parse(R"({"error":"Invalid API key"})"));
    HttpResponse empty = httpPost(port(), "/backend", kPublish, {{"X-Backend-Key", ""}});
    EXPECT_EQ(empty.status, 401);
}

TEST_F(BackendTest, BadBodiesAre400And404) {
    HttpResponse notJson = httpPost(port(), "/backend", "{not json", kAuth);
    EXPECT_EQ(notJson.status, 400);
    EXPECT_EQ(notJson.json(), json::parse(R"({"error":"Invalid JSON"})"));
    for (const char* body : {"42", "[1]", R"({"message":{}})", R"({"service":"pubsub_backend"})", R"({"service":3,"message":{}})"}) {
        HttpResponse malformed = httpPost(port(), "/backend", body, kAuth);
        EXPECT_EQ(malformed.status, 400) << body;
        EXPECT_EQ(malformed.json(), json::parse(R"({"error":"Malformed envelope"})")) << body;
    }
    HttpResponse unknown = httpPost(port(), "/backend", R"({"service":"nope","message":{}})", kAuth);
    EXPECT_EQ(unknown.status, 404);
    EXPECT_EQ(unknown.json(), json::parse(R"({"error":"Unknown service"})"));
    HttpResponse noCommand = httpPost(port(), "/backend", R"({"service":"pubsub_backend","message":{"params":{}}})", kAuth);
    EXPECT_EQ(noCommand.status, 400);
    EXPECT_EQ(noCommand.json(), json::parse(R"({"error":"Malformed message"})"));
}

TEST_F(BackendTest, WrongMethodPathAndSize) {
    EXPECT_EQ(httpRequest(port(), "GET", "/backend", "", kAuth).status, 405);
    EXPECT_EQ(httpRequest(port(), "PUT", "/backend", kPublish, kAuth).json(), json::parse(R"({"error":"Method not allowed"})"));
    HttpResponse wrongPath = httpPost(port(), "/other", kPublish, kAuth);
    EXPECT_EQ(wrongPath.status, 404);
    EXPECT_EQ(wrongPath.json(), json::parse(R"({"error":"Not found"})"));
    std::string huge = R"({"service":"pubsub_backend","message":{"command":"publish","params":{"channel":1,"message":")" +
                       std::string(2 * 1024 * 1024, 'x') + "\"}}}";
    HttpResponse tooBig = httpPost(port(), "/backend", huge, kAuth);
    EXPECT_EQ(tooBig.status, 413);
    EXPECT_EQ(tooBig.json(), json::parse(R"({"error":"Body too large"})"));
    // The server is fine afterwards.
    EXPECT_EQ(httpPost(port(), "/backend", kPublish, kAuth).status, 200);
}

TEST_F(BackendTest, KeepAliveServesManyRequestsOnOneConnection) {
    std::string request = "POST /backend HTTP/1.1\r\nHost: x\r\nX-Backend-Key: swordfish\r\nContent-Type: application/json\r\n"
                          "Content-Length: " + std::to_string(kPublish.size()) + "\r\n\r\n" + kPublish;
    std::string three = request + request + request.substr(0, request.find("\r\n\r\n")) + "\r\nConnection: close\r\n\r\n" + kPublish;
    std::string replies = rawExchange(port(), three);
    std::size_t count = 0;
    for (std::size_t at = replies.find("HTTP/1.1 200 OK"); at != std::string::npos; at = replies.find("HTTP/1.1 200 OK", at + 1)) ++count;
    EXPECT_EQ(count, 3u) << replies;
}

TEST_F(BackendTest, HealthAndMetrics) {
    HttpResponse health = httpRequest(port(), "GET", "/health", "");
    EXPECT_EQ(health.status, 200);
    EXPECT_EQ(health.json(), json::parse(R"({"status":"ok"})"));
    httpPost(port(), "/backend", kPublish, kAuth);
    HttpResponse metrics = httpRequest(port(), "GET", "/metrics", "");
    EXPECT_EQ(metrics.status, 200);
    EXPECT_NE(metrics.body.find("snorky_backend_requests_total"), std::string::npos);
    // A backend request is not a connected client.
    EXPECT_NE(metrics.body.find("snorky_connections_opened_total 0"), std::string::npos) << metrics.body;
}

TEST_F(BackendTest, TheKeyNeverAppearsInTheLog) {
    httpPost(port(), "/backend", kPublish, {{"X-Backend-Key", "wrong-key-123"}});
    httpPost(port(), "/backend", kPublish, kAuth);
    server.terminate();
    EXPECT_EQ(server.logs().find(kKey), std::string::npos);
    EXPECT_EQ(server.logs().find("wrong-key-123"), std::string::npos);
}
