// admin_backend disconnect through the real binary: every connection of one
// identity is closed with 4001 and the reason, on every node (Redis), and
// nobody else is touched.
#include <gtest/gtest.h>

#include <memory>

#include "support/clients.hpp"
#include "support/identities.hpp"
#include "support/redis_process.hpp"
#include "support/server_process.hpp"

using namespace snorky::it;

namespace {
const std::string kServices = authServices() + R"(
[[service]]
name = "admin"
type = "admin"
registry = "frontend"

[[service]]
name = "admin_backend"
type = "admin_backend"
registry = "backend"
admin = "admin"
)";

struct Node {
    explicit Node(const std::string& engineUrl = "")
        : server(withEngine(basicConfig(true, "", kServices), engineUrl), identityEnv()) {}
    ServerProcess server;

    std::unique_ptr<WsClient> connectAs(json::value identity) {
        auto client = std::make_unique<WsClient>(server.frontendPort(), "/ws?token=" + mintToken(server.backendPort(), identity));
        // A round trip: the server has handed the connection to its services.
        EXPECT_EQ(client->request("auth", "whoami", {}).at("data"), identity);
        return client;
    }
    json::value kick(json::object params) {
        return backendCall(server.backendPort(), "admin_backend", "disconnect", std::move(params));
    }
};
}  // namespace

TEST(Admin, DisconnectClosesEveryConnectionOfOneIdentity) {
    Node node;
    auto phone = node.connectAs("alice"), laptop = node.connectAs("alice"), bob = node.connectAs("bob");
    EXPECT_EQ(node.kick({{"identity", "alice"}, {"reason", "Account suspended"}}).at("type"), "response");
    EXPECT_EQ(phone->waitClosed(), 4001);
    EXPECT_EQ(laptop->waitClosed(), 4001);
    EXPECT_EQ(bob->request("auth", "whoami", {}).at("data"), "bob");  // untouched
    EXPECT_EQ(node.kick({{"identity", "bob"}, {"reconnect", true}}).at("type"), "response");
    EXPECT_EQ(bob->waitClosed(), 4000);
    EXPECT_EQ(node.kick({{"identity", "alice"}, {"reason", std::string(200, 'x')}}).at("message"), "Invalid reason");
    // The server keeps serving: a new connection works.
    auto again = node.connectAs("carol");
    EXPECT_TRUE(again->isOpen());
}

TEST(Admin, DisconnectReachesEveryNode) {
    if (!RedisProcess::available()) GTEST_SKIP() << "redis-server is not installed";
    RedisProcess redis;
    std::vector<std::unique_ptr<Node>> nodes;
    for (int i = 0; i < 3; ++i) nodes.push_back(std::make_unique<Node>(redis.url()));
    ASSERT_TRUE(redis.waitSubscribers("snorky:admin-control:admin", 3));
    auto onOne = nodes[1]->connectAs("alice"), onTwo = nodes[2]->connectAs("alice"), bob = nodes[2]->connectAs("bob");
    EXPECT_EQ(nodes[0]->kick({{"identity", "alice"}}).at("type"), "response");
    EXPECT_EQ(onOne->waitClosed(), 4001);
    EXPECT_EQ(onTwo->waitClosed(), 4001);
    EXPECT_EQ(bob->request("auth", "whoami", {}).at("data"), "bob");
}
