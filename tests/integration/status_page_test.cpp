// The status page of the backend listener against the real binary: the page
// itself, its figures only with the backend key, nothing of it on the public
// WebSocket listener. The page in a browser: clients/js/test/browser/status_page.test.js.
#include <gtest/gtest.h>

#include "support/clients.hpp"
#include "support/server_process.hpp"

using namespace snorky::it;

namespace {
const std::string kChat = R"(
[[service]]
name = "chat"
type = "chat"
registry = "frontend"
)";
}  // namespace

TEST(StatusPage, ThePageHoldsNoFiguresAndIsNeverCachedOrFramed) {
    ServerProcess server(basicConfig());
    auto page = httpRequest(server.backendPort(), "GET", "/status", "");
    EXPECT_EQ(page.status, 200);
    EXPECT_EQ(page.headers["Content-Type"], "text/html; charset=utf-8");
    EXPECT_EQ(page.headers["Cache-Control"], "no-store");
    EXPECT_EQ(page.headers["X-Frame-Options"], "DENY");
    EXPECT_NE(page.headers["Content-Security-Policy"].find("frame-ancestors 'none'"), std::string::npos);
    EXPECT_NE(page.body.find("<title>Snorky status</title>"), std::string::npos);
    EXPECT_EQ(page.body.find("swordfish"), std::string::npos);
    EXPECT_EQ(page.body.find("http"), std::string::npos);  // nothing loaded from elsewhere
}

TEST(StatusPage, FiguresNeedTheBackendKey) {
    ServerProcess server(basicConfig(true, "", kChat));
    auto none = httpRequest(server.backendPort(), "GET", "/status.json", "");
    EXPECT_EQ(none.status, 401);
    EXPECT_EQ(none.json().at("error"), "Missing X-Backend-Key header");
    auto wrong = httpRequest(server.backendPort(), "GET", "/status.json", "", {{"X-Backend-Key", "sword"}});
    EXPECT_EQ(wrong.status, 401);
    EXPECT_EQ(wrong.json().at("error"), "Invalid API key");
    // A key in the query string is no key.
    EXPECT_EQ(httpRequest(server.backendPort(), "GET", "/status.json?key=swordfish", "").status, 401);

    WsClient a(server.frontendPort()), b(server.frontendPort());
    a.request("pubsub", "subscribe", {{"channel", "x"}});
    b.request("pubsub", "subscribe", {{"channel", "x"}});
    b.request("pubsub", "subscribe", {{"channel", "y"}});
    auto ok = httpRequest(server.backendPort(), "GET", "/status.json", "", {{"X-Backend-Key", "swordfish"}});
    ASSERT_EQ(ok.status, 200) << ok.body;
    EXPECT_EQ(ok.headers["Cache-Control"], "no-store");
    auto figures = ok.json().as_object();
    EXPECT_EQ(figures.at("connections"), 2);
    EXPECT_EQ(figures.at("engine").at("engine"), "memory");
    EXPECT_EQ(figures.at("services").at("pubsub"), (json::object{{"channels", 2}, {"subscriptions", 3}}));
    EXPECT_EQ(figures.at("services").at("chat").at("members"), 0);
    EXPECT_GE(figures.at("counters").at("messages_received").as_int64(), 3);
    EXPECT_GE(figures.at("counters").at("frames_sent").as_int64(), 3);
}

TEST(StatusPage, NotOnThePublicListenerAndOffWhenDisabled) {
    ServerProcess server(basicConfig());
    for (const char* path : {"/status", "/status.json"}) {
        auto page = httpRequest(server.frontendPort(), "GET", path, "", {{"X-Backend-Key", "swordfish"}});
        EXPECT_EQ(page.status, 404) << path;
        EXPECT_EQ(page.body.find("Snorky status"), std::string::npos);
    }
    std::string config = basicConfig();
    config.replace(config.find("key = \"swordfish\""), 17, "key = \"swordfish\"\nstatus_page = false");
    ServerProcess off(config);
    EXPECT_EQ(httpRequest(off.backendPort(), "GET", "/status", "").status, 404);
    EXPECT_EQ(httpRequest(off.backendPort(), "GET", "/status.json", "", {{"X-Backend-Key", "swordfish"}}).status, 404);
}
