// Scale-out through the real binary: three `snorky` nodes on one private
// redis-server (engine = "redis://..."). Publish on one node, receive on the
// others once each and in order; survive a Redis restart and a node killed
// with SIGKILL.
#include <gtest/gtest.h>

#include <memory>
#include <thread>

#include "support/clients.hpp"
#include "support/redis_process.hpp"
#include "support/server_process.hpp"

using namespace snorky::it;

namespace {

std::string clusterConfig(const std::string& engineUrl) {
    return withEngine(basicConfig(true), engineUrl);
}

// The Redis channel of a PubSub channel of service "pubsub" (canonical JSON).
std::string redisChannel(const std::string& canonicalChannel) { return "snorky:pubsub:pubsub:" + canonicalChannel; }

json::value health(const ServerProcess& node) {
    return json::parse(httpRequest(node.backendPort(), "GET", "/health", "").body);
}

bool waitHealth(const ServerProcess& node, const char* state, std::chrono::milliseconds timeout = 10s) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (health(node).at("redis") == state) return true;
        std::this_thread::sleep_for(20ms);
    }
    return false;
}

void backendPublish(const ServerProcess& node, json::value channel, json::value message) {
    auto reply = backendCall(node.backendPort(), "pubsub_backend", "publish", {{"channel", channel}, {"message", message}});
    ASSERT_EQ(reply.at("type"), "response") << reply;
}

// The "message" field of the next `count` PubSub notifications.
std::vector<json::value> receiveMessages(WsClient& client, std::size_t count) {
    std::vector<json::value> out;
    while (out.size() < count) {
        auto envelope = client.receive(5000ms);
        if (!envelope) break;
        auto& m = envelope->at("message");
        if (m.at("type") == "message") out.push_back(m.at("message"));
    }
    return out;
}

std::vector<json::value> range(int from, int to) {
    std::vector<json::value> out;
    for (int i = from; i < to; ++i) out.push_back(i);
    return out;
}

class ScaleOut : public ::testing::Test {
protected:
    void SetUp() override {
        if (!RedisProcess::available()) GTEST_SKIP() << "redis-server is not installed";
        redis = std::make_unique<RedisProcess>();
        for (int i = 0; i < 3; ++i) nodes.push_back(std::make_unique<ServerProcess>(clusterConfig(redis->url())));
    }
    // One subscribed client per node, on `channel`; waits until Redis knows all three.
    std::vector<std::unique_ptr<WsClient>> subscribeEverywhere(const std::string& channel) {
        std::vector<std::unique_ptr<WsClient>> clients;
        for (auto& node : nodes) {
            clients.push_back(std::make_unique<WsClient>(node->frontendPort()));
            EXPECT_EQ(clients.back()->request("pubsub", "subscribe", {{"channel", channel}}).at("type"), "response");
        }
        EXPECT_TRUE(redis->waitSubscribers(redisChannel("\"" + channel + "\""), static_cast<long long>(nodes.size())));
        return clients;
    }

    std::unique_ptr<RedisProcess> redis;
    std::vector<std::unique_ptr<ServerProcess>> nodes;
};

}  // namespace

TEST_F(ScaleOut, HealthShowsTheEngine) {
    EXPECT_EQ(health(*nodes[0]), json::parse(R"({"status":"ok","engine":"redis","redis":"connected"})"));
}

TEST_F(ScaleOut, BackendPublishOnOneNodeReachesEveryNodeOnceInOrder) {
    auto clients = subscribeEverywhere("news");
    for (int i = 0; i < 100; ++i) backendPublish(*nodes[0], "news", i);
    for (auto& client : clients) {
        EXPECT_EQ(receiveMessages(*client, 100), range(0, 100));
        EXPECT_TRUE(client->silentFor(300ms));  // no duplicates
    }
}

TEST_F(ScaleOut, ClientPublishOnOneNodeReachesEveryNode) {
    auto clients = subscribeEverywhere("chat");
    WsClient publisher(nodes[1]->frontendPort());
    for (int i = 0; i < 20; ++i)
        EXPECT_EQ(publisher.request("pubsub", "publish", {{"channel", "chat"}, {"message", i}}).at("type"), "response");
    for (auto& client : clients) {
        EXPECT_EQ(receiveMessages(*client, 20), range(0, 20));
        EXPECT_TRUE(client->silentFor(300ms));
    }
}

TEST_F(ScaleOut, PublishersOnSeveralNodesKeepTheirOwnOrder) {
    auto clients = subscribeEverywhere("mix");
    std::thread second([&] {
        for (int i = 1000; i < 1050; ++i) backendPublish(*nodes[2], "mix", i);
    });
    for (int i = 0; i < 50; ++i) backendPublish(*nodes[0], "mix", i);
    second.join();
    for (auto& client : clients) {
        auto got = receiveMessages(*client, 100);
        ASSERT_EQ(got.size(), 100u);
        std::vector<json::value> fromFirst, fromThird;
        for (auto& m : got) (m.as_int64() < 1000 ? fromFirst : fromThird).push_back(m);
        EXPECT_EQ(fromFirst, range(0, 50));
        EXPECT_EQ(fromThird, range(1000, 1050));
    }
}

// Calls through alternating nodes (a load balancer in front of the
// backends): every subscriber, on every node, gets them in call order.
TEST_F(ScaleOut, BackendPublishesThroughAlternatingNodesArriveInCallOrderEverywhere) {
    auto clients = subscribeEverywhere("turns");
    for (int i = 0; i < 90; ++i) backendPublish(*nodes[i % 3], "turns", i);
    for (auto& client : clients) EXPECT_EQ(receiveMessages(*client, 90), range(0, 90));
}

TEST_F(ScaleOut, RedisRestartMidStreamThenDeliveryResumes) {
    auto clients = subscribeEverywhere("stream");
    for (int i = 0; i < 10; ++i) backendPublish(*nodes[0], "stream", i);
    // Both other nodes have everything before Redis goes (else the last
    // messages may still be on their way: at most once).
    EXPECT_EQ(receiveMessages(*clients[1], 10), range(0, 10));
    EXPECT_EQ(receiveMessages(*clients[2], 10), range(0, 10));

    redis->kill9();
    for (auto& node : nodes) ASSERT_TRUE(waitHealth(*node, "down"));
    // Node 0 keeps serving its own clients; the others miss these (at most once).
    for (int i = 10; i < 20; ++i) backendPublish(*nodes[0], "stream", i);
    EXPECT_EQ(receiveMessages(*clients[0], 20), range(0, 20));
    EXPECT_TRUE(clients[1]->silentFor(300ms));

    redis->start();  // empty again: every node must SUBSCRIBE anew
    for (auto& node : nodes) ASSERT_TRUE(waitHealth(*node, "connected"));
    ASSERT_TRUE(redis->waitSubscribers(redisChannel("\"stream\""), 3));
    for (int i = 20; i < 30; ++i) backendPublish(*nodes[0], "stream", i);
    EXPECT_EQ(receiveMessages(*clients[1], 10), range(20, 30));
    EXPECT_EQ(receiveMessages(*clients[2], 10), range(20, 30));
    std::string metrics = httpRequest(nodes[0]->backendPort(), "GET", "/metrics", "").body;
    EXPECT_NE(metrics.find("snorky_engine_reconnects_total 1"), std::string::npos) << metrics;
    EXPECT_NE(metrics.find("snorky_engine_dropped_total 10"), std::string::npos) << metrics;
    EXPECT_NE(nodes[1]->logs().find("redis engine: connection to"), std::string::npos);
}

TEST_F(ScaleOut, KilledNodeLeavesTheOthersWorking) {
    auto clients = subscribeEverywhere("alive");
    nodes[2]->kill9();
    // Its Redis connections close with the process: only two subscribers remain.
    ASSERT_TRUE(redis->waitSubscribers(redisChannel("\"alive\""), 2));
    for (int i = 0; i < 10; ++i) backendPublish(*nodes[0], "alive", i);
    EXPECT_EQ(receiveMessages(*clients[0], 10), range(0, 10));
    EXPECT_EQ(receiveMessages(*clients[1], 10), range(0, 10));
    // A replacement node joins the cluster.
    nodes[2] = std::make_unique<ServerProcess>(clusterConfig(redis->url()));
    WsClient newcomer(nodes[2]->frontendPort());
    newcomer.request("pubsub", "subscribe", {{"channel", "alive"}});
    ASSERT_TRUE(redis->waitSubscribers(redisChannel("\"alive\""), 3));
    backendPublish(*nodes[1], "alive", 99);
    EXPECT_EQ(receiveMessages(newcomer, 1), range(99, 100));
}

TEST_F(ScaleOut, UnsubscribedNodesGetNothing) {
    WsClient only(nodes[1]->frontendPort());
    only.request("pubsub", "subscribe", {{"channel", "quiet"}});
    ASSERT_TRUE(redis->waitSubscribers(redisChannel("\"quiet\""), 1));
    only.request("pubsub", "unsubscribe", {{"channel", "quiet"}});
    ASSERT_TRUE(redis->waitSubscribers(redisChannel("\"quiet\""), 0));
    backendPublish(*nodes[0], "quiet", 1);
    EXPECT_TRUE(only.silentFor(300ms));
}

TEST(ScaleOutConfig, BadEngineUrlIsAConfigError) {
    std::string path = writeTempFile("bad.toml", clusterConfig("redis://127.0.0.1:notaport"));
    CommandResult result = runSnorky({"--config", path, "--check"});
    EXPECT_EQ(result.exitCode, 78);
    EXPECT_NE(result.output.find("bad.toml:2: [server]: engine: invalid port"), std::string::npos) << result.output;
    result = runSnorky({"--config", writeTempFile("good.toml", basicConfig()), "--check", "--engine", "mysql://x"});
    EXPECT_EQ(result.exitCode, 78);
    EXPECT_NE(result.output.find("--engine: engine must be \"memory\" or a redis:// URL"), std::string::npos) << result.output;
}

TEST(ScaleOutConfig, ANodeStartsWhileRedisIsDownAndServesLocally) {
    int port = freePort();
    ServerProcess node(clusterConfig("redis://127.0.0.1:" + std::to_string(port)));
    EXPECT_EQ(health(node).at("redis"), "down");
    WsClient client(node.frontendPort());
    client.request("pubsub", "subscribe", {{"channel", "local"}});
    backendPublish(node, "local", 1);
    EXPECT_EQ(receiveMessages(client, 1), range(1, 2));
    if (!RedisProcess::available()) return;
    RedisProcess redis(port);
    EXPECT_TRUE(waitHealth(node, "connected"));
    EXPECT_TRUE(redis.waitSubscribers(redisChannel("\"local\""), 1));
}
