// snorky-call against the real server (and a fake one for replies the real
// server never gives): output, exit codes and messages of every outcome.
#include <gtest/gtest.h>

#include "support/clients.hpp"
#include "support/fake_http_server.hpp"
#include "support/run_program.hpp"
#include "support/server_process.hpp"

using namespace snorky::it;

namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

ProgramResult snorkyCall(const std::vector<std::string>& args, std::map<std::string, std::string> env = {}) {
    // Start from a clean slate: the test's own environment must not leak in.
    env.try_emplace("SNORKY_BACKEND_URL", "");
    env.try_emplace("SNORKY_BACKEND_KEY", "");
    return runProgram(SNORKY_CALL_BINARY, args, env);
}

struct SnorkyCallTest : ::testing::Test {
    ServerProcess server{basicConfig(false)};
    std::string url() const { return "http://127.0.0.1:" + std::to_string(server.backendPort()) + "/backend"; }
    std::vector<std::string> withServer(std::vector<std::string> args) const {
        args.insert(args.begin(), {"--url", url(), "--key", kKey});
        return args;
    }
};

}  // namespace

TEST_F(SnorkyCallTest, PublishReachesASubscribedWebSocketClient) {
    WsClient browser(server.frontendPort());
    browser.request("pubsub", "subscribe", {{"channel", "announcements"}});
    ProgramResult run =
        snorkyCall(withServer({"pubsub_backend", "publish", "channel=announcements", "message=Hello World"}));
    EXPECT_EQ(run.exitCode, 0) << run.err;
    EXPECT_EQ(run.out, "null\n");
    EXPECT_EQ(run.err, "");
    EXPECT_EQ(browser.expect(), json::parse(
        R"({"service":"pubsub","message":{"type":"message","channel":"announcements","message":"Hello World"}})"));
}

TEST_F(SnorkyCallTest, ValuesAreJsonWhenTheyParse) {
    WsClient browser(server.frontendPort());
    browser.request("pubsub", "subscribe", {{"channel", 7}});
    ProgramResult run = snorkyCall(withServer({"pubsub_backend", "publish", "channel=7", R"(message={"n":[1,true]})"}));
    EXPECT_EQ(run.exitCode, 0) << run.err;
    EXPECT_EQ(browser.expectMessage().at("message"), json::parse(R"({"n":[1,true]})"));
}

TEST_F(SnorkyCallTest, ParamsAsOneJsonObject) {
    WsClient browser(server.frontendPort());
    browser.request("pubsub", "subscribe", {{"channel", json::parse(R"({"room":1})")}});
    ProgramResult run =
        snorkyCall(withServer({"pubsub_backend", "publish", "--params", R"({"channel":{"room":1},"message":"hi"})"}));
    EXPECT_EQ(run.exitCode, 0) << run.err;
    EXPECT_EQ(browser.expectMessage().at("message"), "hi");
}

TEST_F(SnorkyCallTest, UrlAndKeyFromTheEnvironment) {
    WsClient browser(server.frontendPort());
    browser.request("pubsub", "subscribe", {{"channel", "env"}});
    ProgramResult run = snorkyCall({"pubsub_backend", "publish", "channel=env", "message=1"},
                                   {{"SNORKY_BACKEND_URL", url()}, {"SNORKY_BACKEND_KEY", kKey}});
    EXPECT_EQ(run.exitCode, 0) << run.err;
    EXPECT_EQ(browser.expectMessage().at("message"), 1);
}

TEST_F(SnorkyCallTest, ServiceErrorExitsOneWithTheMessage) {
    ProgramResult run = snorkyCall(withServer({"pubsub_backend", "nope"}));
    EXPECT_EQ(run.exitCode, 1);
    EXPECT_EQ(run.out, "");
    EXPECT_EQ(run.err, "Unknown command\n");
    run = snorkyCall(withServer({"pubsub_backend", "publish", "channel=x"}));
    EXPECT_EQ(run.exitCode, 1);
    EXPECT_EQ(run.err, "Invalid params\n");
}

TEST_F(SnorkyCallTest, WrongKeyExitsTwo) {
    ProgramResult run = snorkyCall({"--url", url(), "--key", "wrong", "pubsub_backend", "publish", "channel=x", "message=1"});
    EXPECT_EQ(run.exitCode, 2);
    EXPECT_EQ(run.out, "");
    EXPECT_TRUE(contains(run.err, "401")) << run.err;
    EXPECT_TRUE(contains(run.err, "Invalid API key")) << run.err;
}

TEST_F(SnorkyCallTest, ServerDownExitsTwo) {
    std::string down = url();
    server.terminate();
    ProgramResult run = snorkyCall({"--url", down, "--key", kKey, "pubsub_backend", "publish", "channel=x", "message=1"});
    EXPECT_EQ(run.exitCode, 2);
    EXPECT_TRUE(contains(run.err, "cannot connect to " + down)) << run.err;
    EXPECT_TRUE(contains(run.err, "refused")) << run.err;
}

TEST(SnorkyCallFakeServerTest, PrintsReturnedDataAsJson) {
    snorky::testing::FakeHttpServer fake([](const snorky::testing::FakeRequest& request) {
        snorky::testing::FakeReply reply;
        reply.body = R"({"service":"datasync_backend","message":{"type":"response","data":{"token":"abc","n":[1,2]}}})";
        return reply;
    });
    ProgramResult run = snorkyCall({"--url", fake.url(), "--key", "k", "datasync_backend", "authorizeSubscription",
                                    R"(items=[{"dealer":"d","query":1}])"});
    EXPECT_EQ(run.exitCode, 0) << run.err;
    EXPECT_EQ(json::parse(run.out), json::parse(R"({"token":"abc","n":[1,2]})"));
    auto requests = fake.requests();
    ASSERT_EQ(requests.size(), 1u);
    EXPECT_EQ(json::parse(requests[0].body), json::parse(R"({"service":"datasync_backend","message":
        {"command":"authorizeSubscription","params":{"items":[{"dealer":"d","query":1}]}}})"));
    EXPECT_EQ(requests[0].backendKey, "k");

    run = snorkyCall({"--pretty", "--url", fake.url(), "--key", "k", "datasync_backend", "x"});
    EXPECT_EQ(run.out, "{\n  \"token\": \"abc\",\n  \"n\": [\n    1,\n    2\n  ]\n}\n");
}

TEST(SnorkyCallFakeServerTest, NonJsonReplyExitsTwo) {
    snorky::testing::FakeHttpServer fake([](const snorky::testing::FakeRequest&) {
        snorky::testing::FakeReply reply;
        reply.body = "Service Unavailable";
        reply.contentType = "text/plain";
        return reply;
    });
    ProgramResult run = snorkyCall({"--url", fake.url(), "--key", "k", "s", "c"});
    EXPECT_EQ(run.exitCode, 2);
    EXPECT_TRUE(contains(run.err, "non-JSON reply")) << run.err;
    EXPECT_TRUE(contains(run.err, "Service Unavailable")) << run.err;
}

TEST(SnorkyCallFakeServerTest, TimeoutExitsTwo) {
    snorky::testing::FakeHttpServer fake([](const snorky::testing::FakeRequest&) {
        snorky::testing::FakeReply reply;
        reply.mode = snorky::testing::FakeReply::Mode::Silent;
        return reply;
    });
    ProgramResult run = snorkyCall({"--timeout", "0.3", "--url", fake.url(), "--key", "k", "s", "c"});
    EXPECT_EQ(run.exitCode, 2);
    EXPECT_TRUE(contains(run.err, "no reply")) << run.err;
}

TEST(SnorkyCallUsageTest, UsageErrorsExit64) {
    for (std::vector<std::string> args : std::vector<std::vector<std::string>>{
             {},
             {"--key", "k", "only_service"},
             {"--key", "k", "s", "c", "novalue"},
             {"--key", "k", "s", "c", "--params", "[1]"},
             {"--key", "k", "--url", "ftp://h/x", "s", "c"},
             {"--key", "k", "--bogus", "s", "c"},
             {"s", "c"},  // no key anywhere
             {"--key", "bad\nkey", "s", "c"},
         }) {
        ProgramResult run = snorkyCall(args);
        EXPECT_EQ(run.exitCode, 64) << ::testing::PrintToString(args) << run.err;
        EXPECT_EQ(run.out, "");
        EXPECT_TRUE(contains(run.err, "--help")) << run.err;
    }
}

TEST(SnorkyCallUsageTest, HelpExplainsEverything) {
    ProgramResult run = snorkyCall({"--help"});
    EXPECT_EQ(run.exitCode, 0);
    for (const char* part : {"SERVICE", "COMMAND", "name=value", "--params", "--url", "--key", "SNORKY_BACKEND_URL",
                             "SNORKY_BACKEND_KEY", "http://127.0.0.1:5801/backend", "64", "service answered an error",
                             "transport error"}) {
        EXPECT_TRUE(contains(run.out, part)) << part;
    }
}
