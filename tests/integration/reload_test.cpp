// SIGHUP re-reads the config file of the real binary: the log level, the
// listeners' limits and origins and the namespace tables take effect without
// dropping a client, a broken file changes nothing (logged with file and
// line), and a change that needs a restart (a port) is reported while the
// running listeners stay as they were.
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <atomic>
#include <memory>
#include <thread>

#include "support/clients.hpp"
#include "support/server_process.hpp"
#include "support/wait_until.hpp"

using namespace snorky::it;
using snorky::testing::waitUntil;

namespace {

std::size_t count(const std::string& text, const std::string& part) {
    std::size_t n = 0;
    for (std::size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
    return n;
}

// Sends SIGHUP and waits until the server has handled it (one more `until` in its log).
void hangup(ServerProcess& server, const std::string& until) {
    std::size_t before = count(server.logs(), until);
    ASSERT_EQ(::kill(server.pid(), SIGHUP), 0);
    ASSERT_TRUE(waitUntil([&] { return count(server.logs(), until) > before; })) << server.logs();
}

struct ReloadTest : ::testing::Test {
    ServerProcess server{basicConfig()};
    std::string path() const { return server.dir() + "/snorky.toml"; }
    void rewrite(const std::string& text) { std::ofstream(path()) << text; }
    void hangup(const std::string& until) { ::hangup(server, until); }
    void stillServes() {
        WsClient client(server.frontendPort());
        EXPECT_EQ(client.request("pubsub", "subscribe", {{"channel", "alive"}}).at("type"), "response");
        EXPECT_TRUE(server.running());
    }
};

}  // namespace

TEST_F(ReloadTest, LogLevelTakesEffect) {
    std::string config = basicConfig();
    std::size_t at = config.find("log_level = \"info\"");
    ASSERT_NE(at, std::string::npos);
    rewrite(config.replace(at, 18, "log_level = \"warn\""));
    hangup("reload: log_level is now warn");
    // At warn the Info line of the next SIGHUP is no longer written; a
    // warning of the same reload (a port change) still is.
    std::size_t received = count(server.logs(), "received SIGHUP");
    std::size_t portAt = config.find("port = 0");
    rewrite(config.replace(portAt, 8, "port = " + std::to_string(freePort())));
    hangup("changed; restart to apply it");
    EXPECT_EQ(count(server.logs(), "received SIGHUP"), received);
    stillServes();
}

TEST_F(ReloadTest, BrokenConfigChangesNothing) {
    rewrite(basicConfig() + "\n[[service]]\nname = \"x\"\ntype = \"no-such-type\"\nregistry = \"frontend\"\n");
    hangup("reload: config error, keeping the running config");
    EXPECT_NE(server.logs().find(path() + ":"), std::string::npos) << server.logs();  // file and line
    rewrite("[server\nthreads = ");
    hangup("reload: config error, keeping the running config");
    EXPECT_NE(server.logs().find(path() + ":1"), std::string::npos) << server.logs();
    stillServes();
}

TEST_F(ReloadTest, PortChangeIsReportedAndNotApplied) {
    std::string config = basicConfig();
    int newPort = freePort();
    rewrite(config.replace(config.find("port = 0"), 8, "port = " + std::to_string(newPort)));
    hangup("changed; restart to apply it");
    std::size_t line = 1 + count(config.substr(0, config.find("[[listener]]")), "\n");
    EXPECT_NE(server.logs().find(path() + ":" + std::to_string(line) + ": listener (websocket): port changed; restart to apply it"),
              std::string::npos)
        << server.logs();
    stillServes();  // on the port it had
    EXPECT_THROW(WsClient client(newPort), std::runtime_error);
}

TEST_F(ReloadTest, UnchangedConfigReportsNothing) {
    hangup("reload: finished");
    stillServes();
    EXPECT_EQ(server.logs().find("restart to apply"), std::string::npos) << server.logs();
    EXPECT_EQ(server.logs().find("reload: config error"), std::string::npos) << server.logs();
}

// ------------------------------------------------------------ applied live

namespace {

// A running server whose config file the test edits: `edit` replaces one
// piece of the current text (which must be there once).
struct LiveReload : ::testing::Test {
    std::string config;
    std::unique_ptr<ServerProcess> server;
    void start(std::string text) {
        config = std::move(text);
        server = std::make_unique<ServerProcess>(config);
    }
    void edit(const std::string& from, const std::string& to) {
        std::size_t at = config.find(from);
        ASSERT_NE(at, std::string::npos) << from;
        config.replace(at, from.size(), to);
        std::ofstream(server->dir() + "/snorky.toml") << config;
    }
    void reload() { hangup(*server, "reload: finished"); }
    int port() const { return server->frontendPort(); }
};

std::string subscribe(WsClient& client, const std::string& channel) {
    json::value reply = client.request("pubsub", "subscribe", {{"channel", channel}});
    return reply.at("type") == "response" ? "ok" : std::string(reply.at("message").as_string());
}

}  // namespace

TEST_F(LiveReload, LoweredConnectionCapRefusesNewConnectionsAndKeepsOpenOnes) {
    start(basicConfig(true, "max_connections_per_ip = 3\n"));
    std::vector<std::unique_ptr<WsClient>> open;
    for (int i = 0; i < 3; ++i) open.push_back(std::make_unique<WsClient>(port()));
    edit("max_connections_per_ip = 3", "max_connections_per_ip = 1");
    reload();
    EXPECT_NE(server->logs().find("max_connections_per_ip applied"), std::string::npos) << server->logs();
    EXPECT_EQ(upgradeStatus(port(), "/ws"), 429);
    // Over the new cap, the three open ones stay and are served.
    for (auto& client : open) EXPECT_EQ(subscribe(*client, "still"), "ok");
    // Their places count: one left is still two over the cap of one.
    open.pop_back();
    open.pop_back();
    EXPECT_EQ(upgradeStatus(port(), "/ws"), 429);
    open.pop_back();
    EXPECT_TRUE(waitUntil([&] { return upgradeStatus(port(), "/ws") == 101; }));

    // A cap set where there was none counts the connections opened before it.
    edit("max_connections_per_ip = 1", "max_connections_per_ip = 0");
    reload();
    for (int i = 0; i < 3; ++i) open.push_back(std::make_unique<WsClient>(port()));
    edit("max_connections_per_ip = 0", "max_connections_per_ip = 3");
    reload();
    EXPECT_EQ(upgradeStatus(port(), "/ws"), 429);
    EXPECT_TRUE(server->running());
}

TEST_F(LiveReload, OriginsAndMessageSizeApplyToTheNextUpgradeAndMessage) {
    start(basicConfig(true, "allowed_origins = [\"https://old.example\"]\nmax_message_size = 4096\n"));
    WsClient opened(port(), "/ws", {{"Origin", "https://old.example"}});
    edit("https://old.example", "https://new.example");
    edit("max_message_size = 4096", "max_message_size = 256");
    reload();
    EXPECT_EQ(upgradeStatus(port(), "/ws", {{"Origin", "https://old.example"}}), 403);
    EXPECT_EQ(upgradeStatus(port(), "/ws", {{"Origin", "https://new.example"}}), 101);
    // The connection upgraded under the old list stays...
    EXPECT_EQ(subscribe(opened, "a"), "ok");
    // ...and its next message is held to the new size (1009 above it).
    opened.sendText(std::string(1000, ' ') + "{}");
    EXPECT_EQ(opened.waitClosed(), 1009);
}

namespace {
const char* const kNamespaces = R"(
[[service.namespace]]
prefix = "news:"
subscribe = "public"

[[service.namespace]]
prefix = "open:"
subscribe = "public"
)";
}  // namespace

TEST_F(LiveReload, NamespaceRuleAppliesToNewSubscriptionsAndOldOnesKeepReceiving) {
    std::string config = basicConfig(false);
    config.replace(config.find("\n[[service]]\nname = \"pubsub_backend\""), 0, kNamespaces);
    start(config);
    WsClient early(port());
    ASSERT_EQ(subscribe(early, "news:1"), "ok");
    edit("prefix = \"news:\"\nsubscribe = \"public\"", "prefix = \"news:\"\nsubscribe = \"none\"");
    reload();
    EXPECT_NE(server->logs().find("service 'pubsub': namespace applied"), std::string::npos) << server->logs();
    WsClient late(port());
    EXPECT_EQ(subscribe(late, "news:1"), "Not authorized");
    EXPECT_EQ(subscribe(late, "open:1"), "ok");
    EXPECT_EQ(subscribe(late, "elsewhere"), "Unknown namespace");
    // The subscription made under the old rule is kept and still delivered.
    backendCall(server->backendPort(), "pubsub_backend", "publish", {{"channel", "news:1"}, {"message", "hello"}});
    json::value delivered = early.expectMessage();
    EXPECT_EQ(delivered.at("message"), "hello") << delivered;
}

TEST_F(LiveReload, BrokenConfigAppliesNothing) {
    start(basicConfig(true, "max_connections_per_ip = 2\n"));
    edit("max_connections_per_ip = 2", "max_connections_per_ip = 1\nrate_limit = -5");
    hangup(*server, "reload: config error, keeping the running config");
    EXPECT_NE(server->logs().find("snorky.toml:"), std::string::npos) << server->logs();
    WsClient one(port()), two(port());  // the cap is still 2
    EXPECT_EQ(upgradeStatus(port(), "/ws"), 429);
    EXPECT_EQ(subscribe(two, "x"), "ok");
}

TEST_F(LiveReload, AMixedChangeAppliesTheLivePartAndReportsTheRest) {
    start(basicConfig(true, "allowed_origins = [\"https://old.example\"]\n"));
    int otherPort = freePort();
    edit("https://old.example", "https://new.example");
    edit("port = 0\npath = \"/ws\"", "port = " + std::to_string(otherPort) + "\npath = \"/ws\"");
    edit("client_publish = true", "client_publish = true\nmax_channels_per_client = 1");
    edit("pubsub = \"pubsub\"", "pubsub = \"pubsub\"\n\n[[service]]\nname = \"extra\"\ntype = \"pubsub\"\nregistry = \"frontend\"");
    reload();
    std::string logs = server->logs();
    EXPECT_NE(logs.find("listener (websocket): port changed; restart to apply it"), std::string::npos) << logs;
    EXPECT_NE(logs.find("listener (websocket): allowed_origins applied"), std::string::npos) << logs;
    EXPECT_NE(logs.find("service 'extra' (added) changed; restart to apply it"), std::string::npos) << logs;
    EXPECT_EQ(upgradeStatus(port(), "/ws", {{"Origin", "https://new.example"}}), 101);  // on the old port
    EXPECT_EQ(upgradeStatus(port(), "/ws", {{"Origin", "https://old.example"}}), 403);
    EXPECT_THROW(WsClient client(otherPort), std::runtime_error);
    WsClient client(port());
    EXPECT_EQ(subscribe(client, "a"), "ok");
    EXPECT_EQ(subscribe(client, "b"), "Too many channels");  // max_channels_per_client = 1, live
    client.call("extra", "subscribe", {{"channel", "a"}});
    EXPECT_TRUE(client.silentFor());  // not added: an unknown service is not answered
}

TEST_F(LiveReload, BackendKeyChangesLive) {
    start(basicConfig());
    edit("key = \"swordfish\"", "key = \"marlin-marlin\"");
    reload();
    EXPECT_NE(server->logs().find("new backend key"), std::string::npos) << server->logs();
    // The old key is refused from the next request on (backendCall throws on a non-200 status).
    EXPECT_THROW(backendCall(server->backendPort(), "pubsub_backend", "publish", {{"channel", "c"}, {"message", 1}}),
                 std::runtime_error);
    json::value accepted = backendCall(server->backendPort(), "pubsub_backend", "publish",
                                       {{"channel", "c"}, {"message", 1}}, "marlin-marlin");
    EXPECT_EQ(accepted.at("type"), "response") << accepted;
}

// Reloads while a client keeps sending: the listener's settings and the
// namespace table are swapped under traffic (run against the TSan build,
// a data race here is a report and fails the test).
TEST_F(LiveReload, ReloadsUnderTrafficKeepServing) {
    start(basicConfig(true, "max_message_size = 4096\nrate_limit = 0\n"));
    std::atomic<bool> done{false};
    std::atomic<int> answered{0};
    WsClient client(port());
    std::thread sender([&] {
        for (int i = 0; !done; ++i) {
            json::value reply = client.request("pubsub", i % 2 ? "unsubscribe" : "subscribe", {{"channel", "c"}});
            if (reply.is_object() && reply.as_object().contains("type")) ++answered;
        }
    });
    for (int i = 0; i < 6; ++i) {
        bool up = i % 2 == 0;
        edit(up ? "max_message_size = 4096" : "max_message_size = 8192", up ? "max_message_size = 8192" : "max_message_size = 4096");
        edit(up ? "client_publish = true" : "client_publish = false", up ? "client_publish = false" : "client_publish = true");
        reload();
    }
    done = true;
    sender.join();
    EXPECT_GT(answered.load(), 0);
    EXPECT_EQ(subscribe(client, "after"), "ok");
    EXPECT_TRUE(server->running());
}
