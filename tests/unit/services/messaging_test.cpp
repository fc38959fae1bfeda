#include "snorky/services/messaging.hpp"

#include <gtest/gtest.h>

#include "support/fake_client.hpp"

using namespace snorky;
using namespace snorky::testing;

namespace {
// A policy as an application would write it: names must start with the
// client's identity (anonymous clients get no name).
class PrefixedMessaging : public MessagingService {
public:
    using MessagingService::MessagingService;

protected:
    bool isNameAllowed(const ClientPtr& client, const std::string& name) override {
        if (!client->identity().is_string()) return false;
        std::string prefix(client->identity().as_string());
        return name.rfind(prefix, 0) == 0;
    }
};

struct MessagingTest : ::testing::Test {
    TestNode t;
    std::shared_ptr<MessagingService> messaging;
    FakeClientPtr alice = FakeClient::make(), bob = FakeClient::make();

    void SetUp() override { start(MessagingService::Options{}); }
    void start(MessagingService::Options options) {
        messaging = std::make_shared<MessagingService>("messaging", options);
        t.registry.registerService(messaging);
        t.connect(alice);
        t.connect(bob);
    }
    json::value call(const FakeClientPtr& c, const char* command, json::object params) {
        t.call(c, "messaging", command, std::move(params));
        json::value reply = c->last();
        c->frames.pop_back();
        return reply;
    }
    json::value reg(const FakeClientPtr& c, const char* name) { return call(c, "registerParticipant", {{"name", name}}); }
};
}  // namespace

TEST_F(MessagingTest, DirectMessageReachesOnlyTheDestination) {
    EXPECT_EQ(reg(alice, "alice").at("data"), nullptr);
    EXPECT_EQ(reg(bob, "bob").at("type"), "response");
    FakeClientPtr carol = FakeClient::make();
    t.connect(carol);
    EXPECT_EQ(call(alice, "send", {{"sender", "alice"}, {"dest", "bob"}, {"body", json::parse(R"({"text":"hi"})")}})
                  .at("data"),
              nullptr);
    EXPECT_EQ(bob->messages(),
              std::vector<json::value>{
                  json::parse(R"({"type":"message","sender":"alice","dest":"bob","body":{"text":"hi"}})")});
    EXPECT_TRUE(alice->frames.empty());
    EXPECT_TRUE(carol->frames.empty());
}

TEST_F(MessagingTest, ListParticipantsIsSorted) {
    reg(bob, "zed");
    reg(alice, "alice");
    reg(bob, "bob");
    EXPECT_EQ(call(alice, "listParticipants", {}).at("data"), json::parse(R"(["alice","bob","zed"])"));
}

TEST_F(MessagingTest, RegisterErrors) {
    reg(alice, "alice");
    EXPECT_EQ(reg(bob, "alice").at("message"), "Name already registered");
    EXPECT_EQ(reg(alice, "alice").at("message"), "Name already registered");
    EXPECT_EQ(call(alice, "registerParticipant", {{"name", 5}}).at("message"), "Invalid params");
    EXPECT_EQ(reg(alice, std::string(257, 'n').c_str()).at("message"), "Name not allowed");
}

TEST_F(MessagingTest, NamePolicyHook) {
    auto policed = std::make_shared<PrefixedMessaging>("policed");
    t.registry.registerService(policed);
    alice->setIdentity("alice");
    t.call(alice, "policed", "registerParticipant", {{"name", "alice-laptop"}});
    EXPECT_EQ(alice->last().at("type"), "response");
    t.call(alice, "policed", "registerParticipant", {{"name", "bob-laptop"}});
    EXPECT_EQ(alice->last().at("message"), "Name not allowed");
    t.call(bob, "policed", "registerParticipant", {{"name", "bob"}});  // anonymous
    EXPECT_EQ(bob->last().at("message"), "Name not allowed");
    EXPECT_EQ(policed->participantCount(), 1u);
}

TEST_F(MessagingTest, UnregisterErrors) {
    reg(alice, "alice");
    EXPECT_EQ(call(bob, "unregisterParticipant", {{"name", "nobody"}}).at("message"), "Unknown participant");
    EXPECT_EQ(call(bob, "unregisterParticipant", {{"name", "alice"}}).at("message"), "Invalid participant");
    EXPECT_EQ(call(alice, "unregisterParticipant", {{"name", "alice"}}).at("data"), nullptr);
    EXPECT_EQ(messaging->participantCount(), 0u);
    EXPECT_EQ(reg(bob, "alice").at("type"), "response");  // free again
}

TEST_F(MessagingTest, SendErrors) {
    reg(alice, "alice");
    reg(bob, "bob");
    EXPECT_EQ(call(alice, "send", {{"sender", "bob"}, {"dest", "bob"}, {"body", 1}}).at("message"), "Invalid sender");
    EXPECT_EQ(call(alice, "send", {{"sender", "ghost"}, {"dest", "bob"}, {"body", 1}}).at("message"),
              "Invalid sender");
    EXPECT_EQ(call(alice, "send", {{"sender", "alice"}, {"dest", "ghost"}, {"body", 1}}).at("message"),
              "Unknown destination");
    EXPECT_EQ(call(alice, "send", {{"sender", "alice"}, {"dest", "bob"}}).at("message"), "Invalid params");
    EXPECT_TRUE(bob->frames.empty());
}

TEST_F(MessagingTest, LimitsOnNamesAndBodies) {
    t.registry.unregisterService("messaging");
    MessagingService::Options options;
    options.maxNamesPerClient = 2;
    options.maxBodyBytes = 10;
    start(options);
    reg(alice, "a1");
    reg(alice, "a2");
    EXPECT_EQ(reg(alice, "a3").at("message"), "Too many names");
    reg(bob, "bob");
    EXPECT_EQ(call(alice, "send", {{"sender", "a1"}, {"dest", "bob"}, {"body", "12345678"}}).at("type"), "response");
    EXPECT_EQ(call(alice, "send", {{"sender", "a1"}, {"dest", "bob"}, {"body", "123456789"}}).at("message"),
              "Message too large");  // 11 bytes with the quotes
    EXPECT_EQ(bob->messages().size(), 1u);
    call(alice, "unregisterParticipant", {{"name", "a1"}});
    EXPECT_EQ(reg(alice, "a3").at("type"), "response");
}

TEST_F(MessagingTest, DisconnectFreesNames) {
    reg(alice, "a1");
    reg(alice, "a2");
    reg(bob, "bob");
    t.disconnect(alice);
    EXPECT_EQ(call(bob, "listParticipants", {}).at("data"), json::parse(R"(["bob"])"));
    EXPECT_EQ(call(bob, "send", {{"sender", "bob"}, {"dest", "a1"}, {"body", 1}}).at("message"),
              "Unknown destination");
    EXPECT_EQ(reg(bob, "a1").at("type"), "response");
}
