// The example programs of examples/, run for real.
#include <gtest/gtest.h>

#include "support/clients.hpp"
#include "support/server_process.hpp"

using namespace snorky::it;

TEST(Examples, PubSubBackendRefusesClientsAndPublishesFromTheBackend) {
    int frontend = freePort(), backend = freePort();
    ChildProcess example({SNORKY_BUILD_DIR "/examples/example_pubsub_backend", std::to_string(frontend), std::to_string(backend)});
    ASSERT_TRUE(waitForPort(frontend) && waitForPort(backend)) << example.logs();
    WsClient browser(frontend);
    browser.request("pubsub", "subscribe", {{"channel", "announcements"}});
    EXPECT_EQ(browser.request("pubsub", "publish", {{"channel", "announcements"}, {"message", "x"}}).at("message"), "Not authorized");
    EXPECT_EQ(httpPost(backend, "/backend", "{}", {{"X-Backend-Key", "wrong"}}).status, 401);
    EXPECT_EQ(backendCall(backend, "pubsub_backend", "publish", {{"channel", "announcements"}, {"message", "Hello World"}}).at("data"),
              nullptr);
    EXPECT_EQ(browser.expectMessage(), json::parse(R"({"type":"message","channel":"announcements","message":"Hello World"})"));
    EXPECT_EQ(example.terminate(), 0);
}

TEST(Examples, CalculatorCommandsWithTypedAndOptionalParams) {
    int port = freePort();
    ChildProcess example({SNORKY_BUILD_DIR "/examples/example_calculator", std::to_string(port)});
    ASSERT_TRUE(waitForPort(port)) << example.logs();
    WsClient client(port);
    EXPECT_EQ(client.request("calculator", "sum", {{"a", 2}, {"b", 3.5}}).at("data"), 5.5);
    EXPECT_NEAR(client.request("calculator", "log", {{"x", 8}, {"base", 2}}).at("data").as_double(), 3.0, 1e-12);
    EXPECT_NEAR(client.request("calculator", "log", {{"x", 1}}).at("data").as_double(), 0.0, 1e-12);
    EXPECT_EQ(client.request("calculator", "sum", {{"a", "2"}, {"b", 3}}).at("message"), "Invalid params");
    EXPECT_EQ(client.request("calculator", "log", {{"x", -1}}).at("message"), "Math domain error");
    EXPECT_EQ(client.request("calculator", "divide", {}).at("message"), "Unknown command");
}
