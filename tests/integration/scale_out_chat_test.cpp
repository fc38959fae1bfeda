// Chat and Cursors across three `snorky` nodes on one redis-server: members
// and cursors listed from every node, "joined"/"left" once per identity in the
// cluster (several devices on several nodes count once), messages and cursor
// changes to every node, and no ghost left behind by a node killed with SIGKILL.
#include <gtest/gtest.h>

#include <memory>
#include <thread>

#include "support/clients.hpp"
#include "support/identities.hpp"
#include "support/probes.hpp"
#include "support/redis_process.hpp"
#include "support/server_process.hpp"

using namespace snorky::it;

namespace {

std::string chatConfig(const std::string& engineUrl) {
    std::string config = basicConfig(true, "", authServices() + R"(
[[service]]
name = "chat"
type = "chat"
registry = "frontend"
presence_ttl = 3

[[service]]
name = "cursors"
type = "cursors"
registry = "frontend"
cursor_ttl = 3
)");
    return withEngine(config, engineUrl);
}

// The next notification of `type` (others are skipped), or null after the timeout.
json::value next(WsClient& client, const char* type, std::chrono::milliseconds timeout = 3000ms) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        auto envelope = client.receive(left);
        if (!envelope) break;
        auto& m = envelope->at("message");
        if (m.at("type") == type) return m;
    }
    return nullptr;
}

json::value presence(const char* who, const char* status) {
    return json::object{{"from", who}, {"status", status}};
}
json::value summary(const json::value& m) {
    if (m.is_null()) return nullptr;
    return json::object{{"from", m.at("from")}, {"status", m.at("status")}};
}

class ScaleOutChat : public ::testing::Test {
protected:
    void SetUp() override {
        if (!RedisProcess::available()) GTEST_SKIP() << "redis-server is not installed";
        redis = std::make_unique<RedisProcess>();
        for (int i = 0; i < 3; ++i)
            nodes.push_back(std::make_unique<ServerProcess>(chatConfig(redis->url()), identityEnv()));
    }
    std::unique_ptr<WsClient> connectAs(int node, const char* identity) {
        return std::make_unique<WsClient>(nodes[node]->frontendPort(),
                                          "/ws?token=" + mintToken(nodes[node]->backendPort(), identity));
    }
    json::value join(WsClient& client) {
        auto reply = client.request("chat", "join", {{"channel", "room"}});
        return reply.at("type") == "response" ? reply.at("data").at("members") : reply;
    }
    std::unique_ptr<RedisProcess> redis;
    std::vector<std::unique_ptr<ServerProcess>> nodes;
};

}  // namespace

TEST_F(ScaleOutChat, MembersAndPresenceAreClusterWide) {
    auto laptop = connectAs(0, "alice"), bob = connectAs(1, "bob"), phone = connectAs(2, "alice");
    EXPECT_EQ(join(*laptop), json::parse(R"(["alice"])"));
    EXPECT_EQ(join(*bob), json::parse(R"(["alice","bob"])"));
    EXPECT_EQ(summary(next(*laptop, "presence")), presence("bob", "joined"));
    // Alice's second device, on a third node: one member, no second "joined".
    EXPECT_EQ(join(*phone), json::parse(R"(["alice","bob"])"));
    json::value second = next(*bob, "presence", 500ms);
    EXPECT_TRUE(second.is_null()) << second;
    EXPECT_TRUE(laptop->silentFor(200ms));  // nor told about herself

    // Read receipts reach the reader's other devices, on other nodes too.
    laptop->request("chat", "read", {{"channel", "room"}});
    EXPECT_EQ(next(*phone, "read").at("channel"), "room");
    EXPECT_TRUE(next(*bob, "read", 300ms).is_null());
    EXPECT_TRUE(next(*laptop, "read", 100ms).is_null());

    // Messages reach every node once.
    bob->request("chat", "send", {{"channel", "room"}, {"body", "hi"}});
    EXPECT_EQ(next(*laptop, "message").at("body"), "hi");
    EXPECT_EQ(next(*phone, "message").at("body"), "hi");
    EXPECT_TRUE(laptop->silentFor(200ms));

    // "left" only when her last connection in the cluster goes.
    laptop->request("chat", "leave", {{"channel", "room"}});
    EXPECT_TRUE(next(*bob, "presence", 500ms).is_null());
    phone->close();
    EXPECT_EQ(summary(next(*bob, "presence")), presence("alice", "left"));
    EXPECT_TRUE(next(*bob, "presence", 300ms).is_null());
}

TEST_F(ScaleOutChat, AKilledNodeLeavesNoGhost) {
    auto alice = connectAs(1, "alice"), bob = connectAs(0, "bob");
    EXPECT_EQ(join(*alice), json::parse(R"(["alice"])"));
    EXPECT_EQ(join(*bob), json::parse(R"(["alice","bob"])"));
    nodes[1]->kill9();
    // presence_ttl = 3 s, swept every second: "left" within about 4 s.
    auto started = std::chrono::steady_clock::now();
    EXPECT_EQ(summary(next(*bob, "presence", 8000ms)), presence("alice", "left"));
    EXPECT_LE(std::chrono::steady_clock::now() - started, 5s);
    EXPECT_TRUE(next(*bob, "presence", 1500ms).is_null());  // once
    auto carol = connectAs(2, "carol");
    EXPECT_EQ(join(*carol), json::parse(R"(["bob","carol"])"));
}

TEST_F(ScaleOutChat, CursorsAreSharedAcrossNodes) {
    auto alice = connectAs(0, "alice"), bob = connectAs(1, "bob"), carol = connectAs(2, "carol");
    auto joinDoc = [](WsClient& c) { return c.request("cursors", "join", {{"document", "doc"}}).at("data").at("cursors"); };
    EXPECT_EQ(joinDoc(*alice), json::array());
    auto created = alice->request("cursors", "createCursor",
                                  {{"privateHandle", 1}, {"document", "doc"}, {"position", 10}, {"status", "typing"}});
    ASSERT_EQ(created.at("type"), "response") << created;
    auto handle = created.at("data").as_int64();
    // A join on another node lists it.
    json::value expected = json::object{{"publicHandle", handle}, {"document", "doc"}, {"position", 10},
                                        {"status", "typing"}, {"owner", "alice"}};
    EXPECT_EQ(joinDoc(*bob), json::array{expected});
    EXPECT_EQ(joinDoc(*carol), json::array{expected});

    alice->request("cursors", "updateCursor", {{"privateHandle", 1}, {"newData", {{"position", 11}}}});
    auto updated = next(*bob, "cursorUpdated");
    EXPECT_EQ(updated.at("cursor").at("position"), 11);
    EXPECT_EQ(next(*carol, "cursorUpdated").at("cursor").at("position"), 11);
    EXPECT_TRUE(alice->silentFor(200ms));  // not told of her own change

    auto bobs = bob->request("cursors", "createCursor",
                             {{"privateHandle", "b"}, {"document", "doc"}, {"position", 0}, {"status", nullptr}});
    EXPECT_NE(bobs.at("data").as_int64(), handle);
    EXPECT_EQ(next(*alice, "cursorAdded").at("cursor").at("owner"), "bob");

    alice->request("cursors", "leave", {{"document", "doc"}});
    EXPECT_EQ(next(*bob, "cursorRemoved").at("cursor"),
              (json::value{{"publicHandle", handle}, {"document", "doc"}}));
    EXPECT_EQ(next(*carol, "cursorRemoved").at("cursor").at("publicHandle"), handle);
}

TEST_F(ScaleOutChat, CursorsOfAKilledNodeAreRemoved) {
    auto alice = connectAs(1, "alice"), bob = connectAs(0, "bob");
    alice->request("cursors", "join", {{"document", "doc"}});
    auto handle = alice->request("cursors", "createCursor",
                                 {{"privateHandle", 1}, {"document", "doc"}, {"position", 1}, {"status", nullptr}})
                      .at("data")
                      .as_int64();
    EXPECT_EQ(bob->request("cursors", "join", {{"document", "doc"}}).at("data").at("cursors").as_array().size(), 1u);
    nodes[1]->kill9();
    auto removed = next(*bob, "cursorRemoved", 8000ms);
    ASSERT_FALSE(removed.is_null());
    EXPECT_EQ(removed.at("cursor").at("publicHandle"), handle);
    EXPECT_TRUE(next(*bob, "cursorRemoved", 1500ms).is_null());  // once
    auto carol = connectAs(2, "carol");
    EXPECT_EQ(carol->request("cursors", "join", {{"document", "doc"}}).at("data").at("cursors"), json::array());
}

TEST_F(ScaleOutChat, ARedisRestartMakesNoGhostsAndNoFalseLeaves) {
    auto alice = connectAs(1, "alice"), bob = connectAs(0, "bob");
    EXPECT_EQ(join(*alice), json::parse(R"(["alice"])"));
    EXPECT_EQ(join(*bob), json::parse(R"(["alice","bob"])"));
    alice->request("cursors", "join", {{"document", "doc"}});
    alice->request("cursors", "createCursor", {{"privateHandle", 1}, {"document", "doc"}, {"position", 1}, {"status", nullptr}});
    bob->request("cursors", "join", {{"document", "doc"}});
    redis->kill9();
    for (auto& node : nodes)  // every node noticed the outage
        ASSERT_TRUE(waitUntil([&] { return metric(node->backendPort(), "engine_up") == 0; }));
    redis->start();  // empty: every node sets its presence and cursors again
    // Several sweeps later (presence_ttl = cursor_ttl = 3 s), nobody was declared gone.
    auto unexpected = next(*bob, "presence", 5000ms);
    EXPECT_TRUE(unexpected.is_null()) << unexpected;
    auto carol = connectAs(2, "carol");
    EXPECT_EQ(join(*carol), json::parse(R"(["alice","bob","carol"])"));
    EXPECT_EQ(carol->request("cursors", "join", {{"document", "doc"}}).at("data").at("cursors").as_array().size(), 1u);
    EXPECT_TRUE(next(*bob, "cursorRemoved", 100ms).is_null());
}
