// admin_backend disconnect through the real binary: every connection of one
// identity is closed with 4001 and the reason, on every node (Redis), and
// nobody else is touched.
#include <gtest/gtest.h>

#include <memory>

#include "support/clients.hpp"
#include "support/redis_process.hpp"
#include "support/server_process.hpp"

using namespace snorky::it;

namespace {
const std::string kSecret = "it-secret-0123456789abcdef0123456789";

const std::string kServices = R"(
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
        : server(config(engineUrl), {{"SNORKY_IDENTITY_SECRET", kSecret}}) {}
    static std::string config(const std::string& engineUrl) {
        std::string text = basicConfig(true, "", kServices);
        if (!engineUrl.empty()) text.replace(text.find("[server]\n"), 9, "[server]\nengine = \"" + engineUrl + "\"\n");
        return text;
    }
    ServerProcess server;

    std::unique_ptr<WsClient> connectAs(json::value identity) {
        json::value reply = backendCall(server.backendPort(), "auth_backend", "mintToken", {{"identity", identity}});
        auto client =
            std::make_unique<WsClient>(server.frontendPort(), "/ws?token=" + std::string(reply.at("data").as_string()));
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
