// One behaviour suite over every ClusterState: claimed keys, expiry, shared
// maps and listing must not depend on the engine (memory, or Redis on a
// private redis-server). Exact expiry times are unit-tested on a manual clock
// (tests/unit/core/memory_cluster_state_test.cpp).
#include <gtest/gtest.h>

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <tuple>

#include "support/engines.hpp"
#include "support/fake_client.hpp"
#include "support/wait_until.hpp"

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

using R = ClusterState::Result;
struct Read {
    R result;
    std::string value;
};
struct Listed {
    R result;
    std::vector<std::string> keys;
};

template <class Engine>
class ClusterStateBehaviour : public ::testing::Test {
protected:
    void SetUp() override {
        if (const char* why = Engine::missing()) GTEST_SKIP() << why;
        node = std::make_unique<Node>(engine.make(), timers);
    }
    void TearDown() override {
        if (!node) return;
        node->broker().close();
        node->cluster().close();
        node.reset();
    }
    ClusterState& state() { return node->cluster(); }
    R claim(const std::string& key, const std::string& value, std::chrono::milliseconds ttl = std::chrono::seconds(30)) {
        Awaited<std::tuple<R>> a;
        {
            std::lock_guard guard(this->node->serviceLock());
            state().claimKey(key, value, ttl, a.callback());
        }
        auto r = a.wait();
        return r ? std::get<0>(*r) : R::Unavailable;
    }
    void refresh(const std::string& key, const std::string& value, std::chrono::milliseconds ttl) {
        std::lock_guard guard(this->node->serviceLock());
        state().refreshKey(key, value, ttl);
    }
    void release(const std::string& key, const std::string& value) {
        std::lock_guard guard(this->node->serviceLock());
        state().releaseKey(key, value);
    }
    // Reads are queued after earlier refresh/release calls, so they see them.
    Read read(const std::string& key) {
        Awaited<std::tuple<R, std::string>> a;
        {
            std::lock_guard guard(this->node->serviceLock());
            state().readKey(key, [cb = a.callback()](R r, const std::string& v) { cb(r, v); });
        }
        auto r = a.wait();
        return r ? Read{std::get<0>(*r), std::get<1>(*r)} : Read{R::Unavailable, ""};
    }
    Listed list(const std::string& prefix) {
        Awaited<std::tuple<R, std::vector<std::string>>> a;
        {
            std::lock_guard guard(this->node->serviceLock());
            state().listKeys(prefix, [cb = a.callback()](R r, std::vector<std::string> keys) { cb(r, std::move(keys)); });
        }
        auto r = a.wait();
        return r ? Listed{std::get<0>(*r), std::get<1>(*r)} : Listed{R::Unavailable, {}};
    }

    Engine engine;  // outlives the node (the Redis engine owns its server)
    ManualTimers timers;
    std::unique_ptr<Node> node;
};
TYPED_TEST_SUITE(ClusterStateBehaviour, Engines, EngineNames);

TYPED_TEST(ClusterStateBehaviour, MapsSetDeleteReadAndExpireAsAWhole) {
    using namespace std::chrono_literals;
    using Fields = std::map<std::string, std::string>;
    auto read = [this](const std::string& key) {
        Awaited<std::tuple<R, Fields>> a;
        {
            std::lock_guard guard(this->node->serviceLock());
            this->state().mapRead(key, [cb = a.callback()](R r, Fields f) { cb(r, std::move(f)); });
        }
        auto r = a.wait();
        EXPECT_TRUE(r.has_value());
        return r ? std::get<1>(*r) : Fields{};
    };
    auto set = [this](const std::string& key, const std::string& field, const std::string& value,
                      std::chrono::milliseconds ttl) {
        std::lock_guard guard(this->node->serviceLock());
        this->state().mapSet(key, field, value, ttl);
    };
    set("room", "alice", "1", 5000ms);
    set("room", "bob", "2", 5000ms);
    set("room", "alice", "3", 5000ms);
    EXPECT_EQ(read("room"), (Fields{{"alice", "3"}, {"bob", "2"}}));
    {
        std::lock_guard guard(this->node->serviceLock());
        this->state().mapDelete("room", "bob");
    }
    EXPECT_EQ(read("room"), (Fields{{"alice", "3"}}));
    EXPECT_TRUE(read("empty").empty());
    set("short", "x", "1", 150ms);
    EXPECT_TRUE(waitUntil([&] { return read("short").empty(); }));
}

TYPED_TEST(ClusterStateBehaviour, ClaimIsExclusiveUntilTheOwnerReleases) {
    EXPECT_EQ(this->claim("names:alice", "n1"), R::Ok);
    EXPECT_EQ(this->claim("names:alice", "n2"), R::Taken);
    this->release("names:alice", "n2");  // not the owner: nothing happens
    EXPECT_EQ(this->read("names:alice").value, "n1");
    this->release("names:alice", "n1");
    EXPECT_EQ(this->read("names:alice").result, R::Missing);
    EXPECT_EQ(this->claim("names:alice", "n2"), R::Ok);
    EXPECT_EQ(this->read("names:alice").value, "n2");
}

TYPED_TEST(ClusterStateBehaviour, KeysExpireUnlessRefreshed) {
    using namespace std::chrono_literals;
    // (Exact expiry times are unit-tested on a manual clock; here, that both engines expire.)
    EXPECT_EQ(this->claim("kept", "n1", 300ms), R::Ok);
    EXPECT_EQ(this->claim("dropped", "n1", 300ms), R::Ok);
    this->refresh("kept", "n1", 60000ms);
    EXPECT_TRUE(waitUntil([&] { return this->read("dropped").result == R::Missing; }));
    EXPECT_EQ(this->read("kept").result, R::Ok);
    EXPECT_EQ(this->claim("dropped", "n2"), R::Ok);  // free again
}

TYPED_TEST(ClusterStateBehaviour, RefreshRecreatesAVanishedKeyButNeverStealsOne) {
    using namespace std::chrono_literals;
    this->refresh("mine", "n1", 5000ms);  // e.g. Redis restarted empty
    EXPECT_EQ(this->read("mine").value, "n1");
    EXPECT_EQ(this->claim("theirs", "n2"), R::Ok);
    this->refresh("theirs", "n1", 5000ms);
    EXPECT_EQ(this->read("theirs").value, "n2");
}

TYPED_TEST(ClusterStateBehaviour, ListsLiveKeysByPrefixSorted) {
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
