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

    FramePtr publishWithHistory(const std::string& topic, const std::string& text, const Client* sender = nullptr,
                                std::size_t size = 100) {
        FramePtr frame = Frame::text(text);
        std::lock_guard guard(node->serviceLock());
        node->broker().publishWithHistory(topic, frame, sender, HistoryOptions{size, std::chrono::seconds(60)}, nullptr);
        return frame;
    }
    // readHistory, waiting for its answer (the Redis engine answers from its thread).
    std::optional<HistoryRead> readHistory(const std::string& topic, std::optional<std::uint64_t> after,
                                           std::size_t limit, std::size_t size = 100) {
        std::mutex mutex;
        std::condition_variable answered;
        bool done = false;
        std::optional<HistoryRead> result;
        {
            std::lock_guard guard(node->serviceLock());
            node->broker().readHistory(topic, HistoryOptions{size, std::chrono::seconds(60)}, after, limit,
                                       [&](std::optional<HistoryRead> read) {
                                           std::lock_guard lock(mutex);
                                           result = std::move(read);
                                           done = true;
                                           answered.notify_all();
                                       });
        }
        std::unique_lock lock(mutex);
        EXPECT_TRUE(answered.wait_for(lock, std::chrono::seconds(5), [&] { return done; }));
        return result;
    }
    static std::vector<std::uint64_t> offsetsOf(const HistoryRead& read) {
        std::vector<std::uint64_t> out;
        for (const HistoryEntry& e : read.entries) out.push_back(e.offset);
        return out;
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

// History: numbered in order, the sender and the frame kept for this node's
// listener; with Redis they come back from Redis (after publishWithHistory
// returned), in offset order.
TYPED_TEST(BrokerBehaviour, HistoryNumbersInOrderAndNamesTheSender) {
    RecordingListener listener;
    this->subscribe("h", listener);
    auto alice = FakeClient::make();
    std::vector<FramePtr> sent;
    for (int i = 0; i < 200; ++i)
        sent.push_back(this->publishWithHistory("h", std::to_string(i), i == 7 ? alice.get() : nullptr));
    ASSERT_TRUE(listener.waitFor(200));
    auto origins = listener.origins();
    auto frames = listener.frames();
    for (std::size_t i = 0; i < 200; ++i) {
        EXPECT_EQ(origins[i].offset, i + 1);
        EXPECT_TRUE(origins[i].local);
        EXPECT_EQ(origins[i].sender, i == 7 ? alice.get() : nullptr);
        EXPECT_EQ(frames[i].get(), sent[i].get());  // this node's own frame, not a copy
    }
    EXPECT_TRUE(origins[7].isSender(alice.get()));
}

TYPED_TEST(BrokerBehaviour, HistoryReadsWhatIsHeld) {
    // A read of an unknown topic makes its stream: offset 0, an epoch.
    auto empty = this->readHistory("r", std::nullopt, 10, 3);
    ASSERT_TRUE(empty);
    EXPECT_EQ(empty->position.offset, 0u);
    EXPECT_FALSE(empty->position.epoch.empty());
    EXPECT_TRUE(empty->complete);
    EXPECT_TRUE(empty->entries.empty());
    for (int i = 1; i <= 5; ++i) this->publishWithHistory("r", "m" + std::to_string(i), nullptr, 3);
    // Without a listener the publish is not waited for: poll until the stream has them.
    std::optional<HistoryRead> all;
    ASSERT_TRUE(waitUntil([&] {
        all = this->readHistory("r", std::nullopt, 10, 3);
        return all && all->position.offset == 5;
    }));
    EXPECT_EQ(all->position.epoch, empty->position.epoch);
    EXPECT_EQ(this->offsetsOf(*all), (std::vector<std::uint64_t>{3, 4, 5}));  // size 3: the last three
    EXPECT_EQ(all->entries[0].frame->payload(), "m3");
    auto newest = this->readHistory("r", std::nullopt, 2, 3);
    EXPECT_EQ(this->offsetsOf(*newest), (std::vector<std::uint64_t>{4, 5}));
    auto after2 = this->readHistory("r", 2, 10, 3);
    EXPECT_TRUE(after2->complete);
    EXPECT_EQ(this->offsetsOf(*after2), (std::vector<std::uint64_t>{3, 4, 5}));
    auto after3limit1 = this->readHistory("r", 3, 1, 3);
    EXPECT_TRUE(after3limit1->complete);
    EXPECT_EQ(this->offsetsOf(*after3limit1), (std::vector<std::uint64_t>{4}));
    auto after1 = this->readHistory("r", 1, 10, 3);  // 2 is gone
    EXPECT_FALSE(after1->complete);
    auto atTop = this->readHistory("r", 5, 10, 3);
    EXPECT_TRUE(atTop->complete);
    EXPECT_TRUE(atTop->entries.empty());
    for (std::uint64_t beyond : {std::uint64_t{6}, std::uint64_t{18446744073709551615ULL}}) {
        auto read = this->readHistory("r", beyond, 10, 3);
        ASSERT_TRUE(read);
        EXPECT_FALSE(read->complete);
        EXPECT_TRUE(read->entries.empty());
    }
    // Without history: nothing to read.
    EXPECT_FALSE(this->readHistory("r", std::nullopt, 10, 0));
}

}  // namespace snorky::testing
