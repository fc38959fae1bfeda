#include "snorky/services/datasync/datasync_service.hpp"

#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <set>

#include "support/fake_client.hpp"

using namespace snorky;
using namespace snorky::datasync;
using namespace snorky::testing;
using namespace std::chrono_literals;

namespace {

json::value j(const char* text) { return json::parse(text); }

// Records what goes through the broker, then delivers like MemoryBroker; it
// can also play another node (deliverFromAnotherNode: no sender, not local).
class RecordingBroker : public Broker {
public:
    void attach(Node& node) override { inner.attach(node); }
    void close() override {}
    json::object health() const override { return inner.health(); }
    const std::string& nodeId() const override { return inner.nodeId(); }
    void publishConfirmed(const std::string& topic, const FramePtr& frame, Confirmed confirmed) override {
        published.push_back(topic);
        inner.publishConfirmed(topic, frame, std::move(confirmed));
    }
    void publish(const std::string& topic, const FramePtr& frame, const Client* sender) override {
        published.push_back(topic);
        inner.publish(topic, frame, sender);
    }
    void subscribe(const std::string& topic, BrokerListener* listener) override {
        subscribed.insert(topic);
        listeners[topic] = listener;
        inner.subscribe(topic, listener);
    }
    void unsubscribe(const std::string& topic) override {
        subscribed.erase(topic);
        listeners.erase(topic);
        inner.unsubscribe(topic);
    }
    void deliverFromAnotherNode(const std::string& topic, const FramePtr& frame) {
        listeners.at(topic)->onBrokerMessage(topic, frame, Origin{});
    }
    MemoryBroker inner;
    std::vector<std::string> published;
    std::set<std::string> subscribed;
    std::map<std::string, BrokerListener*> listeners;
};

struct DataSyncTest : ::testing::Test {
    RecordingBroker* broker = nullptr;  // owned by t's node
    TestNode t{recordingEngine()};
    std::shared_ptr<DataSyncService> datasync;
    std::shared_ptr<DataSyncBackend> backend;
    FakeClientPtr server = FakeClient::make(), alice = FakeClient::make(), bob = FakeClient::make();

    void SetUp() override { build(DataSyncService::Options{}); }
    Engine recordingEngine() {
        auto owned = std::make_unique<RecordingBroker>();
        broker = owned.get();
        return Engine{std::move(owned), nullptr};  // the memory ClusterState
    }

    void build(DataSyncService::Options options) {
        if (datasync) {
            t.registry.unregisterService("datasync");
            t.registry.unregisterService("datasync_backend");
        }
        datasync = std::make_shared<DataSyncService>("datasync", options);
        datasync->emplaceDealer<FilterDealer>("tasks", "task");
        datasync->emplaceDealer<SimpleDealer>("tasksByOwner", "task", "owner");
        datasync->emplaceDealer<BroadcastDealer>("allTasks", "task");
        datasync->emplaceDealer<BroadcastDealer>("allPlayers", "player");
        backend = std::make_shared<DataSyncBackend>("datasync_backend", *datasync);
        t.registry.registerService(datasync);
        t.registry.registerService(backend);
        t.connect(alice);
        t.connect(bob);
    }

    // The reply to one call (taken off the client's frames).
    json::value call(const FakeClientPtr& c, const char* service, const char* command, json::object params) {
        std::size_t before = c->frames.size();
        t.call(c, service, command, std::move(params));
        EXPECT_GT(c->frames.size(), before) << "no reply";
        json::value reply = json::parse(c->frames[before]->payload()).as_object().at("message");
        c->frames.erase(c->frames.begin() + static_cast<long>(before));
        return reply;
    }
    json::value authorizeReply(const char* items) {
        return call(server, "datasync_backend", "authorizeSubscription", {{"items", j(items)}});
    }
    std::string authorize(const char* items) {
        json::value reply = authorizeReply(items);
        EXPECT_EQ(reply.at("type"), "response") << json::serialize(reply);
        return std::string(reply.at("data").as_string());
    }
    json::value publish(const char* deltas) {
        return call(server, "datasync_backend", "publishDeltas", {{"deltas", j(deltas)}});
    }
    json::value acquire(const FakeClientPtr& c, json::value token) {
        return call(c, "datasync", "acquireSubscription", {{"token", std::move(token)}});
    }
    json::value cancel(const FakeClientPtr& c, json::value token) {
        return call(c, "datasync", "cancelSubscription", {{"token", std::move(token)}});
    }
    static json::value delta(const char* d) { return json::object{{"type", "delta"}, {"delta", j(d)}}; }
};

const char* kTeam7Open = R"([{"dealer": "tasks", "query": ["and", ["==", "team", 7], ["==", "done", false]]}])";

}  // namespace

TEST_F(DataSyncTest, TokensAre32LowercaseAlphanumericsAndDistinct) {
    std::set<std::string> tokens;
    for (int i = 0; i < 50; ++i) {
        std::string token = authorize(R"([{"dealer": "allTasks", "query": null}])");
        EXPECT_TRUE(std::regex_match(token, std::regex("[a-z0-9]{32}"))) << token;
        tokens.insert(token);
    }
    EXPECT_EQ(tokens.size(), 50u);
    EXPECT_EQ(datasync->pendingCount(), 50u);
}

TEST_F(DataSyncTest, DeltasReachAcquiredSubscriptionsWhoseItemsMatch) {
    std::string token = authorize(kTeam7Open);
    EXPECT_EQ(acquire(alice, token.c_str()), j(R"({"type": "response", "callId": 1, "data": null})"));
    EXPECT_EQ(publish(R"([{"type": "insert", "model": "task", "data": {"id": 1, "team": 7, "done": false}},
                         {"type": "insert", "model": "task", "data": {"id": 2, "team": 8, "done": false}},
                         {"type": "delete", "model": "task", "data": {"id": 3, "team": 7, "done": false}}])"),
              j(R"({"type": "response", "callId": 1, "data": null})"));
    EXPECT_EQ(alice->messages(),
              (std::vector<json::value>{
                  delta(R"({"type": "insert", "model": "task", "data": {"id": 1, "team": 7, "done": false}})"),
                  delta(R"({"type": "delete", "model": "task", "data": {"id": 3, "team": 7, "done": false}})")}));
    EXPECT_TRUE(bob->frames.empty());
}

TEST_F(DataSyncTest, ExtraDeltaFieldsAreNotForwarded) {
    acquire(alice, authorize(R"([{"dealer": "allPlayers", "query": 0}])").c_str());
    publish(R"([{"type": "insert", "model": "player", "data": {"a": 1}, "secret": "x"}])");
    EXPECT_EQ(alice->messages(), std::vector<json::value>{delta(R"({"type": "insert", "model": "player", "data": {"a": 1}})")});
}

TEST_F(DataSyncTest, UpdateRoutingFollowsRowsInAndOutOfTheView) {
    acquire(alice, authorize(kTeam7Open).c_str());
    // Enters the view: an insert of the new data.
    publish(R"([{"type": "update", "model": "task", "newData": {"id": 1, "team": 7, "done": false},
                                                   "oldData": {"id": 1, "team": 8, "done": false}}])");
    // Stays in it: the update itself.
    publish(R"([{"type": "update", "model": "task", "newData": {"id": 1, "team": 7, "done": false, "title": "b"},
                                                   "oldData": {"id": 1, "team": 7, "done": false}}])");
    // Leaves it: a delete of the old data.
    publish(R"([{"type": "update", "model": "task", "newData": {"id": 1, "team": 7, "done": true},
                                                   "oldData": {"id": 1, "team": 7, "done": false, "title": "b"}}])");
    // Never in it: nothing.
    publish(R"([{"type": "update", "model": "task", "newData": {"id": 1, "team": 9, "done": false},
                                                   "oldData": {"id": 1, "team": 7, "done": true}}])");
    EXPECT_EQ(alice->messages(),
              (std::vector<json::value>{
                  delta(R"({"type": "insert", "model": "task", "data": {"id": 1, "team": 7, "done": false}})"),
                  delta(R"({"type": "update", "model": "task", "newData": {"id": 1, "team": 7, "done": false, "title": "b"},
                                              "oldData": {"id": 1, "team": 7, "done": false}})"),
                  delta(R"({"type": "delete", "model": "task", "data": {"id": 1, "team": 7, "done": false, "title": "b"}})")}));
}

TEST_F(DataSyncTest, UpdateRoutingWorksForSimpleDealersToo) {
    acquire(alice, authorize(R"([{"dealer": "tasksByOwner", "query": "alice"}])").c_str());
    acquire(bob, authorize(R"([{"dealer": "tasksByOwner", "query": "bob"}])").c_str());
    publish(R"([{"type": "update", "model": "task", "newData": {"id": 1, "owner": "bob"}, "oldData": {"id": 1, "owner": "alice"}}])");
    EXPECT_EQ(alice->messages(), std::vector<json::value>{delta(R"({"type": "delete", "model": "task", "data": {"id": 1, "owner": "alice"}})")});
    EXPECT_EQ(bob->messages(), std::vector<json::value>{delta(R"({"type": "insert", "model": "task", "data": {"id": 1, "owner": "bob"}})")});
}

TEST_F(DataSyncTest, OneDeliveryPerSubscriptionWhateverNumberOfItemsMatch) {
    acquire(alice, authorize(R"([{"dealer": "tasks", "query": ["==", "team", 7]},
                                 {"dealer": "tasks", "query": ["==", "done", false]},
                                 {"dealer": "tasksByOwner", "query": "alice"},
                                 {"dealer": "allTasks", "query": null}])").c_str());
    publish(R"([{"type": "insert", "model": "task", "data": {"team": 7, "done": false, "owner": "alice"}}])");
    EXPECT_EQ(alice->messages().size(), 1u);
    // One item matches only the old row, another only the new: the view holds
    // the row before and after, so this subscription sees an update.
    std::string token = authorize(R"([{"dealer": "tasks", "query": ["==", "team", 1]},
                                      {"dealer": "tasks", "query": ["==", "team", 2]}])");
    acquire(bob, token.c_str());
    publish(R"([{"type": "update", "model": "task", "newData": {"team": 2}, "oldData": {"team": 1}}])");
    EXPECT_EQ(bob->messages(), std::vector<json::value>{delta(R"({"type": "update", "model": "task", "newData": {"team": 2}, "oldData": {"team": 1}})")});
}

TEST_F(DataSyncTest, SubscribersShareOneFrame) {
    acquire(alice, authorize(kTeam7Open).c_str());
    acquire(bob, authorize(kTeam7Open).c_str());
    publish(R"([{"type": "insert", "model": "task", "data": {"team": 7, "done": false}}])");
    ASSERT_EQ(alice->frames.size(), 1u);
    ASSERT_EQ(bob->frames.size(), 1u);
    EXPECT_EQ(alice->frames[0].get(), bob->frames[0].get());
}

TEST_F(DataSyncTest, DeltasBeforeAcquisitionAreDeliveredInOrderAfterTheReply) {
    std::string token = authorize(kTeam7Open);
    publish(R"([{"type": "insert", "model": "task", "data": {"id": 1, "team": 7, "done": false}},
                {"type": "insert", "model": "task", "data": {"id": 2, "team": 6, "done": false}},
                {"type": "update", "model": "task", "newData": {"id": 1, "team": 7, "done": true},
                                                   "oldData": {"id": 1, "team": 7, "done": false}}])");
    publish(R"([{"type": "insert", "model": "task", "data": {"id": 3, "team": 7, "done": false}}])");
    EXPECT_TRUE(alice->frames.empty());
    t.call(alice, "datasync", "acquireSubscription", {{"token", token.c_str()}}, "c1");
    EXPECT_EQ(alice->messages(),
              (std::vector<json::value>{
                  j(R"({"type": "response", "callId": "c1", "data": null})"),
                  delta(R"({"type": "insert", "model": "task", "data": {"id": 1, "team": 7, "done": false}})"),
                  delta(R"({"type": "delete", "model": "task", "data": {"id": 1, "team": 7, "done": false}})"),
                  delta(R"({"type": "insert", "model": "task", "data": {"id": 3, "team": 7, "done": false}})")}));
    publish(R"([{"type": "insert", "model": "task", "data": {"id": 4, "team": 7, "done": false}}])");
    EXPECT_EQ(alice->messages().size(), 1u);
}

TEST_F(DataSyncTest, UnacquiredSubscriptionsExpire) {
    std::string late = authorize(kTeam7Open);
    t.timers.advance(119s);
    std::string onTime = authorize(kTeam7Open);
    EXPECT_EQ(datasync->pendingCount(), 2u);
    t.timers.advance(1s);
    EXPECT_EQ(datasync->pendingCount(), 1u);
    EXPECT_EQ(acquire(alice, late.c_str()).at("message"), "No such subscription");
    EXPECT_EQ(acquire(alice, onTime.c_str()).at("type"), "response");
    t.timers.advance(600s);  // acquired: no longer expires
    EXPECT_EQ(datasync->subscriptionCount(), 1u);
    publish(R"([{"type": "insert", "model": "task", "data": {"team": 7, "done": false}}])");
    EXPECT_EQ(alice->messages().size(), 1u);
    EXPECT_EQ(t.timers.pendingCount(), 0u);
}

TEST_F(DataSyncTest, AcquireTimeoutIsAnOption) {
    DataSyncService::Options options;
    options.acquireTimeout = 500ms;
    build(options);
    std::string token = authorize(kTeam7Open);
    t.timers.advance(500ms);
    EXPECT_EQ(acquire(alice, token.c_str()).at("message"), "No such subscription");
    EXPECT_EQ(datasync->subscriptionCount(), 0u);
}

TEST_F(DataSyncTest, BufferOverflowDiscardsTheSubscription) {
    DataSyncService::Options options;
    options.maxBufferedDeltas = 3;
    build(options);
    std::string overflowing = authorize(kTeam7Open);
    std::string other = authorize(R"([{"dealer": "tasks", "query": ["==", "team", 8]}])");
    for (int i = 0; i < 3; ++i) publish(R"([{"type": "insert", "model": "task", "data": {"team": 7, "done": false}}])");
    EXPECT_EQ(datasync->overflowCount(), 0u);
    publish(R"([{"type": "insert", "model": "task", "data": {"team": 7, "done": false}},
                {"type": "insert", "model": "task", "data": {"team": 8}}])");
    EXPECT_EQ(datasync->overflowCount(), 1u);
    EXPECT_EQ(datasync->subscriptionCount(), 1u);
    EXPECT_EQ(datasync->pendingCount(), 1u);
    EXPECT_EQ(t.timers.pendingCount(), 1u);  // its expiry timer went with it
    EXPECT_EQ(acquire(alice, overflowing.c_str()).at("message"), "No such subscription");
    EXPECT_TRUE(alice->frames.empty());
    EXPECT_EQ(acquire(bob, other.c_str()).at("type"), "response");
    EXPECT_EQ(bob->messages().size(), 1u);
}

TEST_F(DataSyncTest, AcquireErrors) {
    EXPECT_EQ(acquire(alice, 42).at("message"), "token must be string");
    EXPECT_EQ(acquire(alice, nullptr).at("message"), "token must be string");
    EXPECT_EQ(acquire(alice, "nope").at("message"), "No such subscription");
    EXPECT_EQ(call(alice, "datasync", "acquireSubscription", {}).at("message"), "Invalid params");
    EXPECT_EQ(call(alice, "datasync", "acquireSubscription", {{"token", "x"}, {"extra", 1}}).at("message"),
              "Invalid params");
}

TEST_F(DataSyncTest, ATokenIsAcquiredOnce) {
    std::string token = authorize(kTeam7Open);
    EXPECT_EQ(acquire(alice, token.c_str()).at("type"), "response");
    EXPECT_EQ(acquire(bob, token.c_str()).at("message"), "No such subscription");
    EXPECT_EQ(acquire(alice, token.c_str()).at("message"), "No such subscription");
    publish(R"([{"type": "insert", "model": "task", "data": {"team": 7, "done": false}}])");
    EXPECT_EQ(alice->messages().size(), 1u);
    EXPECT_TRUE(bob->frames.empty());
}

TEST_F(DataSyncTest, CancelStopsDeliveryAndOnlyTheOwnerMayCancel) {
    std::string token = authorize(kTeam7Open);
    EXPECT_EQ(cancel(alice, token.c_str()).at("message"), "No such subscription");  // not acquired yet
    acquire(alice, token.c_str());
    EXPECT_EQ(cancel(bob, token.c_str()).at("message"), "No such subscription");
    EXPECT_EQ(cancel(bob, 5).at("message"), "token must be string");
    publish(R"([{"type": "insert", "model": "task", "data": {"team": 7, "done": false}}])");
    EXPECT_EQ(alice->messages().size(), 1u);  // bob's attempt changed nothing
    EXPECT_EQ(cancel(alice, token.c_str()), j(R"({"type": "response", "callId": 1, "data": null})"));
    EXPECT_EQ(cancel(alice, token.c_str()).at("message"), "No such subscription");
    publish(R"([{"type": "insert", "model": "task", "data": {"team": 7, "done": false}}])");
    EXPECT_TRUE(alice->frames.empty());
    EXPECT_EQ(datasync->subscriptionCount(), 0u);
    EXPECT_EQ(datasync->findDealer("tasks")->itemCount(), 0u);
}

TEST_F(DataSyncTest, DisconnectCancelsTheClientsSubscriptions) {
    acquire(alice, authorize(kTeam7Open).c_str());
    acquire(alice, authorize(R"([{"dealer": "allPlayers", "query": 1}, {"dealer": "allTasks", "query": 1}])").c_str());
    acquire(bob, authorize(kTeam7Open).c_str());
    std::string pending = authorize(kTeam7Open);
    t.disconnect(alice);
    EXPECT_EQ(datasync->subscriptionCount(), 2u);
    EXPECT_EQ(datasync->findDealer("allTasks")->itemCount(), 0u);
    EXPECT_EQ(datasync->findDealer("tasks")->itemCount(), 2u);
    publish(R"([{"type": "insert", "model": "task", "data": {"team": 7, "done": false}}])");
    EXPECT_TRUE(alice->frames.empty());
    EXPECT_EQ(bob->messages().size(), 1u);
    EXPECT_EQ(acquire(bob, pending.c_str()).at("type"), "response");  // pending ones are not the client's
}

TEST_F(DataSyncTest, AuthorizeErrorsCreateNothing) {
    auto message = [&](const char* items) { return authorizeReply(items).at("message"); };
    EXPECT_EQ(message(R"([{"query": 1}])"), "Missing field 'dealer'");
    EXPECT_EQ(message(R"([{"dealer": 5, "query": 1}])"), "dealer should be a dealer name");
    EXPECT_EQ(message(R"([{"dealer": "nope", "query": 1}])"), "No such dealer");
    EXPECT_EQ(message(R"([{"dealer": "tasks"}])"), "Missing field 'query'");
    EXPECT_EQ(message(R"([{"dealer": "tasks", "query": ["=", "a", 1]}])"), "Invalid query");
    EXPECT_EQ(message(R"([{"dealer": "tasks", "query": "team"}])"), "Invalid query");
    // A bad item after good ones: the good ones are not registered either.
    EXPECT_EQ(message(R"([{"dealer": "allTasks", "query": 1}, {"dealer": "tasks", "query": 1}])"), "Invalid query");
    EXPECT_EQ(message(R"([5])"), "Invalid params");
    EXPECT_EQ(call(server, "datasync_backend", "authorizeSubscription", {{"items", "x"}}).at("message"), "Invalid params");
    EXPECT_EQ(datasync->subscriptionCount(), 0u);
    EXPECT_EQ(datasync->findDealer("allTasks")->itemCount(), 0u);
    EXPECT_EQ(t.timers.pendingCount(), 0u);
}

TEST_F(DataSyncTest, LimitsOnItemsSubscriptionsAndPending) {
    DataSyncService::Options options;
    options.maxItemsPerSubscription = 2;
    options.maxSubscriptionsPerClient = 1;
    options.maxPendingSubscriptions = 2;
    build(options);
    EXPECT_EQ(authorizeReply(R"([{"dealer": "allTasks", "query": 1}, {"dealer": "allTasks", "query": 2},
                                 {"dealer": "allTasks", "query": 3}])").at("message"), "Too many items");
    std::string first = authorize(R"([{"dealer": "allTasks", "query": 1}, {"dealer": "allTasks", "query": 2}])");
    std::string second = authorize(R"([{"dealer": "allTasks", "query": 1}])");
    EXPECT_EQ(authorizeReply(R"([{"dealer": "allTasks", "query": 1}])").at("message"), "Too many pending subscriptions");
    acquire(alice, first.c_str());
    EXPECT_EQ(acquire(alice, second.c_str()).at("message"), "Too many subscriptions");
    EXPECT_EQ(acquire(bob, second.c_str()).at("type"), "response");  // still there for someone else
    EXPECT_EQ(authorizeReply(R"([{"dealer": "allTasks", "query": 1}])").at("type"), "response");
}

TEST_F(DataSyncTest, MalformedDeltasAreRefusedWithNothingDelivered) {
    acquire(alice, authorize(R"([{"dealer": "allTasks", "query": null}])").c_str());
    const char* good = R"({"type": "insert", "model": "task", "data": {"id": 1}})";
    auto refuse = [&](const char* bad) {
        std::string deltas = std::string("[") + good + "," + bad + "]";
        return publish(deltas.c_str()).at("message");
    };
    EXPECT_EQ(refuse(R"({"type": "insert", "model": 5, "data": {}})"), "model must be string");
    EXPECT_EQ(refuse(R"({"type": "upsert", "model": "task", "data": {}})"), "Invalid delta type");
    EXPECT_EQ(refuse(R"({"type": 1, "model": "task", "data": {}})"), "Invalid delta type");
    EXPECT_EQ(refuse(R"({"model": "task", "data": {}})"), "Missing field");
    EXPECT_EQ(refuse(R"({"type": "insert", "data": {}})"), "Missing field");
    EXPECT_EQ(refuse(R"({"type": "insert", "model": "task"})"), "Missing field");
    EXPECT_EQ(refuse(R"({"type": "delete", "model": "task", "newData": {}})"), "Missing field");
    EXPECT_EQ(refuse(R"({"type": "update", "model": "task", "newData": {}})"), "Missing field");
    EXPECT_EQ(refuse(R"({"type": "update", "model": "task", "oldData": {}})"), "Missing field");
    EXPECT_EQ(refuse(R"({"type": "update", "model": "task", "new_data": {}, "old_data": {}})"), "Missing field");
    EXPECT_EQ(refuse(R"("insert")"), "Invalid params");
    EXPECT_EQ(call(server, "datasync_backend", "publishDeltas", {{"deltas", j("{}")}}).at("message"), "Invalid params");
    EXPECT_TRUE(alice->frames.empty());
    EXPECT_EQ(publish((std::string("[") + good + "]").c_str()).at("data"), nullptr);
    EXPECT_EQ(alice->messages().size(), 1u);
}

TEST_F(DataSyncTest, ModelWithoutDealerReachesNobody) {
    acquire(alice, authorize(R"([{"dealer": "allTasks", "query": null}])").c_str());
    EXPECT_EQ(publish(R"([{"type": "insert", "model": "ghost", "data": {}}])"),
              j(R"({"type": "response", "callId": 1, "data": null})"));
    EXPECT_TRUE(alice->frames.empty());
}

TEST_F(DataSyncTest, DeltasFromAnotherNodeAreRoutedFromTheFrame) {
    acquire(alice, authorize(kTeam7Open).c_str());
    // What a remote node's publish looks like here: a frame we did not build,
    // delivered by the engine without a sender and not as a local delivery.
    json::object message{{"type", "delta"},
                         {"delta", j(R"({"type": "update", "model": "task", "newData": {"team": 7, "done": false},
                                        "oldData": {"team": 6, "done": false}})")}};
    broker->deliverFromAnotherNode("datasync:datasync:task", Frame::envelope("datasync", message));
    EXPECT_EQ(alice->messages(), std::vector<json::value>{delta(R"({"type": "insert", "model": "task", "data": {"team": 7, "done": false}})")});
}


TEST(DataSyncBroker, DeltasGoThroughTheBrokerByModel) {
    ManualTimers timers;
    auto owned = std::make_unique<RecordingBroker>();
    RecordingBroker& broker = *owned;
    Node node(Engine{std::move(owned), nullptr}, timers);
    ServiceRegistry registry("test", node);
    {
        auto datasync = std::make_shared<DataSyncService>("live");
        datasync->emplaceDealer<BroadcastDealer>("a", "task");
        datasync->emplaceDealer<BroadcastDealer>("b", "task");
        datasync->emplaceDealer<BroadcastDealer>("c", "user");
        registry.registerService(datasync);
        // One topic per model, and the control topic (authorizations and acquisitions across nodes).
        EXPECT_EQ(broker.subscribed,
                  (std::set<std::string>{"datasync-control:live", "datasync:live:task", "datasync:live:user"}));
        datasync->publish(Delta::insert("task", 1));
        datasync->publish(Delta::insert("nobody", 1));
        EXPECT_EQ(broker.published, std::vector<std::string>{"datasync:live:task"});
        registry.unregisterService("live");
    }
    EXPECT_TRUE(broker.subscribed.empty());
}

namespace {
// A custom dealer with a bug: it throws for rows with "boom".
class FaultyDealer : public PredicateDealer {
public:
    using PredicateDealer::PredicateDealer;

protected:
    bool matches(const SubscriptionItem&, const json::value& data) const override {
        if (findPath(data, "boom")) throw std::runtime_error("dealer bug");
        return true;
    }
};
}  // namespace

TEST_F(DataSyncTest, AFailingCustomDealerIsAnInternalErrorAndRoutingRecovers) {
    datasync->emplaceDealer<FaultyDealer>("faulty", "gadget");
    acquire(alice, authorize(R"([{"dealer": "faulty", "query": null}])").c_str());
    EXPECT_EQ(publish(R"([{"type": "insert", "model": "gadget", "data": {"boom": 1}}])").at("message"), "Internal error");
    EXPECT_TRUE(alice->frames.empty());
    EXPECT_EQ(publish(R"([{"type": "insert", "model": "gadget", "data": {"ok": 1}}])").at("data"), nullptr);
    EXPECT_EQ(alice->messages(), std::vector<json::value>{delta(R"({"type": "insert", "model": "gadget", "data": {"ok": 1}})")});
}

namespace {
// Custom logic reading the item's query: rows scoring at least the query.
class MinScoreDealer : public PredicateDealer {
public:
    using PredicateDealer::PredicateDealer;
    std::unique_ptr<ItemState> prepare(const json::value& query) const override {
        if (!query.is_number()) throw InvalidQuery("a number");
        return nullptr;
    }

protected:
    bool matches(const SubscriptionItem& item, const json::value& data) const override {
        const json::value* score = findPath(data, "score");
        return score && score->is_number() && score->to_number<double>() >= item.query.to_number<double>();
    }
};
}  // namespace

TEST_F(DataSyncTest, CustomDealersSeeTheirItemsQueries) {
    datasync->emplaceDealer<MinScoreDealer>("minScore", "game");
    EXPECT_EQ(authorizeReply(R"([{"dealer": "minScore", "query": "high"}])").at("message"), "Invalid query");
    acquire(alice, authorize(R"([{"dealer": "minScore", "query": 10}])").c_str());
    acquire(bob, authorize(R"([{"dealer": "minScore", "query": 50}])").c_str());
    publish(R"([{"type": "insert", "model": "game", "data": {"score": 20}}])");
    EXPECT_EQ(alice->messages().size(), 1u);
    EXPECT_TRUE(bob->frames.empty());
    // Built-in dealers keep only their prepared form.
    acquire(alice, authorize(kTeam7Open).c_str());
    EXPECT_FALSE(datasync->findDealer("tasks")->keepsQuery());
    EXPECT_TRUE(datasync->findDealer("minScore")->keepsQuery());
}
