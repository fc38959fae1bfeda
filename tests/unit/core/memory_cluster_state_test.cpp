// Expiry in the memory engine's cluster state, and the grace after an engine
// reconnect, on a hand-driven clock: exact to the millisecond, no sleeping.
#include <gtest/gtest.h>

#include "support/fake_client.hpp"
#include "support/reconnecting_cluster_state.hpp"

using namespace snorky;
using namespace snorky::testing;
using namespace std::chrono_literals;

namespace {
using R = ClusterState::Result;
using Fields = std::map<std::string, std::string>;

struct MemoryClusterStateExpiry : ::testing::Test {
    TestNode t;
    ClusterState& state() { return t.node.cluster(); }
    void advance(std::chrono::milliseconds by) { t.timers.advance(by); }

    // MemoryClusterState answers before returning.
    R claim(const std::string& key, const std::string& value, std::chrono::milliseconds ttl) {
        R out = R::Unavailable;
        state().claimKey(key, value, ttl, [&](R r) { out = r; });
        return out;
    }
    std::pair<R, std::string> read(const std::string& key) {
        std::pair<R, std::string> out{R::Unavailable, ""};
        state().readKey(key, [&](R r, const std::string& v) { out = {r, v}; });
        return out;
    }
    std::vector<std::string> list(const std::string& prefix) {
        std::vector<std::string> out;
        state().listKeys(prefix, [&](R, std::vector<std::string> keys) { out = std::move(keys); });
        return out;
    }
    Fields map(const std::string& key) {
        Fields out;
        state().mapRead(key, [&](R, Fields f) { out = std::move(f); });
        return out;
    }
};
}  // namespace

TEST_F(MemoryClusterStateExpiry, AKeyLivesExactlyItsTtl) {
    EXPECT_EQ(claim("k", "n1", 1000ms), R::Ok);
    advance(999ms);
    EXPECT_EQ(read("k"), std::make_pair(R::Ok, std::string("n1")));
    EXPECT_EQ(claim("k", "n2", 1000ms), R::Taken);
    advance(1ms);
    EXPECT_EQ(read("k").first, R::Missing);
    EXPECT_EQ(claim("k", "n2", 1000ms), R::Ok);  // free again
    EXPECT_EQ(read("k").second, "n2");
}

TEST_F(MemoryClusterStateExpiry, RefreshExtendsFromNow) {
    claim("k", "n1", 1000ms);
    advance(800ms);
    state().refreshKey("k", "n1", 1000ms);  // now until 1800 ms
    advance(999ms);
    EXPECT_EQ(read("k").first, R::Ok);
    advance(1ms);
    EXPECT_EQ(read("k").first, R::Missing);
}

TEST_F(MemoryClusterStateExpiry, RefreshingAnotherOwnersKeyNeitherStealsNorExtendsIt) {
    claim("k", "n1", 1000ms);
    advance(500ms);
    state().refreshKey("k", "n2", 10s);
    EXPECT_EQ(read("k").second, "n1");
    advance(500ms);
    EXPECT_EQ(read("k").first, R::Missing);
}

TEST_F(MemoryClusterStateExpiry, RefreshSetsAnExpiredKeyAgain) {
    claim("k", "n1", 1000ms);
    advance(5s);
    state().refreshKey("k", "n2", 1000ms);  // n1 died; n2 may take the key over
    EXPECT_EQ(read("k"), std::make_pair(R::Ok, std::string("n2")));
    advance(1000ms);
    EXPECT_EQ(read("k").first, R::Missing);
}

TEST_F(MemoryClusterStateExpiry, ReleaseIsTheOwnersOnlyAndAnExpiredKeyStaysGone) {
    claim("k", "n1", 1000ms);
    state().releaseKey("k", "n2");
    EXPECT_EQ(read("k").second, "n1");
    state().releaseKey("k", "n1");
    EXPECT_EQ(read("k").first, R::Missing);
    claim("k", "n1", 1000ms);
    advance(1000ms);
    state().releaseKey("k", "n1");  // nothing to release: harmless
    EXPECT_EQ(read("k").first, R::Missing);
}

TEST_F(MemoryClusterStateExpiry, ListingSkipsExpiredKeys) {
    claim("p:a", "n", 1000ms);
    claim("p:b", "n", 2000ms);
    claim("q:c", "n", 2000ms);
    EXPECT_EQ(list("p:"), (std::vector<std::string>{"p:a", "p:b"}));
    advance(1000ms);
    EXPECT_EQ(list("p:"), std::vector<std::string>{"p:b"});
    advance(1000ms);
    EXPECT_TRUE(list("p:").empty());
}

TEST_F(MemoryClusterStateExpiry, ExpiredKeysNobodyAsksForAreSweptByLaterClaims) {
    auto& memory = dynamic_cast<MemoryClusterState&>(state());
    for (int i = 0; i < 100; ++i) claim("old:" + std::to_string(i), "n", 1000ms);
    advance(1000ms);
    for (int i = 0; i < 923; ++i) claim("new:" + std::to_string(i), "n", 10s);
    EXPECT_EQ(memory.keyCount(), 1023u);  // expired, but held until looked at
    claim("new:last", "n", 10s);          // the 1024th claim sweeps
    EXPECT_EQ(memory.keyCount(), 924u);
}

TEST_F(MemoryClusterStateExpiry, AMapExpiresAsAWholeTtlAfterItsLastSet) {
    state().mapSet("m", "a", "1", 1000ms);
    advance(600ms);
    state().mapSet("m", "b", "2", 1000ms);  // the whole map now lives until 1600 ms, "a" included
    advance(999ms);
    EXPECT_EQ(map("m"), (Fields{{"a", "1"}, {"b", "2"}}));
    advance(1ms);
    EXPECT_TRUE(map("m").empty());
}

TEST_F(MemoryClusterStateExpiry, ASetOnAnExpiredMapStartsItAfresh) {
    state().mapSet("m", "a", "1", 1000ms);
    advance(1000ms);
    state().mapSet("m", "b", "2", 1000ms);  // "a" expired with the map: not revived
    EXPECT_EQ(map("m"), (Fields{{"b", "2"}}));
    bool done = false;
    state().mapSet("m", "c", "3", 1000ms, [&](R r) { done = r == R::Ok; });
    EXPECT_TRUE(done);
}

TEST_F(MemoryClusterStateExpiry, TimersSeeTheClockAtTheirDueTime) {
    // Expiry checked from a timer, as the services' heartbeats do.
    claim("k", "n1", 1000ms);
    std::vector<R> seen;
    std::function<void()> check = [&] {
        seen.push_back(read("k").first);
        if (seen.size() < 3) t.timers.schedule(500ms, check);
    };
    t.timers.schedule(500ms, check);
    advance(10s);  // fires at 500, 1000 and 1500 ms
    EXPECT_EQ(seen, (std::vector<R>{R::Ok, R::Missing, R::Missing}));
}

TEST(MemoryClusterStateClock, UnattachedItUsesTheRealClock) {
    MemoryClusterState state;
    R result = R::Unavailable;
    state.claimKey("k", "v", 60s, [&](R r) { result = r; });
    EXPECT_EQ(result, R::Ok);
    state.readKey("k", [&](R r, const std::string&) { result = r; });
    EXPECT_EQ(result, R::Ok);  // a minute of real time has not passed
}

// ---- ReconnectGrace ----

namespace {
// An engine whose connection epoch the test sets (the Redis engine counts its connections).
struct EpochState : ReconnectingClusterState {
    EpochState() { epoch = 0; }
};
const std::chrono::steady_clock::time_point kStart{std::chrono::hours(1)};
}  // namespace

TEST(ReconnectGrace, NoGraceWithoutAReconnect) {
    EpochState broker;
    ReconnectGrace grace;
    grace.observe(broker, kStart, 3s);  // the memory engine: epoch 0 forever
    EXPECT_FALSE(grace.active(kStart));
    broker.epoch = 1;  // the first connection lost nothing
    grace.observe(broker, kStart, 3s);
    EXPECT_FALSE(grace.active(kStart));
}

TEST(ReconnectGrace, AReconnectGivesOneTtlFromWhenItIsObserved) {
    EpochState broker;
    ReconnectGrace grace;
    broker.epoch = 1;
    grace.observe(broker, kStart, 3s);
    broker.epoch = 2;
    grace.observe(broker, kStart + 1s, 3s);
    EXPECT_TRUE(grace.active(kStart + 1s));
    EXPECT_TRUE(grace.active(kStart + 4s - 1ms));
    EXPECT_FALSE(grace.active(kStart + 4s));
    // Observing the same epoch again does not extend it.
    grace.observe(broker, kStart + 3s, 3s);
    EXPECT_FALSE(grace.active(kStart + 4s));
}

TEST(ReconnectGrace, EveryReconnectStartsAnotherGrace) {
    EpochState broker;
    ReconnectGrace grace;
    broker.epoch = 2;  // first seen after a reconnect already happened
    grace.observe(broker, kStart, 3s);
    EXPECT_TRUE(grace.active(kStart));
    EXPECT_FALSE(grace.active(kStart + 3s));
    broker.epoch = 3;
    grace.observe(broker, kStart + 10s, 3s);
    EXPECT_TRUE(grace.active(kStart + 12s));
    EXPECT_FALSE(grace.active(kStart + 13s));
}
