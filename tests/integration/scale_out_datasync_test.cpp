// DataSync across three `snorky` nodes on one redis-server: authorize through
// the backend of node A, acquire on node B, deltas published through any node,
// the pre-acquisition buffer filled on every node and delivered once, in order,
// calls through different nodes in the order they were made.
#include <gtest/gtest.h>

#include <memory>
#include <thread>

#include "support/clients.hpp"
#include "support/redis_process.hpp"
#include "support/server_process.hpp"
#include "support/wait_until.hpp"

using namespace snorky::it;

namespace {

std::string datasyncConfig(const std::string& engineUrl) {
    std::string config = basicConfig(true, "", R"(
[[service]]
name = "datasync"
type = "datasync"
registry = "frontend"
acquire_timeout = 3

[[service.dealer]]
name = "tasks"
model = "task"
kind = "filter"

[[service]]
name = "datasync_backend"
type = "datasync_backend"
registry = "backend"
datasync = "datasync"
)");
    return withEngine(config, engineUrl);
}

std::string authorize(const ServerProcess& node, const char* filter) {
    auto reply = backendCall(node.backendPort(), "datasync_backend", "authorizeSubscription",
                             {{"items", json::array{json::object{{"dealer", "tasks"}, {"query", json::parse(filter)}}}}});
    EXPECT_EQ(reply.at("type"), "response") << reply;
    return std::string(reply.at("data").as_string());
}

void insert(const ServerProcess& node, int id, const char* color) {
    json::object delta{{"type", "insert"}, {"model", "task"}, {"data", {{"id", id}, {"color", color}}}};
    auto reply = backendCall(node.backendPort(), "datasync_backend", "publishDeltas", {{"deltas", json::array{delta}}});
    ASSERT_EQ(reply.at("type"), "response") << reply;
}

// Ids of the next `count` deltas.
std::vector<int> deltaIds(WsClient& client, std::size_t count) {
    std::vector<int> ids;
    while (ids.size() < count) {
        auto envelope = client.receive(3000ms);
        if (!envelope) break;
        auto& m = envelope->at("message");
        if (m.at("type") == "delta") ids.push_back(static_cast<int>(m.at("delta").at("data").at("id").as_int64()));
    }
    return ids;
}

const json::value kOk = json::parse(R"({"type":"response","callId":1,"data":null})");

class ScaleOutDataSync : public ::testing::Test {
protected:
    void SetUp() override {
        if (!RedisProcess::available()) GTEST_SKIP() << "redis-server is not installed";
        redis = std::make_unique<RedisProcess>();
        for (int i = 0; i < 3; ++i) nodes.push_back(std::make_unique<ServerProcess>(datasyncConfig(redis->url())));
        // Every node follows the model and the control topic before we start.
        EXPECT_TRUE(redis->waitSubscribers("snorky:datasync:datasync:task", 3));
        EXPECT_TRUE(redis->waitSubscribers("snorky:datasync-control:datasync", 3));
    }
    std::unique_ptr<RedisProcess> redis;
    std::vector<std::unique_ptr<ServerProcess>> nodes;
};

}  // namespace

TEST_F(ScaleOutDataSync, AuthorizeOnOneNodeAcquireOnAnotherWithTheBufferInOrder) {
    std::string token = authorize(*nodes[0], R"(["==", "color", "blue"])");
    // Changes after the authorization, through three different nodes, before the acquisition.
    insert(*nodes[0], 1, "blue");
    insert(*nodes[1], 2, "red");
    insert(*nodes[2], 3, "blue");
    insert(*nodes[1], 4, "blue");
    WsClient browser(nodes[1]->frontendPort());
    EXPECT_EQ(browser.request("datasync", "acquireSubscription", {{"token", token}}), kOk);
    // Buffered on node 1 (a copy of node 0's authorization), in publish order per publisher.
    auto buffered = deltaIds(browser, 3);
    std::sort(buffered.begin(), buffered.end());
    EXPECT_EQ(buffered, (std::vector<int>{1, 3, 4}));
    // Live after the acquisition, from any node.
    insert(*nodes[2], 5, "blue");
    insert(*nodes[0], 6, "green");
    insert(*nodes[0], 7, "blue");
    EXPECT_EQ(deltaIds(browser, 2), (std::vector<int>{5, 7}));
    EXPECT_TRUE(browser.silentFor(300ms));  // each delta once
}

// What a load balancer in front of the backends does: each call through the
// next node. A call made after another returned comes after it for every
// browser, whichever nodes published them and whichever the browser is on.
TEST_F(ScaleOutDataSync, DeltasThroughAlternatingNodesArriveInCallOrderEverywhere) {
    std::vector<std::unique_ptr<WsClient>> browsers;
    for (auto& node : nodes) {
        browsers.push_back(std::make_unique<WsClient>(node->frontendPort()));
        EXPECT_EQ(browsers.back()->request("datasync", "acquireSubscription", {{"token", authorize(*node, R"(["and"])")}}),
                  kOk);
    }
    std::vector<int> expected;
    for (int i = 0; i < 90; ++i) {
        insert(*nodes[i % 3], i, "any");
        expected.push_back(i);
    }
    for (auto& browser : browsers) EXPECT_EQ(deltaIds(*browser, 90), expected);
}

// A token can be acquired on any node as soon as the authorization returned,
// the browser's request racing the announcement to that node.
TEST_F(ScaleOutDataSync, AcquiredOnAnotherNodeRightAfterTheAuthorization) {
    for (int i = 0; i < 30; ++i) {
        WsClient browser(nodes[(i + 1) % 3]->frontendPort());
        std::string token = authorize(*nodes[i % 3], R"(["and"])");
        EXPECT_EQ(browser.request("datasync", "acquireSubscription", {{"token", token}}), kOk) << "round " << i;
    }
}

// A browser that closes its socket right after asking to acquire (the claim
// still on its way to Redis): nothing stays bound to the dead connection; the
// copies on the other nodes go too (dropped, or expired after acquire_timeout).
TEST_F(ScaleOutDataSync, ABrowserGoneWhileAcquiringLeavesNothingBehind) {
    for (int i = 0; i < 20; ++i) {
        std::string token = authorize(*nodes[0], R"(["and"])");
        auto browser = std::make_unique<WsClient>(nodes[1]->frontendPort());
        browser->call("datasync", "acquireSubscription", {{"token", token}});
        browser.reset();  // the TCP connection dies, no close frame
    }
    for (auto& node : nodes) {
        auto subscriptions = [&] {
            auto status = httpRequest(node->backendPort(), "GET", "/status.json", "", {{"X-Backend-Key", "swordfish"}});
            return json::parse(status.body).at("services").at("datasync").at("subscriptions");
        };
        EXPECT_TRUE(snorky::testing::waitUntil([&] { return subscriptions() == 0; }, 8000ms)) << subscriptions();
    }
}

TEST_F(ScaleOutDataSync, BufferedDeltasFromOnePublisherKeepTheirOrder) {
    std::string token = authorize(*nodes[0], R"(["==", "color", "blue"])");
    for (int i = 0; i < 20; ++i) insert(*nodes[2], i, "blue");
    WsClient browser(nodes[1]->frontendPort());
    EXPECT_EQ(browser.request("datasync", "acquireSubscription", {{"token", token}}), kOk);
    std::vector<int> expected;
    for (int i = 0; i < 20; ++i) expected.push_back(i);
    EXPECT_EQ(deltaIds(browser, 20), expected);
}

TEST_F(ScaleOutDataSync, ATokenIsAcquiredOnceInTheCluster) {
    std::string token = authorize(*nodes[0], R"(["and"])");
    WsClient first(nodes[1]->frontendPort()), second(nodes[2]->frontendPort()), third(nodes[0]->frontendPort());
    EXPECT_EQ(first.request("datasync", "acquireSubscription", {{"token", token}}), kOk);
    auto refused = json::parse(R"({"type":"error","callId":1,"message":"No such subscription"})");
    EXPECT_EQ(second.request("datasync", "acquireSubscription", {{"token", token}}), refused);
    EXPECT_EQ(third.request("datasync", "acquireSubscription", {{"token", token}}), refused);
    insert(*nodes[0], 1, "any");
    EXPECT_EQ(deltaIds(first, 1), std::vector<int>{1});
    EXPECT_TRUE(second.silentFor(200ms));
    EXPECT_TRUE(third.silentFor(100ms));
}

TEST_F(ScaleOutDataSync, UnacquiredSubscriptionsExpireOnEveryNode) {
    std::string token = authorize(*nodes[0], R"(["and"])");
    // acquire_timeout = 3: time passing is what is tested (acquiring would
    // consume the token, so there is nothing to poll); the expiry itself is
    // unit-tested on a manual clock.
    std::this_thread::sleep_for(3500ms);
    for (auto& node : nodes) {
        WsClient late(node->frontendPort());
        EXPECT_EQ(late.request("datasync", "acquireSubscription", {{"token", token}}),
                  json::parse(R"({"type":"error","callId":1,"message":"No such subscription"})"));
    }
}
