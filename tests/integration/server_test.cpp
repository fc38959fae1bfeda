// The `snorky` binary: default config, key handling, config errors,
// graceful shutdown, several listeners.
#include <gtest/gtest.h>
#include <signal.h>

#include "support/clients.hpp"
#include "support/probes.hpp"
#include "support/server_process.hpp"

using namespace snorky::it;

TEST(Server, GracefulShutdownClosesWebSocketsWith1001AndExitsZero) {
    ServerProcess server(basicConfig());
    WsClient client(server.frontendPort());
    client.request("pubsub", "subscribe", {{"channel", 1}});
    kill(server.pid(), SIGTERM);
    EXPECT_EQ(client.waitClosed(std::chrono::milliseconds(5000)), 1001);
    // Not terminate(): a second SIGTERM while shutting down ends the process at once.
    EXPECT_EQ(server.wait(), 0);
}

TEST(Server, GeneratesAndPrintsAKeyWhenNoneIsConfigured) {
    std::string config = basicConfig();
    config.replace(config.find("key = \"swordfish\""), 17, "");
    ServerProcess server(config);
    std::string logs = server.logs();
    auto at = logs.find("SNORKY_BACKEND_KEY=");
    ASSERT_NE(at, std::string::npos) << logs;
    std::string key = logs.substr(at + 19, 64);
    EXPECT_EQ(backendCall(server.backendPort(), "pubsub_backend", "publish", {{"channel", 1}, {"message", 2}}, key).at("type"),
              "response");
    EXPECT_EQ(httpPost(server.backendPort(), "/backend", "{}", {{"X-Backend-Key", "swordfish"}}).status, 401);
    // Printed once, never as a log line.
    EXPECT_EQ(logs.find(key), logs.rfind(key));
}

TEST(Server, KeyFromTheEnvironment) {
    std::string config = basicConfig();
    config.replace(config.find("key = \"swordfish\""), 17, "");
    ServerProcess server(config, {{"SNORKY_BACKEND_KEY", "from-env"}});
    EXPECT_EQ(server.logs().find("SNORKY_BACKEND_KEY="), std::string::npos);
    EXPECT_EQ(backendCall(server.backendPort(), "pubsub_backend", "publish", {{"channel", 1}, {"message", 2}}, "from-env").at("type"),
              "response");
}

TEST(Server, ConfigErrorsNameTheFileAndLine) {
    std::string broken = writeTempFile("broken.toml", "[server]\nthreads = 2\n[[listener]\n");
    CommandResult parse = runSnorky({"--config", broken});
    EXPECT_EQ(parse.exitCode, 78);
    EXPECT_NE(parse.output.find("broken.toml:3"), std::string::npos) << parse.output;

    std::string config = basicConfig();
    config.replace(config.find("client_publish"), 14, "client_publishh");
    std::string typo = writeTempFile("typo.toml", config);
    CommandResult unknown = runSnorky({"--config", typo, "--check"});
    EXPECT_EQ(unknown.exitCode, 78);
    EXPECT_NE(unknown.output.find("unknown option 'client_publishh'"), std::string::npos) << unknown.output;
    EXPECT_NE(unknown.output.find("typo.toml:"), std::string::npos);

    std::string badType = writeTempFile("type.toml", basicConfig() + "\n[[service]]\nname = \"x\"\ntype = \"nope\"\nregistry = \"frontend\"\n");
    CommandResult type = runSnorky({"--config", badType, "--check"});
    EXPECT_NE(type.output.find("unknown service type 'nope'"), std::string::npos) << type.output;

    std::string good = writeTempFile("good.toml", basicConfig());
    CommandResult check = runSnorky({"--config", good, "--check"});
    EXPECT_EQ(check.exitCode, 0) << check.output;
}

TEST(Server, DefaultConfigIsPrintable) {
    CommandResult printed = runSnorky({"--print-default-config"});
    EXPECT_EQ(printed.exitCode, 0);
    EXPECT_NE(printed.output.find("port = 5800"), std::string::npos);
    EXPECT_NE(printed.output.find("client_publish = false"), std::string::npos);
}

TEST(Server, SeveralListenersEachWithItsOwnRegistry) {
    std::string config = basicConfig(true) + R"(
[[listener]]
type = "websocket"
registry = "second"
address = "127.0.0.1"
port = 0
path = "/other"

[[service]]
name = "chat_pubsub"
type = "pubsub"
registry = "second"
)";
    ServerProcess server(config);
    WsClient first(server.port(0)), second(server.port(2), "/other");
    EXPECT_EQ(second.request("chat_pubsub", "subscribe", {{"channel", 1}}).at("type"), "response");
    // Each listener sees only its own registry's services.
    second.call("pubsub", "subscribe", {{"channel", 1}});
    EXPECT_TRUE(second.silentFor());
    first.call("chat_pubsub", "subscribe", {{"channel", 1}});
    EXPECT_TRUE(first.silentFor());
    EXPECT_EQ(first.request("pubsub", "subscribe", {{"channel", 1}}).at("type"), "response");
}

// [server] memory_trim_interval: the allocator is trimmed on that interval
// beside the workers, and /metrics says how often and how long it took.
TEST(Server, TrimsFreedMemoryOnItsIntervalAndReportsItInMetrics) {
    std::string config = basicConfig();
    config.replace(config.find("[server]\n"), 9, "[server]\nmemory_trim_interval = 1\n");
    ServerProcess server(config);
    WsClient client(server.frontendPort());
    client.request("pubsub", "subscribe", {{"channel", 1}});
    EXPECT_TRUE(waitUntil([&] { return metric(server.backendPort(), "memory_trims_total").value_or(0) >= 2; },
                          std::chrono::seconds(10), std::chrono::milliseconds(100)));
    EXPECT_TRUE(metric(server.backendPort(), "memory_trim_seconds_total").has_value());
    EXPECT_TRUE(metric(server.backendPort(), "memory_trim_max_seconds").has_value());
    EXPECT_EQ(server.terminate(), 0);
}
