#include "snorky/services/pubsub.hpp"

#include <gtest/gtest.h>

#include "support/fake_client.hpp"

using namespace snorky;
using namespace snorky::testing;

namespace {
struct PubSubTest : ::testing::Test {
    TestNode t;
    std::shared_ptr<PubSubService> pubsub = std::make_shared<PubSubService>("pubsub");
    FakeClientPtr alice = FakeClient::make(), bob = FakeClient::make();
    void SetUp() override {
        t.registry.registerService(pubsub);
        t.connect(alice);
        t.connect(bob);
    }
    json::value call(const FakeClientPtr& c, const char* command, json::object params) {
        t.call(c, "pubsub", command, std::move(params));
        json::value reply = c->last();
        c->frames.pop_back();
        return reply;
    }
};
}  // namespace

TEST_F(PubSubTest, SubscribersIncludingThePublisherReceiveMessages) {
    EXPECT_EQ(call(alice, "subscribe", {{"channel", "news"}}).at("data"), nullptr);
    EXPECT_EQ(call(bob, "subscribe", {{"channel", "news"}}).at("type"), "response");
    EXPECT_EQ(call(alice, "publish", {{"channel", "news"}, {"message", "hi"}}).at("type"), "response");
    auto expected = json::parse(R"({"type":"message","channel":"news","message":"hi"})");
    EXPECT_EQ(alice->messages(), std::vector<json::value>{expected});
    EXPECT_EQ(bob->messages(), std::vector<json::value>{expected});
}

TEST_F(PubSubTest, OneSharedFrameForAllSubscribers) {
    call(alice, "subscribe", {{"channel", "x"}});
    call(bob, "subscribe", {{"channel", "x"}});
    pubsub->publish("x", 1);
    ASSERT_EQ(alice->frames.size(), 1u);
    ASSERT_EQ(bob->frames.size(), 1u);
    EXPECT_EQ(alice->frames[0].get(), bob->frames[0].get());
}

TEST_F(PubSubTest, SubscribeErrors) {
    call(alice, "subscribe", {{"channel", "news"}});
    EXPECT_EQ(call(alice, "subscribe", {{"channel", "news"}}).at("message"), "Already subscribed");
    EXPECT_EQ(call(alice, "unsubscribe", {{"channel", "other"}}).at("message"), "Not subscribed");
    EXPECT_EQ(call(bob, "unsubscribe", {{"channel", "news"}}).at("message"), "Not subscribed");
    EXPECT_EQ(call(alice, "unsubscribe", {{"channel", "news"}}).at("data"), nullptr);
    EXPECT_EQ(pubsub->channelCount(), 0u);
}

TEST_F(PubSubTest, ObjectChannelsMatchWhateverTheKeyOrder) {
    call(alice, "subscribe", {{"channel", json::parse(R"({"room":1,"kind":"chat"})")}});
    pubsub->publish(json::parse(R"({"kind":"chat","room":1})"), "m");
    ASSERT_EQ(alice->frames.size(), 1u);
    EXPECT_EQ(call(alice, "subscribe", {{"channel", json::parse(R"({"kind":"chat","room":1})")}}).at("message"),
              "Already subscribed");
}

TEST_F(PubSubTest, UnsubscribedAndOtherChannelsReceiveNothing) {
    call(alice, "subscribe", {{"channel", "a"}});
    call(bob, "subscribe", {{"channel", "b"}});
    pubsub->publish("a", 1);
    EXPECT_EQ(bob->frames.size(), 0u);
    call(alice, "unsubscribe", {{"channel", "a"}});
    pubsub->publish("a", 2);
    EXPECT_EQ(alice->frames.size(), 1u);
}

TEST_F(PubSubTest, DisconnectDropsSubscriptionsAndEmptyChannels) {
    call(alice, "subscribe", {{"channel", "a"}});
    call(alice, "subscribe", {{"channel", "b"}});
    call(bob, "subscribe", {{"channel", "b"}});
    t.disconnect(alice);
    EXPECT_EQ(pubsub->channelCount(), 1u);
    EXPECT_EQ(pubsub->subscriberCount("b"), 1u);
    pubsub->publish("b", 1);
    EXPECT_EQ(alice->frames.size(), 0u);
    EXPECT_EQ(bob->frames.size(), 1u);
}

TEST_F(PubSubTest, ChannelsPerClientAreCapped) {
    auto capped = std::make_shared<PubSubService>("capped", PubSubService::Options{true, 2});
    t.registry.registerService(capped);
    for (const char* ch : {"a", "b"}) t.call(alice, "capped", "subscribe", {{"channel", ch}});
    t.call(alice, "capped", "subscribe", {{"channel", "c"}});
    EXPECT_EQ(alice->last().at("message"), "Too many channels");
}

TEST_F(PubSubTest, BackendOnlyPolicyRefusesClientsButNotTheBackend) {
    auto frontend = std::make_shared<PubSubService>("announcements", PubSubService::Options{false, 10});
    auto backend = std::make_shared<PubSubBackend>("announcements_backend", *frontend);
    t.registry.registerService(frontend);
    t.registry.registerService(backend);
    t.call(alice, "announcements", "subscribe", {{"channel", "c"}});
    alice->frames.clear();
    t.call(bob, "announcements", "publish", {{"channel", "c"}, {"message", "x"}});
    EXPECT_EQ(bob->last().at("message"), "Not authorized");
    EXPECT_TRUE(alice->frames.empty());
    auto server = FakeClient::make();
    t.call(server, "announcements_backend", "publish", {{"channel", "c"}, {"message", "x"}});
    EXPECT_EQ(server->last().at("data"), nullptr);
    EXPECT_EQ(alice->last(), json::parse(R"({"type":"message","channel":"c","message":"x"})"));
}

namespace {
class OwnChannelOnly : public PubSubService {
public:
    using PubSubService::PubSubService;
protected:
    bool canPublish(const ClientPtr& client, const json::value& channel) override {
        return client->identity() == channel;
    }
};
}  // namespace

TEST_F(PubSubTest, PublishPolicyCanBeOverridden) {
    t.registry.registerService(std::make_shared<OwnChannelOnly>("own"));
    alice->setIdentity("alice");
    t.call(alice, "own", "publish", {{"channel", "alice"}, {"message", 1}});
    EXPECT_EQ(alice->last().at("type"), "response");
    t.call(alice, "own", "publish", {{"channel", "bob"}, {"message", 1}});
    EXPECT_EQ(alice->last().at("message"), "Not authorized");
}
