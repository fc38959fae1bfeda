// Messaging across three `snorky` nodes on one redis-server: names unique in
// the cluster, direct messages to a name owned on any node, listParticipants
// over every node, names of a killed node expiring, names restored after a
// Redis restart.
#include <gtest/gtest.h>

#include <memory>
#include <thread>

#include "support/clients.hpp"
#include "support/redis_process.hpp"
#include "support/server_process.hpp"

using namespace snorky::it;

namespace {

std::string messagingConfig(const std::string& engineUrl) {
    std::string config = basicConfig(true, "", R"(
[[service]]
name = "messaging"
type = "messaging"
registry = "frontend"
name_ttl = 3
)");
    return withEngine(config, engineUrl);
}

json::value call(WsClient& client, const std::string& command, json::object params) {
    return client.request("messaging", command, std::move(params));
}

// Retries a call until its reply matches (cluster state settles asynchronously).
bool eventually(const std::function<bool()>& check, std::chrono::milliseconds timeout = 10s) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (check()) return true;
        std::this_thread::sleep_for(50ms);
    }
    return false;
}

const json::value kOk = json::parse(R"({"type":"response","callId":1,"data":null})");
json::value error(const char* text) { return json::object{{"type", "error"}, {"callId", 1}, {"message", text}}; }

class ScaleOutMessaging : public ::testing::Test {
protected:
    void SetUp() override {
        if (!RedisProcess::available()) GTEST_SKIP() << "redis-server is not installed";
        redis = std::make_unique<RedisProcess>();
        for (int i = 0; i < 3; ++i) nodes.push_back(std::make_unique<ServerProcess>(messagingConfig(redis->url())));
        for (auto& node : nodes) clients.push_back(std::make_unique<WsClient>(node->frontendPort()));
    }
    std::unique_ptr<RedisProcess> redis;
    std::vector<std::unique_ptr<ServerProcess>> nodes;
    std::vector<std::unique_ptr<WsClient>> clients;
};

}  // namespace

TEST_F(ScaleOutMessaging, ANameIsUniqueInTheCluster) {
    EXPECT_EQ(call(*clients[0], "registerParticipant", {{"name", "alice"}}), kOk);
    EXPECT_EQ(call(*clients[1], "registerParticipant", {{"name", "alice"}}), error("Name already registered"));
    EXPECT_EQ(call(*clients[2], "registerParticipant", {{"name", "alice"}}), error("Name already registered"));
    EXPECT_EQ(call(*clients[0], "registerParticipant", {{"name", "alice"}}), error("Name already registered"));
}

TEST_F(ScaleOutMessaging, MessagesReachTheDestinationOnAnyNode) {
    ASSERT_EQ(call(*clients[0], "registerParticipant", {{"name", "alice"}}), kOk);
    ASSERT_EQ(call(*clients[1], "registerParticipant", {{"name", "bob"}}), kOk);
    EXPECT_EQ(call(*clients[0], "send", {{"sender", "alice"}, {"dest", "bob"}, {"body", {{"hi", 1}}}}), kOk);
    EXPECT_EQ(clients[1]->expectMessage(),
              json::parse(R"({"type":"message","sender":"alice","dest":"bob","body":{"hi":1}})"));
    EXPECT_EQ(call(*clients[1], "send", {{"sender", "bob"}, {"dest", "alice"}, {"body", "back"}}), kOk);
    EXPECT_EQ(clients[0]->expectMessage().at("body"), "back");
    EXPECT_TRUE(clients[1]->silentFor(300ms));  // once
    EXPECT_TRUE(clients[2]->silentFor(100ms));
    EXPECT_EQ(call(*clients[0], "send", {{"sender", "alice"}, {"dest", "nobody"}, {"body", 1}}), error("Unknown destination"));
    EXPECT_EQ(call(*clients[2], "send", {{"sender", "alice"}, {"dest", "bob"}, {"body", 1}}), error("Invalid sender"));
}

TEST_F(ScaleOutMessaging, ListParticipantsShowsEveryNodesNames) {
    ASSERT_EQ(call(*clients[0], "registerParticipant", {{"name", "carol"}}), kOk);
    ASSERT_EQ(call(*clients[1], "registerParticipant", {{"name", "alice"}}), kOk);
    ASSERT_EQ(call(*clients[2], "registerParticipant", {{"name", "bob"}}), kOk);
    for (auto& client : clients)
        EXPECT_EQ(call(*client, "listParticipants", {}).at("data"), json::parse(R"(["alice","bob","carol"])"));
}

TEST_F(ScaleOutMessaging, DisconnectFreesTheNameEverywhere) {
    ASSERT_EQ(call(*clients[0], "registerParticipant", {{"name", "dave"}}), kOk);
    clients[0]->close();
    EXPECT_TRUE(eventually([&] { return call(*clients[1], "registerParticipant", {{"name", "dave"}}) == kOk; }));
}

TEST_F(ScaleOutMessaging, NamesOfAKilledNodeExpire) {
    ASSERT_EQ(call(*clients[1], "registerParticipant", {{"name", "bob"}}), kOk);
    ASSERT_EQ(call(*clients[0], "registerParticipant", {{"name", "alice"}}), kOk);
    nodes[1]->kill9();
    auto started = std::chrono::steady_clock::now();
    // Until name_ttl (3 s) passes the name still looks taken; then it is free.
    EXPECT_TRUE(eventually([&] {
        return call(*clients[0], "send", {{"sender", "alice"}, {"dest", "bob"}, {"body", 1}}) == error("Unknown destination");
    }));
    EXPECT_LE(std::chrono::steady_clock::now() - started, 4s);
    EXPECT_EQ(call(*clients[2], "registerParticipant", {{"name", "bob"}}), kOk);
    EXPECT_EQ(call(*clients[0], "listParticipants", {}).at("data"), json::parse(R"(["alice","bob"])"));
}

TEST_F(ScaleOutMessaging, NamesComeBackAfterARedisRestart) {
    ASSERT_EQ(call(*clients[0], "registerParticipant", {{"name", "alice"}}), kOk);
    ASSERT_EQ(call(*clients[1], "registerParticipant", {{"name", "bob"}}), kOk);
    WsClient amy(nodes[0]->frontendPort());  // on alice's node
    ASSERT_EQ(call(amy, "registerParticipant", {{"name", "amy"}}), kOk);
    redis->kill9();
    EXPECT_TRUE(eventually([&] {
        return call(*clients[2], "listParticipants", {}) == error("Cluster unavailable");
    }));
    EXPECT_EQ(call(*clients[2], "registerParticipant", {{"name", "x"}}), error("Cluster unavailable"));
    // Local delivery needs no cluster state.
    ASSERT_EQ(call(*clients[0], "send", {{"sender", "alice"}, {"dest", "amy"}, {"body", 1}}), kOk);
    EXPECT_EQ(amy.expectMessage().at("body"), 1);
    redis->start();  // empty: the owners set their names again (every name_ttl / 3)
    EXPECT_TRUE(eventually([&] {
        auto reply = call(*clients[2], "listParticipants", {});
        return reply.as_object().contains("data") && reply.at("data") == json::parse(R"(["alice","amy","bob"])");
    }));
    EXPECT_EQ(call(*clients[0], "send", {{"sender", "alice"}, {"dest", "bob"}, {"body", 2}}), kOk);
    EXPECT_EQ(clients[1]->expectMessage().at("body"), 2);
}
