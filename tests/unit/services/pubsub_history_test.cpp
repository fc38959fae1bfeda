// PubSub history and recovery on the memory engine (docs/history.md).
#include <gtest/gtest.h>

#include <set>

#include "snorky/core/memory_broker.hpp"
#include "snorky/services/pubsub.hpp"
#include "support/fake_client.hpp"

using namespace snorky;
using namespace snorky::testing;

namespace {

PubSubService::Options historyOptions(std::size_t size, int ttl = 60) {
    PubSubService::Options options;
    options.history = HistoryOptions{size, std::chrono::seconds(ttl)};
    return options;
}

struct HistoryTest : ::testing::Test {
    explicit HistoryTest(PubSubService::Options options = historyOptions(5), Engine engine = Engine::memory())
        : t(std::move(engine)), pubsub(std::make_shared<PubSubService>("pubsub", std::move(options))) {
        t.registry.registerService(pubsub);
        backend = std::make_shared<PubSubBackend>("pubsub_backend", *pubsub);
        t.registry.registerService(backend);
    }
    TestNode t;
    std::shared_ptr<PubSubService> pubsub;
    std::shared_ptr<PubSubBackend> backend;
    FakeClientPtr connect() {
        auto client = FakeClient::make();
        t.connect(client);
        return client;
    }
    json::value call(const FakeClientPtr& c, const char* service, const char* command, json::object params) {
        t.call(c, service, command, std::move(params));
        json::value reply = c->last();
        c->frames.pop_back();
        return reply;
    }
    json::value subscribe(const FakeClientPtr& c, json::object params) {
        return call(c, "pubsub", "subscribe", std::move(params));
    }
    void publishMany(const char* channel, int from, int to) {
        for (int i = from; i <= to; ++i) pubsub->publish(channel, i);
    }
};

json::object since(std::uint64_t offset, const json::value& epoch) {
    return json::object{{"offset", offset}, {"epoch", epoch}};
}

}  // namespace

TEST_F(HistoryTest, PlainSubscribeIsTheOriginalProtocol) {
    auto alice = connect();
    EXPECT_EQ(subscribe(alice, {{"channel", "news"}}).at("data"), nullptr);
    pubsub->publish("news", "hi");
    EXPECT_EQ(alice->messages(), std::vector<json::value>{json::parse(R"({"type":"message","channel":"news","message":"hi"})")});
    // recover: false is the same as no recover.
    auto bob = connect();
    EXPECT_EQ(subscribe(bob, {{"channel", "news"}, {"recover", false}}).at("data"), nullptr);
}

TEST_F(HistoryTest, RecoverAnswersThePositionAndNumbersMessages) {
    publishMany("news", 1, 2);
    auto alice = connect();
    json::value answer = subscribe(alice, {{"channel", "news"}, {"recover", true}}).at("data");
    EXPECT_EQ(answer.at("offset"), 2);
    EXPECT_TRUE(answer.at("epoch").is_string());
    EXPECT_FALSE(answer.as_object().contains("recovered"));
    pubsub->publish("news", "x");
    EXPECT_EQ(alice->messages(),
              std::vector<json::value>{json::parse(R"({"type":"message","channel":"news","message":"x","offset":3})")});
}

TEST_F(HistoryTest, SinceRecoversWhatWasMissedThenLive) {
    auto alice = connect();
    json::value first = subscribe(alice, {{"channel", "news"}, {"recover", true}}).at("data");
    publishMany("news", 1, 2);
    alice->messages();
    t.disconnect(alice);
    publishMany("news", 3, 6);
    auto again = connect();
    json::value answer = subscribe(again, {{"channel", "news"}, {"since", since(2, first.at("epoch"))}}).at("data");
    EXPECT_EQ(answer.at("recovered"), true);
    EXPECT_EQ(answer.at("offset"), 6);
    EXPECT_EQ(answer.at("epoch"), first.at("epoch"));
    EXPECT_EQ(answer.at("publications"),
              json::parse(R"([{"offset":3,"message":3},{"offset":4,"message":4},{"offset":5,"message":5},{"offset":6,"message":6}])"));
    pubsub->publish("news", 7);
    EXPECT_EQ(again->messages().at(0).at("offset"), 7);
}

TEST_F(HistoryTest, NothingMissedIsRecoveredWithNoPublications) {
    auto alice = connect();
    json::value first = subscribe(alice, {{"channel", "c"}, {"recover", true}}).at("data");
    t.disconnect(alice);
    auto again = connect();
    json::value answer = subscribe(again, {{"channel", "c"}, {"since", since(0, first.at("epoch"))}}).at("data");
    EXPECT_EQ(answer.at("recovered"), true);
    EXPECT_EQ(answer.at("publications"), json::array());
}

TEST_F(HistoryTest, AtMostTwoFramesPerMessage) {
    auto plain1 = connect(), plain2 = connect(), numbered1 = connect(), numbered2 = connect();
    subscribe(plain1, {{"channel", "x"}});
    subscribe(plain2, {{"channel", "x"}});
    subscribe(numbered1, {{"channel", "x"}, {"recover", true}});
    subscribe(numbered2, {{"channel", "x"}, {"since", since(0, "whatever")}});
    pubsub->publish("x", 1);
    std::set<const Frame*> distinct;
    for (auto& c : {plain1, plain2, numbered1, numbered2}) {
        ASSERT_EQ(c->frames.size(), 1u);
        distinct.insert(c->frames[0].get());
    }
    EXPECT_EQ(distinct.size(), 2u);
    EXPECT_EQ(plain1->frames[0].get(), plain2->frames[0].get());
    EXPECT_EQ(numbered1->frames[0].get(), numbered2->frames[0].get());
}

TEST_F(HistoryTest, BeyondHistorySizeRecoveryFailsCleanly) {
    auto alice = connect();
    json::value first = subscribe(alice, {{"channel", "news"}, {"recover", true}}).at("data");
    t.disconnect(alice);
    publishMany("news", 1, 6);  // history_size 5 + 1
    auto again = connect();
    json::value answer = subscribe(again, {{"channel", "news"}, {"since", since(0, first.at("epoch"))}}).at("data");
    EXPECT_EQ(answer, json::parse(R"({"recovered":false,"offset":6,"epoch":)" +
                                  json::serialize(first.at("epoch")) + "}"));
    // Still subscribed, numbered from there.
    pubsub->publish("news", 7);
    EXPECT_EQ(again->messages().at(0).at("offset"), 7);
    // From offset 1, all five after it are held.
    auto third = connect();
    answer = subscribe(third, {{"channel", "news"}, {"since", since(2, first.at("epoch"))}}).at("data");
    EXPECT_EQ(answer.at("recovered"), true);
    EXPECT_EQ(answer.at("publications").as_array().size(), 5u);
    auto fourth = connect();
    answer = subscribe(fourth, {{"channel", "news"}, {"since", since(1, first.at("epoch"))}}).at("data");
    EXPECT_EQ(answer.at("recovered"), false);
}

TEST_F(HistoryTest, WrongEpochOrFutureOffsetIsNotRecovered) {
    publishMany("news", 1, 2);
    auto alice = connect();
    json::value answer = subscribe(alice, {{"channel", "news"}, {"since", since(1, "other")}}).at("data");
    EXPECT_EQ(answer.at("recovered"), false);
    EXPECT_EQ(answer.at("offset"), 2);
    auto bob = connect();
    answer = subscribe(bob, {{"channel", "news"}, {"since", since(9, answer.at("epoch"))}}).at("data");
    EXPECT_EQ(answer.at("recovered"), false);
}

TEST_F(HistoryTest, ExpiredStreamGetsANewEpoch) {
    auto alice = connect();
    json::value first = subscribe(alice, {{"channel", "news"}, {"recover", true}}).at("data");
    publishMany("news", 1, 2);
    t.disconnect(alice);
    t.timers.advance(std::chrono::seconds(61));
    auto again = connect();
    json::value answer = subscribe(again, {{"channel", "news"}, {"since", since(2, first.at("epoch"))}}).at("data");
    EXPECT_EQ(answer.at("recovered"), false);
    EXPECT_NE(answer.at("epoch"), first.at("epoch"));
    EXPECT_EQ(answer.at("offset"), 0);
}

TEST_F(HistoryTest, BadSinceIsRefusedAndTouchesNothing) {
    auto alice = connect();
    for (const char* bad : {R"({"offset":1})", R"({"epoch":"e"})", R"({"offset":-1,"epoch":"e"})",
                            R"({"offset":1.5,"epoch":"e"})", R"({"offset":1,"epoch":2})",
                            R"({"offset":1,"epoch":"e","more":1})", R"({"offset":1e300,"epoch":"e"})"}) {
        EXPECT_EQ(subscribe(alice, {{"channel", "c"}, {"since", json::parse(bad)}}).at("message"), "Invalid params") << bad;
    }
    EXPECT_EQ(subscribe(alice, {{"channel", "c"}, {"since", since(1, json::string(std::string(65, 'e')))}}).at("message"),
              "Invalid params");
    EXPECT_EQ(subscribe(alice, {{"channel", "c"}, {"since", 3}}).at("message"), "Invalid params");
    EXPECT_EQ(subscribe(alice, {{"channel", "c"}, {"recover", "yes"}}).at("message"), "Invalid params");
    EXPECT_EQ(pubsub->channelCount(), 0u);
}

TEST_F(HistoryTest, BackendHistoryCommand) {
    auto server = connect();
    publishMany("news", 1, 4);
    json::value all = call(server, "pubsub_backend", "history", {{"channel", "news"}}).at("data");
    EXPECT_EQ(all.at("offset"), 4);
    EXPECT_EQ(all.at("publications").as_array().size(), 4u);
    EXPECT_EQ(all.at("complete"), true);
    json::value newest = call(server, "pubsub_backend", "history", {{"channel", "news"}, {"limit", 2}}).at("data");
    EXPECT_EQ(newest.at("publications"), json::parse(R"([{"offset":3,"message":3},{"offset":4,"message":4}])"));
    json::value after = call(server, "pubsub_backend", "history", {{"channel", "news"}, {"since", 1}, {"limit", 1}}).at("data");
    EXPECT_EQ(after.at("publications"), json::parse(R"([{"offset":2,"message":2}])"));
    for (json::object bad : {json::object{{"channel", "news"}, {"limit", 0}}, json::object{{"channel", "news"}, {"since", -1}},
                             json::object{{"channel", "news"}, {"limit", "2"}}})
        EXPECT_EQ(call(server, "pubsub_backend", "history", bad).at("message"), "Invalid params");
}

namespace {
struct NamespacedHistoryTest : HistoryTest {
    static PubSubService::Options options() {
        PubSubService::Options o;  // no service-wide history
        PubSubService::Namespace news;
        news.prefix = "news:";
        news.historySize = 3;
        o.namespaces = {news, PubSubService::Namespace{}};
        return o;
    }
    NamespacedHistoryTest() : HistoryTest(options()) {}
};
}  // namespace

TEST_F(NamespacedHistoryTest, OnlyTheNamespaceKeepsHistory) {
    auto alice = connect();
    EXPECT_EQ(subscribe(alice, {{"channel", "other"}, {"recover", true}}).at("data"), nullptr);
    EXPECT_EQ(subscribe(alice, {{"channel", "news:a"}, {"recover", true}}).at("data").at("offset"), 0);
    pubsub->publish("other", 1);
    EXPECT_FALSE(alice->messages().at(0).as_object().contains("offset"));
    EXPECT_EQ(call(alice, "pubsub_backend", "history", {{"channel", "other"}}).at("message"),
              "History is not enabled for this channel");
}

namespace {
struct CappedHistoryTest : HistoryTest {
    CappedHistoryTest()
        : HistoryTest(historyOptions(100), Engine{std::make_unique<MemoryBroker>(5 * 1024), nullptr}) {}
    MemoryBroker& broker() { return static_cast<MemoryBroker&>(t.node.broker()); }
};
}  // namespace

TEST_F(CappedHistoryTest, OldestStreamsAreEvictedOverTheCapAndCounted) {
    json::value big = json::string(std::string(900, 'x'));
    pubsub->publish("a", big);
    pubsub->publish("a", big);
    pubsub->publish("b", big);
    pubsub->publish("b", big);
    EXPECT_EQ(t.node.metrics().historyEvictions, 0u);
    pubsub->publish("c", big);  // over 5 KiB: "a", published least recently, goes
    EXPECT_LE(broker().historyBytes(), 5u * 1024);
    EXPECT_EQ(t.node.metrics().historyEvictions, 1u);
    EXPECT_EQ(broker().streamCount(), 2u);
    EXPECT_NE(t.node.metrics().render().find("snorky_history_evictions_total 1"), std::string::npos);
    // One stream alone over the cap keeps its newest messages.
    for (int i = 0; i < 10; ++i) pubsub->publish("d", big);
    EXPECT_LE(broker().historyBytes(), 5u * 1024);
    auto alice = connect();
    json::value answer = call(alice, "pubsub_backend", "history", {{"channel", "d"}}).at("data");
    EXPECT_EQ(answer.at("offset"), 10);
    EXPECT_EQ(answer.at("publications").as_array().back().at("offset"), 10);
}
