// One behaviour suite over every Broker: what a node sees of its pub/sub
// must not depend on the engine (MemoryBroker, RedisBroker on a private
// redis-server). The cluster state has its own suite
// (cluster_state_behaviour_test.cpp); cross-node behaviour of the Redis
// engine is in redis_cluster_test.cpp.
#include <gtest/gtest.h>

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <tuple>

#include "snorky/engines/redis_broker.hpp"
#include "snorky/services/pubsub.hpp"
#include "support/engines.hpp"
#include "support/fake_client.hpp"
#include "support/recording_listener.hpp"
#include "support/redis_process.hpp"
#include "support/wait_until.hpp"

namespace snorky::testing {

using it::RecordingListener;

template <class Engine>
class BrokerBehaviour : public ::testing::Test {
protected:
    void SetUp() override {
        if (const char* why = Engine::missing()) GTEST_SKIP() << why;
        node = std::make_unique<Node>(engine.make(), timers);
        registry = std::make_unique<ServiceRegistry>("frontend", *node);
    }
    void TearDown() override {
        if (!node) return;
        node->broker().close();
        node->cluster().close();
        registry.reset();
        node.reset();
    }
    // Broker calls are made with the service lock held, as services do.
    void subscribe(const std::string& topic, BrokerListener& listener) {
        std::lock_guard guard(node->serviceLock());
        node->broker().subscribe(topic, &listener);
    }
    void unsubscribe(const std::string& topic) {
        std::lock_guard guard(node->serviceLock());
        node->broker().unsubscribe(topic);
    }
    FramePtr publish(const std::string& topic, const std::string& text, const Client* sender = nullptr) {
        FramePtr frame = Frame::text(text);
        std::lock_guard guard(node->serviceLock());
        node->broker().publish(topic, frame, sender);
        return frame;
    }

    Engine engine;  // outlives the node (the Redis engine owns its server)
    ManualTimers timers;
    std::unique_ptr<Node> node;
    std::unique_ptr<ServiceRegistry> registry;
};

TYPED_TEST_SUITE(BrokerBehaviour, Engines, EngineNames);

TYPED_TEST(BrokerBehaviour, DeliversToTheLocalListenerBeforePublishReturns) {
    RecordingListener listener;
    this->subscribe("pubsub:a", listener);
    this->publish("pubsub:a", "hello");
    // Synchronous, whatever the engine: local clients never wait for Redis.
    auto got = listener.received();
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].first, "pubsub:a");
    EXPECT_EQ(got[0].second, "hello");
}

TYPED_TEST(BrokerBehaviour, LocalDeliverySharesTheFrame) {
    RecordingListener listener;
    this->subscribe("t", listener);
    FramePtr sent = this->publish("t", "{\"x\":1}");
    ASSERT_EQ(listener.frames().size(), 1u);
    EXPECT_EQ(listener.frames()[0].get(), sent.get());  // the same bytes, not a copy
}

TYPED_TEST(BrokerBehaviour, LocalDeliveryNamesTheSender) {
    RecordingListener listener;
    this->subscribe("t", listener);
    auto alice = FakeClient::make();
    this->publish("t", "1", alice.get());
    this->publish("t", "2");
    auto origins = listener.origins();
    ASSERT_EQ(origins.size(), 2u);
    EXPECT_TRUE(origins[0].local);
    EXPECT_TRUE(origins[0].isSender(alice.get()));
    EXPECT_TRUE(origins[1].local);
    EXPECT_EQ(origins[1].sender, nullptr);
    EXPECT_FALSE(origins[1].isSender(nullptr));  // "no sender" excludes nobody
}

TYPED_TEST(BrokerBehaviour, OnlyTheTopicsListenerReceives) {
    RecordingListener a, b;
    this->subscribe("a", a);
    this->subscribe("b", b);
    this->publish("a", "1");
    this->publish("nobody", "2");
    EXPECT_EQ(a.received().size(), 1u);
    EXPECT_TRUE(b.received().empty());
}

TYPED_TEST(BrokerBehaviour, UnsubscribeEndsDelivery) {
    RecordingListener listener;
    this->subscribe("t", listener);
    this->publish("t", "1");
    this->unsubscribe("t");
    this->publish("t", "2");
    this->unsubscribe("t");  // a second unsubscribe is harmless
    auto got = listener.received();
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].second, "1");
}

TYPED_TEST(BrokerBehaviour, OneListenerPerTopicTheLastSubscribeWins) {
    RecordingListener first, second;
    this->subscribe("t", first);
    this->subscribe("t", second);
    this->publish("t", "1");
    EXPECT_TRUE(first.received().empty());
    EXPECT_EQ(second.received().size(), 1u);
}

TYPED_TEST(BrokerBehaviour, KeepsPublishOrder) {
    RecordingListener listener;
    this->subscribe("t", listener);
    for (int i = 0; i < 500; ++i) this->publish("t", std::to_string(i));
    auto got = listener.received();
    ASSERT_EQ(got.size(), 500u);
    for (int i = 0; i < 500; ++i) EXPECT_EQ(got[i].second, std::to_string(i));
}

TYPED_TEST(BrokerBehaviour, HealthNamesTheEngine) {
    EXPECT_EQ(this->node->broker().health(), this->engine.expectedHealth());
}

TYPED_TEST(BrokerBehaviour, PubSubServiceFansOutOnce) {
    this->registry->registerService(std::make_shared<PubSubService>("pubsub"));
    auto alice = FakeClient::make(), bob = FakeClient::make(), carol = FakeClient::make();
    auto call = [&](const ClientPtr& c, const char* command, json::object params) {
        json::object message{{"command", command}, {"params", std::move(params)}, {"callId", 1}};
        this->registry->processMessage(c, serializeEnvelope("pubsub", message));
    };
    call(alice, "subscribe", {{"channel", "news"}});
    call(bob, "subscribe", {{"channel", "news"}});
    call(carol, "subscribe", {{"channel", "other"}});
    for (auto* c : {alice.get(), bob.get(), carol.get()}) c->messages();
    call(carol, "publish", {{"channel", "news"}, {"message", 42}});
    auto a = alice->messages(), b = bob->messages();
    ASSERT_EQ(a.size(), 1u);
    ASSERT_EQ(b.size(), 1u);
    EXPECT_EQ(a[0], (json::value{{"type", "message"}, {"channel", "news"}, {"message", 42}}));
    // carol got only her reply, nothing on "news"
    auto c = carol->messages();
    ASSERT_EQ(c.size(), 1u);
    EXPECT_EQ(c[0].at("type"), "response");

    this->registry->clientDisconnected(alice);
    call(carol, "publish", {{"channel", "news"}, {"message", 43}});
    EXPECT_TRUE(alice->messages().empty());
    EXPECT_EQ(bob->messages().size(), 1u);
}

}  // namespace snorky::testing
