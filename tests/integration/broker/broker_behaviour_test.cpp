// One behaviour suite over every Broker: what a node sees of its broker must
// not depend on the engine (MemoryBroker, RedisBroker on a private
// redis-server). Cross-node behaviour of the Redis engine is in
// redis_cluster_test.cpp.
#include <gtest/gtest.h>

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <tuple>

#include "support/fake_client.hpp"
#include "support/recording_listener.hpp"
#include "support/redis_process.hpp"
#include "support/wait_until.hpp"
#include "snorky/redis_broker.hpp"
#include "snorky/services/pubsub.hpp"

namespace snorky::testing {

using it::RecordingListener;

struct MemoryEngine {
    static const char* missing() { return nullptr; }
    std::unique_ptr<Broker> make() { return std::make_unique<MemoryBroker>(); }
    json::object expectedHealth() { return {{"engine", "memory"}}; }
};

struct RedisEngine {
    static const char* missing() { return it::RedisProcess::available() ? nullptr : "redis-server is not installed"; }
    std::unique_ptr<Broker> make() {
        redis = std::make_unique<it::RedisProcess>();
        return std::make_unique<RedisBroker>(RedisBrokerOptions::fromUrl(redis->url()));
    }
    json::object expectedHealth() { return {{"engine", "redis"}, {"redis", "connected"}}; }
    std::unique_ptr<it::RedisProcess> redis;
};

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

using Engines = ::testing::Types<MemoryEngine, RedisEngine>;
struct EngineNames {
    template <class T>
    static std::string GetName(int) {
        return std::is_same_v<T, MemoryEngine> ? "Memory" : "Redis";
    }
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

// ---- cluster state ----

namespace snorky::testing {

// Runs one cluster-state call the way a service does (lock held) and waits
// for its callback, which may come during the call or later.
template <class Result>
class Awaited {
public:
    auto callback() {
        return [state = state_](auto... values) {
            std::lock_guard guard(state->mutex);
            state->result = Result{values...};
            state->done.notify_all();
        };
    }
    std::optional<Result> wait(std::chrono::milliseconds timeout = std::chrono::milliseconds(3000)) {
        std::unique_lock lock(state_->mutex);
        state_->done.wait_for(lock, timeout, [&] { return state_->result.has_value(); });
        return state_->result;
    }

private:
    struct State {
        std::mutex mutex;
        std::condition_variable done;
        std::optional<Result> result;
    };
    std::shared_ptr<State> state_ = std::make_shared<State>();
};

using R = Broker::Result;
struct Read {
    R result;
    std::string value;
};
struct Listed {
    R result;
    std::vector<std::string> keys;
};

template <class Engine>
class ClusterState : public BrokerBehaviour<Engine> {
protected:
    Broker& broker() { return this->node->broker(); }
    R claim(const std::string& key, const std::string& value, std::chrono::milliseconds ttl = std::chrono::seconds(30)) {
        Awaited<std::tuple<R>> a;
        {
            std::lock_guard guard(this->node->serviceLock());
            broker().claimKey(key, value, ttl, a.callback());
        }
        auto r = a.wait();
        return r ? std::get<0>(*r) : R::Unavailable;
    }
    void refresh(const std::string& key, const std::string& value, std::chrono::milliseconds ttl) {
        std::lock_guard guard(this->node->serviceLock());
        broker().refreshKey(key, value, ttl);
    }
    void release(const std::string& key, const std::string& value) {
        std::lock_guard guard(this->node->serviceLock());
        broker().releaseKey(key, value);
    }
    // Reads are queued after earlier refresh/release calls, so they see them.
    Read read(const std::string& key) {
        Awaited<std::tuple<R, std::string>> a;
        {
            std::lock_guard guard(this->node->serviceLock());
            broker().readKey(key, [cb = a.callback()](R r, const std::string& v) { cb(r, v); });
        }
        auto r = a.wait();
        return r ? Read{std::get<0>(*r), std::get<1>(*r)} : Read{R::Unavailable, ""};
    }
    Listed list(const std::string& prefix) {
        Awaited<std::tuple<R, std::vector<std::string>>> a;
        {
            std::lock_guard guard(this->node->serviceLock());
            broker().listKeys(prefix, [cb = a.callback()](R r, std::vector<std::string> keys) { cb(r, std::move(keys)); });
        }
        auto r = a.wait();
        return r ? Listed{std::get<0>(*r), std::get<1>(*r)} : Listed{R::Unavailable, {}};
    }
};
TYPED_TEST_SUITE(ClusterState, Engines, EngineNames);

TYPED_TEST(ClusterState, MapsSetDeleteReadAndExpireAsAWhole) {
    using namespace std::chrono_literals;
    using Fields = std::map<std::string, std::string>;
    auto read = [this](const std::string& key) {
        Awaited<std::tuple<R, Fields>> a;
        {
            std::lock_guard guard(this->node->serviceLock());
            this->broker().mapRead(key, [cb = a.callback()](R r, Fields f) { cb(r, std::move(f)); });
        }
        auto r = a.wait();
        EXPECT_TRUE(r.has_value());
        return r ? std::get<1>(*r) : Fields{};
    };
    auto set = [this](const std::string& key, const std::string& field, const std::string& value,
                      std::chrono::milliseconds ttl) {
        std::lock_guard guard(this->node->serviceLock());
        this->broker().mapSet(key, field, value, ttl);
    };
    set("room", "alice", "1", 5000ms);
    set("room", "bob", "2", 5000ms);
    set("room", "alice", "3", 5000ms);
    EXPECT_EQ(read("room"), (Fields{{"alice", "3"}, {"bob", "2"}}));
    {
        std::lock_guard guard(this->node->serviceLock());
        this->broker().mapDelete("room", "bob");
    }
    EXPECT_EQ(read("room"), (Fields{{"alice", "3"}}));
    EXPECT_TRUE(read("empty").empty());
    set("short", "x", "1", 150ms);
    EXPECT_TRUE(waitUntil([&] { return read("short").empty(); }));
}

TYPED_TEST(ClusterState, ClaimIsExclusiveUntilTheOwnerReleases) {
    EXPECT_EQ(this->claim("names:alice", "n1"), R::Ok);
    EXPECT_EQ(this->claim("names:alice", "n2"), R::Taken);
    this->release("names:alice", "n2");  // not the owner: nothing happens
    EXPECT_EQ(this->read("names:alice").value, "n1");
    this->release("names:alice", "n1");
    EXPECT_EQ(this->read("names:alice").result, R::Missing);
    EXPECT_EQ(this->claim("names:alice", "n2"), R::Ok);
    EXPECT_EQ(this->read("names:alice").value, "n2");
}

TYPED_TEST(ClusterState, KeysExpireUnlessRefreshed) {
    using namespace std::chrono_literals;
    // (Exact expiry times are unit-tested on a manual clock; here, that both engines expire.)
    EXPECT_EQ(this->claim("kept", "n1", 300ms), R::Ok);
    EXPECT_EQ(this->claim("dropped", "n1", 300ms), R::Ok);
    this->refresh("kept", "n1", 60000ms);
    EXPECT_TRUE(waitUntil([&] { return this->read("dropped").result == R::Missing; }));
    EXPECT_EQ(this->read("kept").result, R::Ok);
    EXPECT_EQ(this->claim("dropped", "n2"), R::Ok);  // free again
}

TYPED_TEST(ClusterState, RefreshRecreatesAVanishedKeyButNeverStealsOne) {
    using namespace std::chrono_literals;
    this->refresh("mine", "n1", 5000ms);  // e.g. Redis restarted empty
    EXPECT_EQ(this->read("mine").value, "n1");
    EXPECT_EQ(this->claim("theirs", "n2"), R::Ok);
    this->refresh("theirs", "n1", 5000ms);
    EXPECT_EQ(this->read("theirs").value, "n2");
}

TYPED_TEST(ClusterState, ListsLiveKeysByPrefixSorted) {
    using namespace std::chrono_literals;
    for (const char* key : {"m:b", "m:a", "m:*x", "n:c", "m"}) EXPECT_EQ(this->claim(key, "v"), R::Ok);
    EXPECT_EQ(this->claim("m:gone", "v", 100ms), R::Ok);
    const std::vector<std::string> live{"m:*x", "m:a", "m:b"};
    EXPECT_TRUE(waitUntil([&] { return this->list("m:").keys == live; }));  // once m:gone expired
    EXPECT_EQ(this->list("m:").result, R::Ok);
    // Glob characters in the prefix are literal.
    EXPECT_EQ(this->list("m:*").keys, std::vector<std::string>{"m:*x"});
    EXPECT_TRUE(this->list("zzz").keys.empty());
}

}  // namespace snorky::testing
