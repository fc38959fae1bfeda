// ClusterQuery on the memory engine with hand-driven timers: a lone node
// answers itself at once; a node listed in the cluster state is waited for
// until it answers or the timeout passes; the node's own key lives while it
// does.
#include "snorky/services/cluster_query.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <vector>

#include "snorky/core/memory_cluster_state.hpp"
#include "support/fake_client.hpp"

using namespace snorky;
using namespace snorky::testing;
using namespace std::chrono_literals;

namespace {

// An engine that cannot say which nodes live.
class UnreachableClusterState : public MemoryClusterState {
public:
    void listKeys(const std::string&, ListDone done) override { done(Result::Unavailable, {}); }
};

struct Gathering {
    bool ended = false;
    bool ok = false;
    std::vector<json::value> answers;
    ClusterQuery::Gathered callback() {
        return [this](bool isOk, std::vector<json::value> got) {
            EXPECT_FALSE(ended) << "a gathering ends once";
            ended = true;
            ok = isOk;
            answers = std::move(got);
        };
    }
};

struct ClusterQueryTest : ::testing::Test {
    TestNode t;
    std::unique_ptr<ClusterQuery> query = std::make_unique<ClusterQuery>("svc", 3000ms, 2000ms);
    std::vector<json::value> questions;  // as this node was asked them

    void SetUp() override {
        query->start(t.node, [this](const json::object& question) {
            questions.emplace_back(question);
            return json::value("local answer");
        });
    }
    std::vector<std::string> nodeKeys() {
        std::vector<std::string> out;
        t.node.cluster().listKeys("cluster-query:svc:", [&](ClusterState::Result, std::vector<std::string> keys) {
            out = std::move(keys);
        });
        return out;
    }
    // Another node, alive as far as the cluster state knows.
    void listNode(const std::string& id) { t.node.cluster().refreshKey("cluster-query:svc:" + id, id, 10s); }
    // What another node answers to question `id`.
    void answerFrom(const std::string& node, std::int64_t id, json::value answer) {
        json::object message{{"id", id}, {"node", node}, {"answer", std::move(answer)}};
        t.node.broker().publish("cluster-query:svc:local", Frame::envelope("svc", message), nullptr);
    }
};

}  // namespace

TEST_F(ClusterQueryTest, ALoneNodeAnswersItselfAtOnce) {
    Gathering g;
    query->ask(json::object{{"what", "channels"}}, g.callback());
    ASSERT_TRUE(g.ended);
    EXPECT_TRUE(g.ok);
    EXPECT_EQ(g.answers, std::vector<json::value>{json::value("local answer")});
    EXPECT_EQ(questions, std::vector<json::value>{json::parse(R"({"what":"channels"})")});
    EXPECT_EQ(t.timers.pendingCount(), 1u);  // only the heartbeat: the gathering's timer is gone
}

TEST_F(ClusterQueryTest, AListedNodeIsWaitedForUntilItAnswers) {
    listNode("other");
    Gathering g;
    query->ask(json::object{}, g.callback());
    EXPECT_FALSE(g.ended);
    answerFrom("stranger-but-alive", 1, 5);  // started after the listing: its answer counts, the wait goes on
    answerFrom("other", 2, 6);               // another question's: ignored
    EXPECT_FALSE(g.ended);
    answerFrom("other", 1, 7);
    ASSERT_TRUE(g.ended);
    EXPECT_EQ(g.answers, (std::vector<json::value>{json::value("local answer"), 5, 7}));
    answerFrom("other", 1, 8);  // late, or twice: nothing happens
}

TEST_F(ClusterQueryTest, ANodeThatNeverAnswersIsLeftOutAfterTheTimeout) {
    listNode("dead");
    Gathering g;
    query->ask(json::object{}, g.callback());
    t.timers.advance(1999ms);
    EXPECT_FALSE(g.ended);
    t.timers.advance(1ms);
    ASSERT_TRUE(g.ended);
    EXPECT_TRUE(g.ok);
    EXPECT_EQ(g.answers, std::vector<json::value>{json::value("local answer")});
}

TEST_F(ClusterQueryTest, MalformedAnswersAreIgnored) {
    listNode("other");
    Gathering g;
    query->ask(json::object{}, g.callback());
    t.node.broker().publish("cluster-query:svc:local", Frame::text("not json"), nullptr);
    t.node.broker().publish("cluster-query:svc:local", Frame::envelope("svc", json::array{1}), nullptr);
    answerFrom("other", -1, 1);
    t.node.broker().publish("cluster-query:svc:local",
                            Frame::envelope("svc", json::object{{"id", 1}, {"node", 42}, {"answer", 1}}), nullptr);
    EXPECT_FALSE(g.ended);
    answerFrom("other", 1, 1);
    EXPECT_TRUE(g.ended);
}

TEST_F(ClusterQueryTest, ItsNodeKeyLivesWhileItDoes) {
    EXPECT_EQ(nodeKeys(), std::vector<std::string>{"cluster-query:svc:local"});
    t.timers.advance(10s);  // three TTLs: refreshed all along
    EXPECT_EQ(nodeKeys(), std::vector<std::string>{"cluster-query:svc:local"});
    query.reset();
    EXPECT_TRUE(nodeKeys().empty());
}

TEST(ClusterQuery, AnEngineThatCannotListNodesEndsTheGatheringNotOk) {
    TestNode t{Engine{nullptr, std::make_unique<UnreachableClusterState>()}};
    ClusterQuery query("svc", 3000ms, 2000ms);
    query.start(t.node, [](const json::object&) { return json::value(1); });
    Gathering g;
    query.ask(json::object{}, g.callback());
    ASSERT_TRUE(g.ended);
    EXPECT_FALSE(g.ok);
}
