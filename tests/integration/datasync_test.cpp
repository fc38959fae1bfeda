// DataSync over the real server: the backend authorizes and publishes over
// HTTP, browsers acquire and receive deltas over WebSocket.
#include <gtest/gtest.h>

#include <regex>
#include <thread>

#include "support/clients.hpp"
#include "support/probes.hpp"
#include "support/server_process.hpp"

using namespace snorky::it;

namespace {

std::string datasyncConfig(const std::string& options = "") {
    return basicConfig(true, "", R"(
[[service]]
name = "datasync"
type = "datasync"
registry = "frontend"
)" + options + R"(

[[service.dealer]]
name = "tasks"
model = "task"
kind = "filter"

[[service.dealer]]
name = "byOwner"
model = "task"
kind = "simple"
key = "owner.name"

[[service]]
name = "datasync_backend"
type = "datasync_backend"
registry = "backend"
datasync = "datasync"
)");
}

json::value j(const char* text) { return json::parse(text); }
json::value delta(const char* d) { return json::object{{"type", "delta"}, {"delta", j(d)}}; }
const char* kTeam7Open = R"([{"dealer": "tasks", "query": ["and", ["==", "team", 7], ["==", "done", false]]}])";

struct DataSyncIt : ::testing::Test {
    std::unique_ptr<ServerProcess> server;
    void start(const std::string& options = "") { server = std::make_unique<ServerProcess>(datasyncConfig(options)); }
    void SetUp() override { start(); }

    json::value backend(const char* command, json::object params) {
        return backendCall(server->backendPort(), "datasync_backend", command, std::move(params));
    }
    std::string authorize(const char* items) {
        json::value reply = backend("authorizeSubscription", {{"items", j(items)}});
        EXPECT_EQ(reply.at("type"), "response") << json::serialize(reply);
        return std::string(reply.at("data").as_string());
    }
    json::value publish(const char* deltas) { return backend("publishDeltas", {{"deltas", j(deltas)}}); }
};

}  // namespace

TEST_F(DataSyncIt, DeltasBeforeAndAfterAcquisition) {
    std::string token = authorize(kTeam7Open);
    EXPECT_TRUE(std::regex_match(token, std::regex("[a-z0-9]{32}"))) << token;
    EXPECT_EQ(publish(R"([{"type": "insert", "model": "task", "data": {"id": 1, "team": 7, "done": false}},
                         {"type": "insert", "model": "task", "data": {"id": 2, "team": 8, "done": false}}])"),
              j(R"({"type": "response", "callId": 1, "data": null})"));
    WsClient browser(server->frontendPort());
    browser.call("datasync", "acquireSubscription", {{"token", token}}, "a");
    EXPECT_EQ(browser.expectMessage(), j(R"({"type": "response", "callId": "a", "data": null})"));
    EXPECT_EQ(browser.expectMessage(), delta(R"({"type": "insert", "model": "task", "data": {"id": 1, "team": 7, "done": false}})"));
    EXPECT_TRUE(browser.silentFor());
    publish(R"([{"type": "update", "model": "task", "newData": {"id": 1, "team": 7, "done": false, "title": "x"},
                                                   "oldData": {"id": 1, "team": 7, "done": false}}])");
    EXPECT_EQ(browser.expectMessage(), delta(R"({"type": "update", "model": "task",
        "newData": {"id": 1, "team": 7, "done": false, "title": "x"}, "oldData": {"id": 1, "team": 7, "done": false}})"));
}

TEST_F(DataSyncIt, RowsMovingInAndOutOfAFilteredView) {
    WsClient browser(server->frontendPort());
    EXPECT_EQ(browser.request("datasync", "acquireSubscription", {{"token", authorize(kTeam7Open)}}).at("data"), nullptr);
    publish(R"([{"type": "update", "model": "task", "newData": {"id": 5, "team": 7, "done": false}, "oldData": {"id": 5, "team": 3, "done": false}},
                {"type": "update", "model": "task", "newData": {"id": 5, "team": 7, "done": true}, "oldData": {"id": 5, "team": 7, "done": false}},
                {"type": "update", "model": "task", "newData": {"id": 5, "team": 3, "done": true}, "oldData": {"id": 5, "team": 7, "done": true}}])");
    EXPECT_EQ(browser.expectMessage(), delta(R"({"type": "insert", "model": "task", "data": {"id": 5, "team": 7, "done": false}})"));
    EXPECT_EQ(browser.expectMessage(), delta(R"({"type": "delete", "model": "task", "data": {"id": 5, "team": 7, "done": false}})"));
    EXPECT_TRUE(browser.silentFor());
}

TEST_F(DataSyncIt, KeyedDealerOnANestedField) {
    WsClient ann(server->frontendPort()), bob(server->frontendPort());
    ann.request("datasync", "acquireSubscription", {{"token", authorize(R"([{"dealer": "byOwner", "query": "ann"}])")}});
    bob.request("datasync", "acquireSubscription", {{"token", authorize(R"([{"dealer": "byOwner", "query": "bob"}])")}});
    publish(R"([{"type": "insert", "model": "task", "data": {"owner": {"name": "bob"}}}])");
    EXPECT_EQ(bob.expectMessage(), delta(R"({"type": "insert", "model": "task", "data": {"owner": {"name": "bob"}}})"));
    EXPECT_TRUE(ann.silentFor());
}

TEST_F(DataSyncIt, UnacquiredSubscriptionsExpire) {
    start("acquire_timeout = 0.3");
    std::string token = authorize(kTeam7Open);
    // Time passing is what is tested here (acquiring would consume the token,
    // so there is nothing to poll); the expiry itself is unit-tested on a manual clock.
    std::this_thread::sleep_for(std::chrono::milliseconds(700));
    WsClient browser(server->frontendPort());
    EXPECT_EQ(browser.request("datasync", "acquireSubscription", {{"token", token}}).at("message"), "No such subscription");
    std::string fresh = authorize(kTeam7Open);
    EXPECT_EQ(browser.request("datasync", "acquireSubscription", {{"token", fresh}}).at("type"), "response");
}

TEST_F(DataSyncIt, CancelAndOwnership) {
    std::string token = authorize(kTeam7Open);
    WsClient owner(server->frontendPort()), other(server->frontendPort());
    EXPECT_EQ(owner.request("datasync", "acquireSubscription", {{"token", token}}).at("data"), nullptr);
    EXPECT_EQ(other.request("datasync", "acquireSubscription", {{"token", token}}).at("message"), "No such subscription");
    EXPECT_EQ(other.request("datasync", "cancelSubscription", {{"token", token}}).at("message"), "No such subscription");
    EXPECT_EQ(other.request("datasync", "cancelSubscription", {{"token", 12}}).at("message"), "token must be string");
    publish(R"([{"type": "insert", "model": "task", "data": {"team": 7, "done": false}}])");
    EXPECT_EQ(owner.expectMessage().at("type"), "delta");
    EXPECT_TRUE(other.silentFor());
    EXPECT_EQ(owner.request("datasync", "cancelSubscription", {{"token", token}}).at("data"), nullptr);
    publish(R"([{"type": "insert", "model": "task", "data": {"team": 7, "done": false}}])");
    EXPECT_TRUE(owner.silentFor());
    EXPECT_EQ(owner.request("datasync", "cancelSubscription", {{"token", token}}).at("message"), "No such subscription");
}

TEST_F(DataSyncIt, DisconnectDropsTheClientsSubscriptions) {
    start("max_subscriptions_per_client = 2");
    std::string stays = authorize(kTeam7Open);
    {
        WsClient leaving(server->frontendPort());
        leaving.request("datasync", "acquireSubscription", {{"token", authorize(kTeam7Open)}});
        leaving.request("datasync", "acquireSubscription", {{"token", authorize(kTeam7Open)}});
        EXPECT_EQ(leaving.request("datasync", "acquireSubscription", {{"token", stays}}).at("message"), "Too many subscriptions");
        leaving.close();
    }
    WsClient staying(server->frontendPort());
    EXPECT_EQ(staying.request("datasync", "acquireSubscription", {{"token", stays}}).at("data"), nullptr);
    // The close reached the server: only `staying` is left.
    ASSERT_TRUE(waitUntil([&] { return metric(server->backendPort(), "connections_open") == 1; }));
    EXPECT_EQ(publish(R"([{"type": "insert", "model": "task", "data": {"team": 7, "done": false}}])").at("data"), nullptr);
    EXPECT_EQ(staying.expectMessage().at("type"), "delta");
    EXPECT_TRUE(server->running());
}

TEST_F(DataSyncIt, MalformedDeltasAreRefusedWithNothingDelivered) {
    WsClient browser(server->frontendPort());
    browser.request("datasync", "acquireSubscription", {{"token", authorize(kTeam7Open)}});
    const char* good = R"({"type": "insert", "model": "task", "data": {"team": 7, "done": false}})";
    auto refused = [&](const char* bad) {
        std::string deltas = std::string("[") + good + ", " + bad + "]";
        return publish(deltas.c_str()).at("message");
    };
    EXPECT_EQ(refused(R"({"type": "insert", "model": 3, "data": {}})"), "model must be string");
    EXPECT_EQ(refused(R"({"type": "replace", "model": "task", "data": {}})"), "Invalid delta type");
    EXPECT_EQ(refused(R"({"type": "update", "model": "task", "newData": {}})"), "Missing field");
    EXPECT_EQ(refused(R"({"model": "task", "data": {}})"), "Missing field");
    EXPECT_TRUE(browser.silentFor());
    EXPECT_EQ(publish(R"([{"type": "insert", "model": "nobody", "data": {}}])").at("data"), nullptr);
    EXPECT_TRUE(browser.silentFor());
}

TEST_F(DataSyncIt, AuthorizationErrors) {
    auto error = [&](const char* items) { return backend("authorizeSubscription", {{"items", j(items)}}).at("message"); };
    EXPECT_EQ(error(R"([{"query": 1}])"), "Missing field 'dealer'");
    EXPECT_EQ(error(R"([{"dealer": ["tasks"], "query": 1}])"), "dealer should be a dealer name");
    EXPECT_EQ(error(R"([{"dealer": "nope", "query": 1}])"), "No such dealer");
    EXPECT_EQ(error(R"([{"dealer": "tasks"}])"), "Missing field 'query'");
    EXPECT_EQ(error(R"([{"dealer": "tasks", "query": ["like", "title", "%x%"]}])"), "Invalid query");
    WsClient browser(server->frontendPort());
    EXPECT_EQ(browser.request("datasync", "acquireSubscription", {{"token", 5}}).at("message"), "token must be string");
    EXPECT_EQ(browser.request("datasync", "acquireSubscription", {{"token", "nope"}}).at("message"), "No such subscription");
}

TEST(DataSyncConfig, DealerMistakesAreConfigErrors) {
    std::string config = datasyncConfig();
    config.replace(config.find("kind = \"filter\""), 15, "kind = \"fitler\"");
    CommandResult result = runSnorky({"--config", writeTempFile("datasync.toml", config), "--check"});
    EXPECT_EQ(result.exitCode, 78);
    EXPECT_NE(result.output.find("kind must be \"broadcast\", \"simple\" or \"filter\""), std::string::npos) << result.output;
}
