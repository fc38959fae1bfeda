// SIGHUP re-reads the config file of the real binary: the log level takes
// effect, a broken file changes nothing (logged with file and line), and a
// change that needs a restart (a port) is reported while the running
// listeners stay as they were.
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>

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

struct ReloadTest : ::testing::Test {
    ServerProcess server{basicConfig()};
    std::string path() const { return server.dir() + "/snorky.toml"; }
    void rewrite(const std::string& text) { std::ofstream(path()) << text; }
    // Sends SIGHUP and waits until the server has handled it (the n-th "received SIGHUP").
    void hangup(const std::string& until) {
        std::size_t before = count(server.logs(), until);
        ASSERT_EQ(::kill(server.pid(), SIGHUP), 0);
        ASSERT_TRUE(waitUntil([&] { return count(server.logs(), until) > before; })) << server.logs();
    }
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
    EXPECT_NE(server.logs().find(path() + ":" + std::to_string(line) + ": listener (websocket) changed; restart to apply it"),
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
