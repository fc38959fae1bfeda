// Private PubSub channels through the real binary: a namespace table in the
// config file, identities from connect-time tokens, subscription tokens from
// the backend, the server API (kick, channels, presence), and, with Redis,
// tokens and kicks across three nodes.
#include <gtest/gtest.h>

#include <memory>

#include "support/clients.hpp"
#include "support/identities.hpp"
#include "support/redis_process.hpp"
#include "support/server_process.hpp"

using namespace snorky::it;

namespace {
// After basicConfig's public "pubsub": auth, and a "private" PubSub whose
// namespace table covers every refusal path.
const std::string kServices = authServices() + R"(
[[service]]
name = "private"
type = "pubsub"
registry = "frontend"
client_publish = false

[[service.namespace]]
prefix = "user:"
subscribe = "owner"
owner_field = "id"

[[service.namespace]]
prefix = "doc:"
subscribe = "token"
publish = "subscribers"

[[service.namespace]]
prefix = "members:"
subscribe = "authenticated"

[[service]]
name = "private_backend"
type = "pubsub_backend"
registry = "backend"
pubsub = "private"
)";

struct Node {
    explicit Node(const std::string& engineUrl = "")
        : server(withEngine(basicConfig(true, "", kServices), engineUrl), identityEnv()) {}
    ServerProcess server;

    json::value backend(const std::string& command, json::object params,
                        const std::string& service = "private_backend") {
        return backendCall(server.backendPort(), service, command, std::move(params));
    }
    std::string token(json::object params) {
        json::value reply = backend("authorizeSubscription", std::move(params));
        if (reply.at("type") != "response") throw std::runtime_error(json::serialize(reply));
        return std::string(reply.at("data").as_string());
    }
    std::unique_ptr<WsClient> connectAs(json::value identity) {
        return std::make_unique<WsClient>(server.frontendPort(),
                                          "/ws?token=" + mintToken(server.backendPort(), std::move(identity)));
    }
    std::unique_ptr<WsClient> anonymous() { return std::make_unique<WsClient>(server.frontendPort()); }
};

json::value subscribe(WsClient& c, const char* channel, const std::string& token = "") {
    json::object params{{"channel", channel}};
    if (!token.empty()) params["token"] = token;
    json::value reply = c.request("private", "subscribe", std::move(params));
    return reply.at("type") == "error" ? reply.at("message") : reply.at("data");
}

const json::value kAlice = json::parse(R"({"id":"alice"})");
const json::value kBob = json::parse(R"({"id":"bob"})");
}  // namespace

TEST(PrivatePubSub, PerUserDeliveryReachesOnlyThatUser) {
    Node node;
    auto alice = node.connectAs(kAlice), bob = node.connectAs(kBob), nobody = node.anonymous();
    EXPECT_EQ(subscribe(*alice, "user:alice"), nullptr);
    EXPECT_EQ(subscribe(*bob, "user:alice"), "Not authorized");
    EXPECT_EQ(subscribe(*nobody, "user:alice"), "Not authenticated");
    EXPECT_EQ(subscribe(*bob, "user:bob"), nullptr);
    EXPECT_EQ(node.backend("publish", {{"channel", "user:alice"}, {"message", "for alice"}}).at("type"), "response");
    EXPECT_EQ(alice->expectMessage(),
              json::parse(R"({"type":"message","channel":"user:alice","message":"for alice"})"));
    EXPECT_TRUE(bob->silentFor());
    EXPECT_TRUE(nobody->silentFor());
    // client_publish = false: clients never publish to someone's channel.
    EXPECT_EQ(bob->request("private", "publish", {{"channel", "user:alice"}, {"message", 1}}).at("message"),
              "Not authorized");
}

TEST(PrivatePubSub, EveryRefusalPathAndTheServerKeepsServing) {
    Node node;
    auto alice = node.connectAs(kAlice), bob = node.connectAs(kBob), nobody = node.anonymous();
    EXPECT_EQ(subscribe(*nobody, "members:lounge"), "Not authenticated");
    EXPECT_EQ(subscribe(*alice, "nowhere:1"), "Unknown namespace");
    EXPECT_EQ(subscribe(*alice, "doc:1"), "Not authorized");
    EXPECT_EQ(subscribe(*alice, "doc:1", node.token({{"channels", json::array{"doc:2"}}})), "Not authorized");
    EXPECT_EQ(subscribe(*alice, "doc:1", node.token({{"channels", json::array{"doc:1"}}, {"identity", kBob}})),
              "Not authorized");
    EXPECT_EQ(subscribe(*alice, "doc:1",
                        signClaims(R"({"scope":"pubsub","service":"private","channels":["doc:1"],"exp":1000000000})")),
              "Token expired");
    EXPECT_EQ(subscribe(*alice, "doc:1",
                        signClaims(R"({"scope":"pubsub","service":"private","channels":["doc:1"],"exp":4000000000})",
                              "forged-secret-0123456789abcdef0123456789")),
              "Invalid token");
    EXPECT_EQ(subscribe(*alice, "doc:1", "garbage"), "Invalid token");
    // After all of that, the same connections still work.
    EXPECT_EQ(subscribe(*alice, "doc:1", node.token({{"channels", json::array{"doc:1"}}, {"identity", kAlice}})),
              nullptr);
    EXPECT_EQ(subscribe(*bob, "members:lounge"), nullptr);
    EXPECT_EQ(nobody->request("pubsub", "subscribe", {{"channel", "anything"}}).at("type"), "response");
    // publish = "subscribers": bob may not until he holds the channel too.
    EXPECT_EQ(bob->request("private", "publish", {{"channel", "doc:1"}, {"message", 1}}).at("message"),
              "Not authorized");
    EXPECT_EQ(subscribe(*bob, "doc:1", node.token({{"channels", json::array{"doc:1"}}})), nullptr);
    EXPECT_EQ(alice->request("private", "publish", {{"channel", "doc:1"}, {"message", 2}}).at("type"), "response");
    EXPECT_EQ(bob->expectMessage().at("message"), 2);
}

TEST(PrivatePubSub, ServerApiKicksListsAndShowsPresence) {
    Node node;
    auto alice = node.connectAs(kAlice), bob = node.connectAs(kBob);
    std::string token = node.token({{"channels", json::array{"doc:7"}}});
    EXPECT_EQ(subscribe(*alice, "doc:7", token), nullptr);
    EXPECT_EQ(subscribe(*bob, "doc:7", token), nullptr);
    EXPECT_EQ(node.backend("channels", {{"prefix", "doc:"}}).at("data"),
              json::parse(R"([{"channel":"doc:7","subscribers":2}])"));
    EXPECT_EQ(node.backend("presence", {{"channel", "doc:7"}}).at("data"),
              json::parse(R"([{"id":"alice"},{"id":"bob"}])"));

    EXPECT_EQ(node.backend("unsubscribe", {{"channel", "doc:7"}, {"identity", kBob}, {"reason", "revoked"}}).at("type"),
              "response");
    EXPECT_EQ(bob->expectMessage(), json::parse(R"({"type":"unsubscribed","channel":"doc:7","reason":"revoked"})"));
    node.backend("publish", {{"channel", "doc:7"}, {"message", "after"}});
    EXPECT_EQ(alice->expectMessage().at("message"), "after");
    EXPECT_TRUE(bob->silentFor());
    EXPECT_EQ(node.backend("presence", {{"channel", "doc:7"}}).at("data"), json::parse(R"([{"id":"alice"}])"));
}

TEST(PrivatePubSub, NamespaceMistakesFailCheckWithFileAndLine) {
    std::string config = basicConfig(true, "", kServices);
    config.replace(config.find("subscribe = \"token\""), 19, "subscribe = \"tokens\"");
    std::string path = writeTempFile("namespaces.toml", config);
    CommandResult check = runSnorky({"--config", path, "--check"}, identityEnv());
    EXPECT_EQ(check.exitCode, 78) << check.output;
    int line = 1;
    for (std::size_t i = 0; i < config.find("prefix = \"doc:\""); ++i) line += config[i] == '\n';
    // The [[service.namespace]] header is the line above its prefix.
    EXPECT_NE(check.output.find("namespaces.toml:" + std::to_string(line - 1) +
                                ": service 'private': namespace #2: subscribe must be"),
              std::string::npos)
        << check.output;
}

TEST(PrivatePubSub, TokensAndKicksWorkAcrossThreeNodes) {
    if (!RedisProcess::available()) GTEST_SKIP() << "redis-server is not installed";
    RedisProcess redis;
    std::vector<std::unique_ptr<Node>> nodes;
    for (int i = 0; i < 3; ++i) nodes.push_back(std::make_unique<Node>(redis.url()));
    ASSERT_TRUE(redis.waitSubscribers("snorky:pubsub-control:private", 3));
    // Minted on node 0, accepted on the others: all nodes share the secret.
    std::string token = nodes[0]->token({{"channels", json::array{"doc:x"}}});
    std::vector<std::unique_ptr<WsClient>> clients;
    for (int i = 1; i < 3; ++i) {
        clients.push_back(nodes[i]->connectAs(kBob));
        EXPECT_EQ(subscribe(*clients.back(), "doc:x", token), nullptr);
    }
    ASSERT_TRUE(redis.waitSubscribers("snorky:pubsub:private:\"doc:x\"", 2));
    EXPECT_EQ(nodes[0]->backend("unsubscribe", {{"channel", "doc:x"}, {"identity", kBob}}).at("type"), "response");
    for (auto& client : clients)
        EXPECT_EQ(client->expectMessage(),
                  json::parse(R"({"type":"unsubscribed","channel":"doc:x","reason":"unsubscribed by the server"})"));
    EXPECT_TRUE(redis.waitSubscribers("snorky:pubsub:private:\"doc:x\"", 0));
}

TEST(PrivatePubSub, ChannelsAndPresenceAddUpAcrossThreeNodes) {
    if (!RedisProcess::available()) GTEST_SKIP() << "redis-server is not installed";
    RedisProcess redis;
    std::vector<std::unique_ptr<Node>> nodes;
    for (int i = 0; i < 3; ++i) nodes.push_back(std::make_unique<Node>(redis.url()));
    ASSERT_TRUE(redis.waitSubscribers("snorky:cluster-query:private", 3));
    // Alice twice (nodes 0 and 1, one identity), Bob on node 2, who also is in members:x.
    std::string token = nodes[0]->token({{"channels", json::array{"doc:1"}}});
    std::vector<std::unique_ptr<WsClient>> clients;
    clients.push_back(nodes[0]->connectAs(kAlice));
    clients.push_back(nodes[1]->connectAs(kAlice));
    clients.push_back(nodes[2]->connectAs(kBob));
    for (auto& client : clients) EXPECT_EQ(subscribe(*client, "doc:1", token), nullptr);
    EXPECT_EQ(subscribe(*clients[2], "members:x"), nullptr);

    // Whichever node is asked, the answer covers all three.
    for (auto& node : nodes) {
        EXPECT_EQ(node->backend("channels", {}).at("data"),
                  json::parse(R"([{"channel":"doc:1","subscribers":3},{"channel":"members:x","subscribers":1}])"));
        EXPECT_EQ(node->backend("channels", {{"prefix", "mem"}}).at("data"),
                  json::parse(R"([{"channel":"members:x","subscribers":1}])"));
        EXPECT_EQ(node->backend("presence", {{"channel", "doc:1"}}).at("data"),
                  json::parse(R"([{"id":"alice"},{"id":"bob"}])"));
        EXPECT_EQ(node->backend("presence", {{"channel", "doc:2"}}).at("data"), json::array{});
    }

    // A node killed without a goodbye is still listed for a while: the
    // others answer without it once the wait for it is over.
    nodes[2]->server.kill9();
    EXPECT_EQ(nodes[0]->backend("channels", {}).at("data"),
              json::parse(R"([{"channel":"doc:1","subscribers":2}])"));
    EXPECT_EQ(nodes[1]->backend("presence", {{"channel", "doc:1"}}).at("data"), json::parse(R"([{"id":"alice"}])"));

    // Without the engine nobody can say who is where: a clear error, not a guess.
    redis.stop();
    json::value reply = nodes[0]->backend("channels", {});
    EXPECT_EQ(reply.at("type"), "error");
    EXPECT_EQ(reply.at("message"), "Cluster unavailable");
}
