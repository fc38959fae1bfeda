// ClusterPresence against the memory engine, with hand-driven timers that are
// also the node's clock: refresh, expiry, the sweep of a dead node's members
// and the grace after a reconnect, to the millisecond and without sleeping.
#include "snorky/services/cluster_presence.hpp"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "support/fake_client.hpp"
#include "support/reconnecting_cluster_state.hpp"

using namespace snorky;
using namespace snorky::testing;
using namespace std::chrono_literals;

namespace {
// "<member>|<node>" = "<expires>"; the member is its own data.
class TestLayout final : public ClusterPresence::Layout {
public:
    std::string field(const ClusterPresence::Entry& e) const override { return e.member + "|" + e.node; }
    std::string value(const ClusterPresence::Entry& e) const override { return std::to_string(e.expires); }
    std::optional<ClusterPresence::Entry> parse(const std::string& field, const std::string& value) const override {
        auto cut = field.find('|');
        if (cut == std::string::npos || value.empty()) return std::nullopt;
        std::string member = field.substr(0, cut);
        return ClusterPresence::Entry{member, field.substr(cut + 1), std::stoll(value), json::string(member)};
    }
};

struct ClusterPresenceTest : ::testing::Test {
    TestNode t{Engine{nullptr, std::make_unique<ReconnectingClusterState>()}};
    ClusterPresence presence{"p:", 3000ms, std::make_unique<TestLayout>()};
    std::vector<std::pair<std::string, std::string>> gone;       // (room, member)
    std::vector<std::pair<std::string, std::string>> refreshed;  // (room, member)

    void SetUp() override {
        presence.start(
            t.node, [this](const std::string& room, const std::string& member, const json::value& data) {
                EXPECT_EQ(data, json::string(member));
                gone.emplace_back(room, member);
            },
            [this](const std::string& room, const std::string& member) { refreshed.emplace_back(room, member); });
    }
    ReconnectingClusterState& engine() { return dynamic_cast<ReconnectingClusterState&>(t.node.cluster()); }
    MemoryClusterState& state() { return engine(); }
    std::int64_t millis(std::chrono::milliseconds fromNow = {}) {
        return std::chrono::duration_cast<std::chrono::milliseconds>((t.timers.wallNow() + fromNow).time_since_epoch())
            .count();
    }
    // What another node writes for one of its members, valid `expiresIn` from now.
    void remote(const std::string& member, const std::string& node, std::chrono::milliseconds expiresIn = 3000ms) {
        state().mapSet("p:room", member + "|" + node, std::to_string(millis(expiresIn)), 10s);
    }
    std::map<std::string, std::string> fields() {
        std::map<std::string, std::string> out;
        state().mapRead("p:room", [&](ClusterState::Result, std::map<std::string, std::string> f) { out = std::move(f); });
        return out;
    }
    ClusterPresence::Members read() {
        ClusterPresence::Members out;
        bool answered = false;
        presence.read("room", [&](bool ok, const ClusterPresence::Members& others) {
            EXPECT_TRUE(ok);
            answered = true;
            out = others;
        });
        EXPECT_TRUE(answered);  // the memory engine answers at once
        return out;
    }
    std::string self() { return t.node.broker().nodeId(); }
};
}  // namespace

TEST_F(ClusterPresenceTest, ALocalMemberIsWrittenWithItsExpiryAndIsNotAmongTheOthers) {
    presence.open("room");
    bool written = false;
    presence.set("room", "alice", json::string("alice"), [&](ClusterState::Result r) { written = r == ClusterState::Result::Ok; });
    EXPECT_TRUE(written);
    EXPECT_EQ(fields(), (std::map<std::string, std::string>{{"alice|" + self(), std::to_string(millis(3000ms))}}));
    EXPECT_TRUE(presence.isLocal("room", "alice"));
    EXPECT_TRUE(read().empty());
    presence.remove("room", "alice");
    EXPECT_TRUE(fields().empty());
    EXPECT_FALSE(presence.isLocal("room", "alice"));
}

TEST_F(ClusterPresenceTest, ReadListsOtherNodesLiveMembersAndDeletesTheDead) {
    presence.open("room");
    remote("bob", "n2");
    remote("bob", "n3");             // one identity on two nodes: once
    remote("zoe", "n2", -1ms);       // expired
    state().mapSet("p:room", "garbage", "x", 10s);
    state().mapSet("p:room", "ghost|" + self(), std::to_string(millis(3000ms)), 10s);  // ours, no longer here
    ClusterPresence::Members others = read();
    EXPECT_EQ(others, (ClusterPresence::Members{{"bob", json::string("bob")}}));
    auto left = fields();
    EXPECT_EQ(left.size(), 2u);  // both of bob's; the dead, the unreadable and our ghost are gone
    EXPECT_TRUE(left.count("bob|n2") && left.count("bob|n3"));
    EXPECT_EQ(presence.elsewhere("room"), others);  // remembered for the sweep
}

TEST_F(ClusterPresenceTest, TheHeartbeatRefreshesLocalMembersEveryThirdOfTheTtl) {
    presence.open("room");
    presence.set("room", "alice", json::string("alice"));
    t.timers.advance(999ms);
    EXPECT_TRUE(refreshed.empty());
    t.timers.advance(1ms);
    EXPECT_EQ(refreshed, (std::vector<std::pair<std::string, std::string>>{{"room", "alice"}}));
    EXPECT_EQ(fields().at("alice|" + self()), std::to_string(millis(3000ms)));
    t.timers.advance(10s);  // kept alive however long
    EXPECT_EQ(fields().at("alice|" + self()), std::to_string(millis(3000ms)));  // refreshed again at 11 s, just now
}

TEST_F(ClusterPresenceTest, AMemberWhoseNodeStopsRefreshingIsReportedGoneOnce) {
    presence.open("room");
    remote("bob", "n2", 1500ms);
    read();
    t.timers.advance(1000ms);  // first sweep: still alive
    EXPECT_TRUE(gone.empty());
    t.timers.advance(1000ms);  // second sweep, at 2 s: expired at 1.5 s
    EXPECT_EQ(gone, (std::vector<std::pair<std::string, std::string>>{{"room", "bob"}}));
    t.timers.advance(5000ms);
    EXPECT_EQ(gone.size(), 1u);
    EXPECT_TRUE(fields().empty());  // tidied up
}

TEST_F(ClusterPresenceTest, AMemberHeardOfIsSweptTooAndOneThatLeftIsNot) {
    presence.open("room");
    presence.heard("room", "bob", json::string("bob"));  // a "joined" from another node, no field (yet)
    presence.heard("room", "carol", json::string("carol"));
    presence.heardLeft("room", "carol");
    t.timers.advance(1000ms);
    EXPECT_EQ(gone, (std::vector<std::pair<std::string, std::string>>{{"room", "bob"}}));
}

TEST_F(ClusterPresenceTest, NothingIsConcludedForOneTtlAfterTheEngineReconnects) {
    presence.open("room");
    remote("bob", "n2", 1500ms);
    read();
    engine().reconnect();      // Redis restarted empty, say
    t.timers.advance(2000ms);  // bob's field expired at 1.5 s, but every node is still setting its own again
    EXPECT_TRUE(gone.empty());
    t.timers.advance(1000ms);  // the grace started at the first heartbeat (1 s) and lasts 3 s
    EXPECT_TRUE(gone.empty());
    t.timers.advance(1000ms);  // 4 s: over
    EXPECT_EQ(gone, (std::vector<std::pair<std::string, std::string>>{{"room", "bob"}}));
}

TEST_F(ClusterPresenceTest, AClosedRoomIsNeitherSweptNorRemembered) {
    presence.open("room");
    remote("bob", "n2", 1500ms);
    read();
    presence.close("room");
    EXPECT_FALSE(presence.isOpen("room"));
    EXPECT_TRUE(presence.elsewhere("room").empty());
    read();  // still answers, remembers nothing
    EXPECT_TRUE(presence.elsewhere("room").empty());
    t.timers.advance(5000ms);
    EXPECT_TRUE(gone.empty());
}

TEST_F(ClusterPresenceTest, ALocalMemberIsNeverReportedGone) {
    presence.open("room");
    presence.heard("room", "alice", json::string("alice"));  // our own "joined", heard back
    presence.set("room", "alice", json::string("alice"));
    t.timers.advance(5000ms);
    EXPECT_TRUE(gone.empty());
}
