#include "snorky/services/chat.hpp"

#include <gtest/gtest.h>

#include "support/fake_client.hpp"
#include "support/reconnecting_cluster_state.hpp"

using namespace snorky;
using namespace snorky::testing;

namespace {
// 2023-11-14T22:13:20.123Z
const std::chrono::system_clock::time_point kNow{std::chrono::milliseconds(1'700'000'000'123)};
const char* kStamp = "2023-11-14T22:13:20.123+00:00";

struct ChatTest : ::testing::Test {
    TestNode t{Engine{nullptr, std::make_unique<ReconnectingClusterState>()}};
    std::shared_ptr<ChatService> chat;
    // Alice on a laptop and a phone, Bob on one device.
    FakeClientPtr laptop = FakeClient::make("alice"), phone = FakeClient::make("alice"), bob = FakeClient::make("bob");
    FakeClientPtr anonymous = FakeClient::make();

    void SetUp() override { start(ChatService::Options{}); }
    void start(ChatService::Options options) {
        t.timers.startWallClockAt(kNow);  // every timestamp is kStamp unless a test moves time
        chat = std::make_shared<ChatService>("chat", options);
        t.registry.registerService(chat);
        for (auto& c : {laptop, phone, bob, anonymous}) t.connect(c);
    }
    // The reply to the call; notifications stay in the client's frames.
    json::value call(const FakeClientPtr& c, const char* command, json::object params) {
        std::size_t before = c->frames.size();
        t.call(c, "chat", command, std::move(params));
        for (std::size_t i = before; i < c->frames.size(); ++i) {
            json::value m = json::parse(c->frames[i]->payload()).as_object().at("message");
            const auto& type = m.at("type");
            if (type == "response" || type == "error") {
                c->frames.erase(c->frames.begin() + static_cast<std::ptrdiff_t>(i));
                return m;
            }
        }
        ADD_FAILURE() << "no reply to " << command;
        return nullptr;
    }
    json::value join(const FakeClientPtr& c, json::value channel = "room") {
        return call(c, "join", {{"channel", std::move(channel)}});
    }
    static json::value presence(const char* from, const char* status) {
        return json::object{{"type", "presence"}, {"from", from},   {"channel", "room"},
                            {"status", status},   {"timestamp", kStamp}};
    }
    static json::value message(const char* from, json::value body) {
        return json::object{
            {"type", "message"}, {"from", from}, {"channel", "room"}, {"body", std::move(body)}, {"timestamp", kStamp}};
    }
    ReconnectingClusterState& engine() { return dynamic_cast<ReconnectingClusterState&>(t.node.cluster()); }
    MemoryClusterState& state() { return engine(); }
    MemoryBroker& pubsub() { return dynamic_cast<MemoryBroker&>(t.node.broker()); }

    // --- presence across nodes, in the shared map ---
    static std::string presenceKey() { return "chat:chat:presence:" + canonicalJson("room"); }
    static std::string field(const char* identity, const char* node) {
        return canonicalJson(identity) + '\x1f' + node;
    }
    std::map<std::string, std::string> presenceFields() {
        std::map<std::string, std::string> out;
        state().mapRead(presenceKey(), [&](ClusterState::Result, std::map<std::string, std::string> f) { out = std::move(f); });
        return out;
    }
    // Calendar time `elapsed` after the start, in ms since 1970 (what the map holds).
    static std::int64_t millisAt(std::chrono::milliseconds elapsed) {
        return std::chrono::duration_cast<std::chrono::milliseconds>((kNow + elapsed).time_since_epoch()).count();
    }
    // What another node writes when `identity` joins there: its presence field
    // (valid `expiresIn` from now) and its "joined" on the channel's topic.
    void remotePresence(const char* identity, const char* node,
                        std::chrono::milliseconds expiresIn = std::chrono::seconds(30)) {
        state().mapSet(presenceKey(), field(identity, node), std::to_string(millisAt(t.timers.elapsed() + expiresIn)),
                        std::chrono::seconds(30));
    }
    void remoteJoin(const char* identity, const char* node) {
        remotePresence(identity, node);
        pubsub().publish("chat:chat:" + canonicalJson("room"), Frame::envelope("chat", presence(identity, "joined")), nullptr);
    }
    static json::value presenceAt(const char* from, const char* status, std::chrono::milliseconds elapsed) {
        json::value p = presence(from, status);
        p.as_object()["timestamp"] = ChatService::timestamp(kNow + elapsed);
        return p;
    }
};
using Messages = std::vector<json::value>;
}  // namespace

TEST_F(ChatTest, JoinReturnsMembersAndAnnouncesNewIdentities) {
    EXPECT_EQ(join(laptop).at("data"), json::parse(R"({"members":["alice"]})"));
    EXPECT_EQ(join(bob).at("data"), json::parse(R"({"members":["alice","bob"]})"));
    EXPECT_EQ(laptop->messages(), Messages{presence("bob", "joined")});
    EXPECT_EQ(bob->messages(), Messages{});  // the joiner does not hear its own arrival
}

TEST_F(ChatTest, ASecondDeviceOfTheSameIdentityCountsOnce) {
    join(laptop);
    join(bob);
    laptop->messages();
    EXPECT_EQ(join(phone).at("data"), json::parse(R"({"members":["alice","bob"]})"));
    EXPECT_EQ(chat->memberCount("room"), 2u);
    EXPECT_EQ(bob->messages(), Messages{});     // Alice was already there
    EXPECT_EQ(laptop->messages(), Messages{});  // nor does her laptop hear her phone
}

TEST_F(ChatTest, PresenceLeftOnlyWhenTheLastDeviceGoes) {
    join(laptop);
    join(phone);
    join(bob);
    laptop->messages();
    phone->messages();
    EXPECT_EQ(call(laptop, "leave", {{"channel", "room"}}).at("data"), nullptr);
    EXPECT_EQ(bob->messages(), Messages{});
    t.disconnect(phone);
    EXPECT_EQ(bob->messages(), Messages{presence("alice", "left")});
    EXPECT_EQ(laptop->messages(), Messages{});  // it had left already
    EXPECT_EQ(chat->memberCount("room"), 1u);
}

TEST_F(ChatTest, MessagesReachEveryConnectionIncludingTheSendersOwn) {
    join(laptop);
    join(phone);
    join(bob);
    laptop->messages();
    phone->messages();  // Bob's arrival
    FakeClientPtr outsider = FakeClient::make("carol");
    t.connect(outsider);
    json::value body = json::parse(R"({"text":"hello"})");
    EXPECT_EQ(call(laptop, "send", {{"channel", "room"}, {"body", body}}).at("data"), nullptr);
    for (auto& c : {laptop, phone, bob}) {
        ASSERT_EQ(c->frames.size(), 1u);
        EXPECT_EQ(c->last(), message("alice", body));
    }
    // One frame serialized once and shared.
    EXPECT_EQ(laptop->frames[0].get(), bob->frames[0].get());
    EXPECT_EQ(phone->frames[0].get(), bob->frames[0].get());
    EXPECT_TRUE(outsider->frames.empty());
}

TEST_F(ChatTest, ReadReceiptsGoToTheReadersOtherDevicesOnly) {
    join(laptop);
    join(phone);
    join(bob);
    EXPECT_EQ(laptop->messages(), Messages{presence("bob", "joined")});
    EXPECT_EQ(phone->messages(), Messages{presence("bob", "joined")});
    EXPECT_EQ(call(phone, "read", {{"channel", "room"}}).at("data"), nullptr);
    auto receipt = json::parse(std::string(R"({"type":"read","channel":"room","timestamp":")") + kStamp + "\"}");
    EXPECT_EQ(laptop->messages(), Messages{receipt});
    EXPECT_EQ(phone->messages(), Messages{});
    EXPECT_EQ(bob->messages(), Messages{});
    // Bob has no other device: nobody hears anything.
    EXPECT_EQ(call(bob, "read", {{"channel", "room"}}).at("data"), nullptr);
    EXPECT_EQ(laptop->messages(), Messages{});
    EXPECT_EQ(phone->messages(), Messages{});
}

TEST_F(ChatTest, ReadReceiptsStayInTheirChannel) {
    join(laptop, "room");
    join(phone, "other");
    call(laptop, "read", {{"channel", "room"}});
    EXPECT_EQ(phone->messages(), Messages{});
}

TEST_F(ChatTest, AnonymousClientsAreRefused) {
    for (const char* command : {"join", "leave", "read"})
        EXPECT_EQ(call(anonymous, command, {{"channel", "room"}}).at("message"), "Not authenticated") << command;
    EXPECT_EQ(call(anonymous, "send", {{"channel", "room"}, {"body", "x"}}).at("message"), "Not authenticated");
    EXPECT_EQ(chat->channelCount(), 0u);
}

TEST_F(ChatTest, JoinedErrors) {
    join(laptop);
    EXPECT_EQ(join(laptop).at("message"), "Already joined");
    EXPECT_EQ(call(bob, "leave", {{"channel", "room"}}).at("message"), "Not joined");
    EXPECT_EQ(call(bob, "send", {{"channel", "room"}, {"body", "x"}}).at("message"), "Not joined");
    EXPECT_EQ(call(bob, "read", {{"channel", "room"}}).at("message"), "Not joined");
    EXPECT_EQ(call(laptop, "leave", {{"channel", "elsewhere"}}).at("message"), "Not joined");
    EXPECT_EQ(call(laptop, "send", {{"channel", "room"}}).at("message"), "Invalid params");
    EXPECT_TRUE(bob->frames.empty());
    EXPECT_TRUE(laptop->frames.empty());
}

TEST_F(ChatTest, ObjectChannelsMatchWhateverTheKeyOrder) {
    join(laptop, json::parse(R"({"team":1,"topic":"x"})"));
    EXPECT_EQ(join(laptop, json::parse(R"({"topic":"x","team":1})")).at("message"), "Already joined");
    EXPECT_EQ(join(bob, json::parse(R"({"topic":"x","team":1})")).at("data"),
              json::parse(R"({"members":["alice","bob"]})"));
}

TEST_F(ChatTest, Limits) {
    t.registry.unregisterService("chat");
    ChatService::Options options;
    options.maxChannelsPerClient = 2;
    options.maxBodyBytes = 10;
    start(options);
    join(laptop, "a");
    join(laptop, "b");
    EXPECT_EQ(join(laptop, "c").at("message"), "Too many channels");
    EXPECT_EQ(call(laptop, "send", {{"channel", "a"}, {"body", "12345678"}}).at("data"), nullptr);
    EXPECT_EQ(call(laptop, "send", {{"channel", "a"}, {"body", "123456789"}}).at("message"), "Message too large");
    EXPECT_EQ(laptop->messages().size(), 1u);
    call(laptop, "leave", {{"channel", "a"}});
    EXPECT_EQ(join(laptop, "c").at("type"), "response");
}

TEST_F(ChatTest, DisconnectLeavesEveryChannelAndFreesEmptyOnes) {
    join(laptop, "a");
    join(laptop, "b");
    join(bob, "b");
    laptop->messages();
    EXPECT_EQ(chat->channelCount(), 2u);
    // A topic per channel, and one per (channel, identity) for read receipts.
    EXPECT_EQ(pubsub().topicCount(), 2u + 3u);
    t.disconnect(laptop);
    EXPECT_EQ(chat->channelCount(), 1u);
    EXPECT_EQ(pubsub().topicCount(), 1u + 1u);
    auto left = bob->messages();
    ASSERT_EQ(left.size(), 1u);
    EXPECT_EQ(left[0].at("status"), "left");
    EXPECT_EQ(left[0].at("channel"), "b");
    t.disconnect(bob);
    EXPECT_EQ(chat->channelCount(), 0u);
    EXPECT_EQ(pubsub().topicCount(), 0u);
}

TEST(ChatTimestamp, Iso8601UtcWithOffset) {
    using namespace std::chrono;
    EXPECT_EQ(ChatService::timestamp(kNow), kStamp);
    EXPECT_EQ(ChatService::timestamp(system_clock::time_point{}), "1970-01-01T00:00:00.000+00:00");
    EXPECT_EQ(ChatService::timestamp(system_clock::time_point{milliseconds(951'782'400'005)}),
              "2000-02-29T00:00:00.005+00:00");
}

TEST_F(ChatTest, MessagesAndPresenceTravelThroughTheBroker) {
    join(laptop);
    // What another node would publish on this channel's topic reaches the
    // local members: fan-out is driven by the broker, not by the command.
    auto remote = Frame::envelope("chat", json::parse(R"({"type":"message","from":"zoe","channel":"room","body":1})"));
    pubsub().publish("chat:chat:" + canonicalJson("room"), remote, nullptr);
    ASSERT_EQ(laptop->frames.size(), 1u);
    EXPECT_EQ(laptop->frames[0].get(), remote.get());
    laptop->messages();
    // And with the topic unsubscribed (say the broker lost it), a send reaches nobody.
    pubsub().unsubscribe("chat:chat:" + canonicalJson("room"));
    EXPECT_EQ(call(laptop, "send", {{"channel", "room"}, {"body", 1}}).at("data"), nullptr);
    EXPECT_TRUE(laptop->frames.empty());
}

// ---- presence TTL across nodes, on the node's hand-driven clock ----

TEST_F(ChatTest, TheHeartbeatKeepsLocalPresenceAliveLongAfterItsTtl) {
    using namespace std::chrono_literals;
    join(laptop);
    EXPECT_EQ(presenceFields().at(field("alice", "local")), std::to_string(millisAt(30s)));
    t.timers.advance(10s);  // heartbeat every presenceTtl / 3
    EXPECT_EQ(presenceFields().at(field("alice", "local")), std::to_string(millisAt(40s)));
    t.timers.advance(10min);
    EXPECT_EQ(presenceFields().at(field("alice", "local")), std::to_string(millisAt(10min + 40s)));
    EXPECT_EQ(bob->messages(), Messages{});
}

TEST_F(ChatTest, JoinListsOnlyTheLiveMembersOfOtherNodes) {
    using namespace std::chrono_literals;
    remotePresence("carol", "n2");
    remotePresence("dave", "n3", -1ms);  // n3 died: its field expired
    EXPECT_EQ(join(laptop).at("data"), json::parse(R"({"members":["alice","carol"]})"));
    EXPECT_EQ(presenceFields().count(field("dave", "n3")), 0u);  // tidied up on the way
    EXPECT_EQ(presenceFields().count(field("carol", "n2")), 1u);
}

TEST_F(ChatTest, ADeadNodesMembersAreToldLeftOnceTheirPresenceExpires) {
    using namespace std::chrono_literals;
    join(laptop);
    join(bob);
    laptop->messages();
    remoteJoin("carol", "n2");  // then n2 is killed: nobody refreshes her field
    EXPECT_EQ(laptop->messages(), Messages{presence("carol", "joined")});
    bob->messages();
    t.timers.advance(29999ms);  // heartbeats at 10 and 20 s: still live
    EXPECT_EQ(laptop->messages(), Messages{});
    t.timers.advance(1ms);  // expired at 30 s, when a heartbeat is due
    EXPECT_EQ(laptop->messages(), Messages{presenceAt("carol", "left", 30s)});
    EXPECT_EQ(bob->messages(), Messages{presenceAt("carol", "left", 30s)});
    EXPECT_EQ(presenceFields().count(field("carol", "n2")), 0u);
    t.timers.advance(5min);  // once
    EXPECT_EQ(laptop->messages(), Messages{});
    EXPECT_EQ(join(phone).at("data"), json::parse(R"({"members":["alice","bob"]})"));
}

TEST_F(ChatTest, AMemberWhoseNodeKeepsRefreshingNeverLeaves) {
    using namespace std::chrono_literals;
    join(laptop);
    remoteJoin("carol", "n2");
    laptop->messages();
    for (int i = 0; i < 30; ++i) {
        t.timers.advance(10s);
        remotePresence("carol", "n2");  // n2's own heartbeat
    }
    EXPECT_EQ(laptop->messages(), Messages{});
}

TEST_F(ChatTest, NoLeftIsConcludedDuringTheGraceAfterAnEngineReconnect) {
    using namespace std::chrono_literals;
    join(laptop);
    remoteJoin("carol", "n2");
    laptop->messages();
    t.timers.advance(10s);  // a heartbeat sees the first connection: no grace
    // Redis restarted empty: carol's field is gone until n2 sets it again.
    engine().reconnect();
    state().mapDelete(presenceKey(), field("carol", "n2"));
    t.timers.advance(10s);  // the heartbeat at 20 s notices the reconnect: grace until 50 s
    t.timers.advance(15s);
    EXPECT_EQ(laptop->messages(), Messages{});
    remotePresence("carol", "n2");  // n2 is back within the grace
    for (int i = 0; i < 10; ++i) {
        t.timers.advance(10s);
        remotePresence("carol", "n2");
    }
    EXPECT_EQ(laptop->messages(), Messages{});
}

TEST_F(ChatTest, AMemberMissingAfterTheGraceIsToldLeft) {
    using namespace std::chrono_literals;
    join(laptop);
    remoteJoin("carol", "n2");
    laptop->messages();
    t.timers.advance(10s);
    engine().reconnect();  // and n2 never comes back
    state().mapDelete(presenceKey(), field("carol", "n2"));
    t.timers.advance(39999ms);  // heartbeats at 20 (grace until 50 s), 30 and 40 s
    EXPECT_EQ(laptop->messages(), Messages{});
    t.timers.advance(1ms);  // the heartbeat at 50 s: the grace is over
    EXPECT_EQ(laptop->messages(), Messages{presenceAt("carol", "left", 50s)});
}
