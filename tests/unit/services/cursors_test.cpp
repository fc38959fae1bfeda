#include "snorky/services/cursors.hpp"

#include <gtest/gtest.h>

#include <set>

#include "support/fake_client.hpp"
#include "support/reconnecting_cluster_state.hpp"

using namespace snorky;
using namespace snorky::testing;

namespace {
struct CursorsTest : ::testing::Test {
    TestNode t{Engine{nullptr, std::make_unique<ReconnectingClusterState>()}};
    std::shared_ptr<CursorsService> cursors;
    FakeClientPtr laptop = FakeClient::make("alice"), phone = FakeClient::make("alice"), bob = FakeClient::make("bob");
    FakeClientPtr anonymous = FakeClient::make();

    void SetUp() override { start(CursorsService::Options{}); }
    void start(CursorsService::Options options, CursorsService::HandleSource handles = {}) {
        cursors = std::make_shared<CursorsService>("cursors", options, std::move(handles));
        t.registry.registerService(cursors);
        for (auto& c : {laptop, phone, bob, anonymous}) t.connect(c);
    }
    // The reply to the call; notifications stay in the client's frames.
    json::value call(const FakeClientPtr& c, const char* command, json::object params) {
        std::size_t before = c->frames.size();
        t.call(c, "cursors", command, std::move(params));
        for (std::size_t i = before; i < c->frames.size(); ++i) {
            json::value m = json::parse(c->frames[i]->payload()).as_object().at("message");
            if (m.at("type") == "response" || m.at("type") == "error") {
                c->frames.erase(c->frames.begin() + static_cast<std::ptrdiff_t>(i));
                return m;
            }
        }
        ADD_FAILURE() << "no reply to " << command;
        return nullptr;
    }
    json::value join(const FakeClientPtr& c, json::value document = "doc") {
        return call(c, "join", {{"document", std::move(document)}});
    }
    json::value create(const FakeClientPtr& c, json::value privateHandle, json::value document = "doc",
                       json::value position = 0, json::value status = "idle") {
        return call(c, "createCursor", {{"privateHandle", std::move(privateHandle)},
                                        {"document", std::move(document)},
                                        {"position", std::move(position)},
                                        {"status", std::move(status)}});
    }

    // --- the shared state of other nodes (cursor TTL across nodes) ---
    ReconnectingClusterState& engine() { return dynamic_cast<ReconnectingClusterState&>(t.node.cluster()); }
    MemoryClusterState& state() { return engine(); }
    MemoryBroker& pubsub() { return dynamic_cast<MemoryBroker&>(t.node.broker()); }
    static std::string stateKey() { return "cursors:cursors:doc:" + canonicalJson("doc"); }
    static std::string handleKey(int handle) {
        return "cursors:cursors:handle:" + canonicalJson("doc") + '\x1f' + std::to_string(handle);
    }
    // The node's calendar time `from_now` ahead, in ms since 1970 (what the entries hold).
    std::int64_t millis(std::chrono::milliseconds fromNow = {}) {
        return std::chrono::duration_cast<std::chrono::milliseconds>((t.timers.wallNow() + fromNow).time_since_epoch())
            .count();
    }
    static json::value remoteCursor(int handle) {
        return {{"publicHandle", handle}, {"document", "doc"}, {"position", 1}, {"status", nullptr}, {"owner", "carol"}};
    }
    // What another node writes for one of its cursors, valid `expiresIn` from now.
    void remoteEntry(int handle, const char* node, std::chrono::milliseconds expiresIn = std::chrono::seconds(30)) {
        json::object entry{{"node", node}, {"expires", millis(expiresIn)}, {"cursor", remoteCursor(handle)}};
        state().mapSet(stateKey(), std::to_string(handle), json::serialize(entry), std::chrono::seconds(30));
    }
    std::map<std::string, std::string> entries() {
        std::map<std::string, std::string> out;
        state().mapRead(stateKey(), [&](ClusterState::Result, std::map<std::string, std::string> f) { out = std::move(f); });
        return out;
    }
};
using Messages = std::vector<json::value>;
json::value removed(const json::value& handle, const char* document) {
    return json::object{{"type", "cursorRemoved"},
                        {"cursor", json::object{{"publicHandle", handle}, {"document", document}}}};
}
}  // namespace

TEST_F(CursorsTest, CreatedCursorsAreToldToTheOtherClientsOnly) {
    EXPECT_EQ(join(laptop).at("data"), json::parse(R"({"cursors":[]})"));
    join(phone);
    join(bob);
    json::value reply = create(laptop, 1, "doc", json::parse(R"({"line":3,"col":7})"), "typing");
    ASSERT_EQ(reply.at("type"), "response");
    ASSERT_TRUE(reply.at("data").is_number());
    std::int64_t handle = reply.at("data").to_number<std::int64_t>();
    EXPECT_GE(handle, 0);
    EXPECT_LE(handle, 0xffff);
    json::value cursor = {{"publicHandle", handle},
                          {"document", "doc"},
                          {"position", json::parse(R"({"line":3,"col":7})")},
                          {"status", "typing"},
                          {"owner", "alice"}};
    json::value added = {{"type", "cursorAdded"}, {"cursor", cursor}};
    EXPECT_EQ(bob->messages(), Messages{added});
    EXPECT_EQ(phone->messages(), Messages{added});  // her other device is another client
    EXPECT_EQ(laptop->messages(), Messages{});
}

TEST_F(CursorsTest, JoinListsTheCursorsAlreadyThere) {
    join(laptop);
    auto handle = create(laptop, "mine", "doc", 5, "idle").at("data");
    json::value listed = join(bob).at("data");
    EXPECT_EQ(listed, json::parse(R"({"cursors":[{"publicHandle":)" + json::serialize(handle) +
                                  R"(,"document":"doc","position":5,"status":"idle","owner":"alice"}]})"));
}

TEST_F(CursorsTest, UpdatesCarryTheWholeCursor) {
    join(laptop);
    join(bob);
    auto handle = create(laptop, 1).at("data");
    bob->messages();
    EXPECT_EQ(call(laptop, "updateCursor", {{"privateHandle", 1}, {"newData", {{"position", 9}}}}).at("data"), nullptr);
    EXPECT_EQ(call(laptop, "updateCursor", {{"privateHandle", 1}, {"newData", {{"status", "away"}}}}).at("data"),
              nullptr);
    auto updates = bob->messages();
    ASSERT_EQ(updates.size(), 2u);
    EXPECT_EQ(updates[0], json::parse(R"({"type":"cursorUpdated","cursor":{"publicHandle":)" + json::serialize(handle) +
                                      R"(,"document":"doc","position":9,"status":"idle","owner":"alice"}})"));
    EXPECT_EQ(updates[1].at("cursor").at("status"), "away");
    EXPECT_EQ(updates[1].at("cursor").at("position"), 9);
    EXPECT_EQ(laptop->messages(), Messages{});
}

TEST_F(CursorsTest, RemovedCursorsAreToldWithHandleAndDocument) {
    join(laptop);
    join(bob);
    auto handle = create(laptop, 1).at("data");
    bob->messages();
    EXPECT_EQ(call(laptop, "removeCursor", {{"privateHandle", 1}}).at("data"), nullptr);
    EXPECT_EQ(bob->messages(), Messages{removed(handle, "doc")});
    EXPECT_EQ(cursors->cursorCount("doc"), 0u);
    EXPECT_EQ(create(laptop, 1).at("type"), "response");  // the private handle is free again
}

TEST_F(CursorsTest, PublicHandlesAreUniqueWithinADocument) {
    t.registry.unregisterService("cursors");
    start(CursorsService::Options{}, [] { return std::uint16_t{7}; });  // every draw collides after the first
    join(laptop);
    join(bob);
    join(bob, "other");
    EXPECT_EQ(create(laptop, 1).at("data"), 7);
    EXPECT_EQ(create(bob, 1).at("data"), 8);
    EXPECT_EQ(create(laptop, 2).at("data"), 9);
    EXPECT_EQ(create(bob, 2, "other").at("data"), 7);  // another document may reuse it
}

TEST_F(CursorsTest, RandomHandlesDoNotCollide) {
    CursorsService::Options options;
    options.maxCursorsPerClient = 1000;
    t.registry.unregisterService("cursors");
    start(options);
    join(laptop);
    std::set<std::int64_t> seen;
    for (int i = 0; i < 1000; ++i) seen.insert(create(laptop, i).at("data").to_number<std::int64_t>());
    EXPECT_EQ(seen.size(), 1000u);
}

TEST_F(CursorsTest, AnonymousClientsAreRefused) {
    EXPECT_EQ(join(anonymous).at("message"), "Not authenticated");
    EXPECT_EQ(call(anonymous, "leave", {{"document", "doc"}}).at("message"), "Not authenticated");
    EXPECT_EQ(create(anonymous, 1).at("message"), "Not authenticated");
    EXPECT_EQ(call(anonymous, "updateCursor", {{"privateHandle", 1}, {"newData", json::object{}}}).at("message"),
              "Not authenticated");
    EXPECT_EQ(call(anonymous, "removeCursor", {{"privateHandle", 1}}).at("message"), "Not authenticated");
    EXPECT_EQ(cursors->documentCount(), 0u);
}

TEST_F(CursorsTest, JoinAndCursorErrors) {
    join(laptop);
    join(bob);
    EXPECT_EQ(join(laptop).at("message"), "Already joined");
    EXPECT_EQ(call(laptop, "leave", {{"document", "elsewhere"}}).at("message"), "Not joined");
    EXPECT_EQ(create(laptop, 1, "elsewhere").at("message"), "Not joined");
    EXPECT_EQ(create(phone, 1).at("message"), "Not joined");
    create(laptop, 1);
    join(laptop, "second");
    EXPECT_EQ(create(laptop, 1).at("message"), "Reused handle");
    EXPECT_EQ(create(laptop, 1, "second").at("message"), "Reused handle");  // per client, across documents
    EXPECT_EQ(create(bob, 1).at("type"), "response");                      // another client's handles are its own
    EXPECT_EQ(call(laptop, "updateCursor", {{"privateHandle", 2}, {"newData", {{"position", 1}}}}).at("message"),
              "No such cursor");
    EXPECT_EQ(call(phone, "updateCursor", {{"privateHandle", 1}, {"newData", {{"position", 1}}}}).at("message"),
              "No such cursor");  // the laptop's cursor is not the phone's
    EXPECT_EQ(call(laptop, "removeCursor", {{"privateHandle", 2}}).at("message"), "No such cursor");
    EXPECT_EQ(call(phone, "removeCursor", {{"privateHandle", 1}}).at("message"), "No such cursor");
    EXPECT_EQ(call(laptop, "updateCursor", {{"privateHandle", 1}, {"newData", {{"colour", 1}}}}).at("message"),
              "Invalid params");
    EXPECT_EQ(call(laptop, "updateCursor", {{"privateHandle", 1}, {"newData", 5}}).at("message"), "Invalid params");
    EXPECT_EQ(call(laptop, "createCursor", {{"privateHandle", 3}, {"document", "doc"}}).at("message"),
              "Invalid params");
    EXPECT_EQ(cursors->cursorCount("doc"), 2u);
}

TEST_F(CursorsTest, SixteenCursorsPerClientByDefault) {
    join(laptop);
    join(laptop, "other");
    for (int i = 0; i < 8; ++i) ASSERT_EQ(create(laptop, i).at("type"), "response");
    for (int i = 8; i < 16; ++i) ASSERT_EQ(create(laptop, i, "other").at("type"), "response");
    EXPECT_EQ(create(laptop, 16).at("message"), "Too many cursors");
    EXPECT_EQ(create(laptop, 16, "other").at("message"), "Too many cursors");
    call(laptop, "removeCursor", {{"privateHandle", 0}});
    EXPECT_EQ(create(laptop, 16).at("type"), "response");
}

TEST_F(CursorsTest, DocumentAndSizeLimits) {
    t.registry.unregisterService("cursors");
    CursorsService::Options options;
    options.maxDocumentsPerClient = 1;
    options.maxCursorBytes = 10;  // serialized position + status
    start(options);
    join(laptop);
    EXPECT_EQ(join(laptop, "second").at("message"), "Too many documents");
    EXPECT_EQ(create(laptop, 1, "doc", 1234, "abcd").at("type"), "response");  // 4 + 6 bytes
    EXPECT_EQ(create(laptop, 2, "doc", 12345, "abcd").at("message"), "Cursor too large");
    EXPECT_EQ(call(laptop, "updateCursor", {{"privateHandle", 1}, {"newData", {{"position", 12345}}}}).at("message"),
              "Cursor too large");
    call(laptop, "leave", {{"document", "doc"}});
    EXPECT_EQ(join(laptop, "second").at("type"), "response");
}

TEST_F(CursorsTest, LeaveRemovesTheClientsCursorsInThatDocument) {
    join(laptop);
    join(laptop, "other");
    join(bob);
    join(bob, "other");
    auto h1 = create(laptop, 1).at("data");
    create(laptop, 2, "other");
    bob->messages();
    EXPECT_EQ(call(laptop, "leave", {{"document", "doc"}}).at("data"), nullptr);
    EXPECT_EQ(bob->messages(), Messages{removed(h1, "doc")});
    EXPECT_EQ(cursors->cursorCount("doc"), 0u);
    EXPECT_EQ(cursors->cursorCount("other"), 1u);
    EXPECT_EQ(join(laptop).at("data"), json::parse(R"({"cursors":[]})"));
}

TEST_F(CursorsTest, DisconnectRemovesEverythingAndFreesEmptyDocuments) {
    join(laptop);
    join(laptop, "other");
    join(bob);
    create(laptop, 1);
    create(laptop, 2);
    create(laptop, 3, "other");
    bob->messages();
    t.disconnect(laptop);
    auto removed = bob->messages();
    ASSERT_EQ(removed.size(), 2u);  // the two in "doc"; nobody else is in "other"
    for (auto& m : removed) EXPECT_EQ(m.at("type"), "cursorRemoved");
    EXPECT_EQ(cursors->documentCount(), 1u);
    EXPECT_EQ(cursors->cursorCount("doc"), 0u);
    t.disconnect(bob);
    EXPECT_EQ(cursors->documentCount(), 0u);
}

// A disconnect used to pass a reference to the last joined document's name
// into the function that erases it: names past the short-string buffer (~15
// bytes) were read after being freed, and the server crashed.
TEST_F(CursorsTest, DisconnectingLeavesDocumentsWithNamesOfEveryLength) {
    for (std::size_t length : {1u, 15u, 16u, 17u, 20u, 64u, 1000u}) {
        std::string first(length, 'a'), second = "a-long-document-name-" + std::string(length, 'b');
        join(laptop, json::string(first));
        join(laptop, json::string(second));
        join(bob, json::string(second));
        create(laptop, 1, json::string(first));
        create(laptop, 2, json::string(second));
        bob->frames.clear();
        t.disconnect(laptop);
        std::set<std::string> types;
        for (auto& frame : bob->frames)
            types.insert(json::value_to<std::string>(json::parse(frame->payload()).at("message").at("type")));
        EXPECT_EQ(types, std::set<std::string>{"cursorRemoved"}) << length;
        EXPECT_EQ(cursors->cursorCount(json::string(first)), 0u);
        EXPECT_EQ(cursors->cursorCount(json::string(second)), 0u);
        t.disconnect(bob);
        t.connect(laptop);
        t.connect(bob);
    }
}

// ---- cursor TTL across nodes, on the node's hand-driven clock ----

TEST_F(CursorsTest, TheHeartbeatKeepsOwnCursorsAndHandlesAliveLongAfterTheirTtl) {
    using namespace std::chrono_literals;
    t.registry.unregisterService("cursors");
    start(CursorsService::Options{}, [] { return std::uint16_t{7}; });
    join(laptop);
    EXPECT_EQ(create(laptop, 1).at("data"), 7);
    t.timers.advance(10min);  // heartbeats every cursorTtl / 3, the last one just now
    json::value entry = json::parse(entries().at("7"));
    EXPECT_EQ(entry.at("expires"), millis(30s));
    EXPECT_EQ(entry.at("node"), "local");
    std::string owner;
    state().readKey(handleKey(7), [&](ClusterState::Result, const std::string& v) { owner = v; });
    EXPECT_EQ(owner, "local");  // claimed for 30 s, still ours ten minutes later
}

TEST_F(CursorsTest, JoinListsOnlyTheLiveCursorsOfOtherNodes) {
    using namespace std::chrono_literals;
    remoteEntry(100, "n2");
    remoteEntry(200, "n3", -1ms);  // n3 died: expired
    json::value listed = join(laptop).at("data");
    EXPECT_EQ(listed, (json::value{{"cursors", json::array{remoteCursor(100)}}}));
}

TEST_F(CursorsTest, ADeadNodesCursorsAreRemovedOnceTheirEntriesExpire) {
    using namespace std::chrono_literals;
    join(laptop);
    join(bob);
    create(bob, 1);  // bob's heartbeat keeps the shared map itself alive
    remoteEntry(100, "n2");  // then n2 is killed: nobody refreshes it
    laptop->messages();
    bob->messages();
    EXPECT_EQ(join(phone).at("data").at("cursors").as_array().size(), 2u);  // bob's and n2's
    t.timers.advance(29999ms);  // heartbeats at 10 and 20 s: still live
    EXPECT_EQ(laptop->messages(), Messages{});
    t.timers.advance(1ms);  // expired at 30 s, when a heartbeat is due
    EXPECT_EQ(laptop->messages(), Messages{removed(100, "doc")});
    EXPECT_EQ(bob->messages(), Messages{removed(100, "doc")});
    EXPECT_EQ(entries().count("100"), 0u);  // tidied up
    t.timers.advance(5min);  // once
    EXPECT_EQ(laptop->messages(), Messages{});
}

TEST_F(CursorsTest, NoCursorIsRemovedDuringTheGraceAfterAnEngineReconnect) {
    using namespace std::chrono_literals;
    join(laptop);
    remoteEntry(100, "n2");
    t.timers.advance(10s);  // a heartbeat sees the remote cursor, on the first connection
    laptop->messages();
    // Redis restarted empty: n2's entry is gone until it sets it again.
    engine().reconnect();
    state().mapDelete(stateKey(), "100");
    t.timers.advance(25s);  // the heartbeat at 20 s notices the reconnect: grace until 50 s
    EXPECT_EQ(laptop->messages(), Messages{});
    remoteEntry(100, "n2");  // n2 is back within the grace
    for (int i = 0; i < 10; ++i) {
        t.timers.advance(10s);
        remoteEntry(100, "n2");
    }
    EXPECT_EQ(laptop->messages(), Messages{});
}

TEST_F(CursorsTest, ACursorMissingAfterTheGraceIsRemoved) {
    using namespace std::chrono_literals;
    join(laptop);
    remoteEntry(100, "n2");
    t.timers.advance(10s);
    laptop->messages();
    engine().reconnect();  // and n2 never comes back
    state().mapDelete(stateKey(), "100");
    t.timers.advance(39999ms);  // heartbeats at 20 (grace until 50 s), 30 and 40 s
    EXPECT_EQ(laptop->messages(), Messages{});
    t.timers.advance(1ms);
    EXPECT_EQ(laptop->messages(), Messages{removed(100, "doc")});
}

TEST_F(CursorsTest, AHandleClaimedByADeadNodeIsFreeAgainAfterItsTtl) {
    using namespace std::chrono_literals;
    t.registry.unregisterService("cursors");
    start(CursorsService::Options{}, [] { return std::uint16_t{5}; });
    join(laptop);
    bool claimed = false;
    state().claimKey(handleKey(5), "n2", 30s, [&](ClusterState::Result r) { claimed = r == ClusterState::Result::Ok; });
    ASSERT_TRUE(claimed);  // n2 took handle 5, then died before sharing its cursor
    EXPECT_EQ(create(laptop, 1).at("message"), "Too many cursors");  // every draw is 5: taken
    t.timers.advance(30s);
    EXPECT_EQ(create(laptop, 1).at("data"), 5);
}
