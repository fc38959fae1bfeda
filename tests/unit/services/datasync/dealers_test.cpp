#include "snorky/services/datasync/dealers.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>

using namespace snorky;
using namespace snorky::datasync;

namespace {

// Owns items for one dealer, the way DataSyncService would.
struct Items {
    Dealer& dealer;
    std::vector<std::unique_ptr<Subscription>> subscriptions;
    std::size_t nextToken = 0;

    explicit Items(Dealer& d) : dealer(d) {}
    ~Items() {
        for (auto& s : subscriptions)
            for (auto& item : s->items) dealer.remove(item);
    }
    // One subscription with one item; returns its index.
    std::size_t add(const json::value& query) {
        auto s = std::make_unique<Subscription>();
        s->token = std::to_string(nextToken++);
        s->items.reserve(1);
        s->items.emplace_back(*s, dealer, query, dealer.prepare(query));
        dealer.add(s->items.back());
        subscriptions.push_back(std::move(s));
        return subscriptions.size() - 1;
    }
    void remove(std::size_t index) {
        auto& s = subscriptions[index];
        dealer.remove(s->items.back());
        subscriptions.erase(subscriptions.begin() + static_cast<long>(index));
    }
    // Tokens of the subscriptions whose items match, sorted; fails on duplicates.
    std::vector<std::string> matching(const json::value& data) {
        struct Sink : MatchSink {
            std::vector<std::string> tokens;
            void match(SubscriptionItem& item) override { tokens.push_back(item.subscription->token); }
        } sink;
        dealer.collect(data, sink);
        std::sort(sink.tokens.begin(), sink.tokens.end());
        EXPECT_EQ(std::adjacent_find(sink.tokens.begin(), sink.tokens.end()), sink.tokens.end()) << "reported twice";
        return sink.tokens;
    }
};
using Tokens = std::vector<std::string>;

}  // namespace

TEST(DataSyncDealers, BroadcastMatchesEveryItem) {
    BroadcastDealer dealer("all", "task");
    Items items(dealer);
    EXPECT_EQ(items.matching(json::parse(R"({"a": 1})")), Tokens{});
    items.add(nullptr);
    items.add("anything");
    EXPECT_EQ(items.matching(json::parse(R"({"a": 1})")), (Tokens{"0", "1"}));
    items.remove(0);
    EXPECT_EQ(items.matching(json::parse("null")), Tokens{"1"});
    EXPECT_EQ(dealer.itemCount(), 1u);
}

TEST(DataSyncDealers, SimpleMatchesItemsWhoseQueryEqualsTheKey) {
    SimpleDealer dealer("byOwner", "task", "owner");
    Items items(dealer);
    items.add("alice");
    items.add("bob");
    items.add("alice");
    EXPECT_EQ(items.matching(json::parse(R"({"owner": "alice", "x": 1})")), (Tokens{"0", "2"}));
    EXPECT_EQ(items.matching(json::parse(R"({"owner": "carol"})")), Tokens{});
    EXPECT_EQ(items.matching(json::parse(R"({"other": "alice"})")), Tokens{});
    EXPECT_EQ(items.matching(json::parse(R"("alice")")), Tokens{});
}

TEST(DataSyncDealers, SimpleKeysOnNestedFieldsAndAnyJsonValue) {
    SimpleDealer dealer("byTeam", "task", "team.id");
    Items items(dealer);
    items.add(7);
    items.add(json::parse(R"({"b": 1, "a": 2})"));
    EXPECT_EQ(items.matching(json::parse(R"({"team": {"id": 7.0}})")), Tokens{"0"});
    EXPECT_EQ(items.matching(json::parse(R"({"team": {"id": "7"}})")), Tokens{});
    EXPECT_EQ(items.matching(json::parse(R"({"team": 7})")), Tokens{});
    EXPECT_EQ(items.matching(json::parse(R"({"team": {"id": {"a": 2, "b": 1}}})")), Tokens{"1"});
}

TEST(DataSyncDealers, SimpleRemovalFreesTheKey) {
    SimpleDealer dealer("byOwner", "task", "owner");
    Items items(dealer);
    items.add("alice");
    items.add("alice");
    items.remove(0);
    EXPECT_EQ(items.matching(json::parse(R"({"owner": "alice"})")), Tokens{"1"});
    items.remove(0);
    EXPECT_EQ(items.matching(json::parse(R"({"owner": "alice"})")), Tokens{});
    EXPECT_EQ(dealer.itemCount(), 0u);
}

TEST(DataSyncDealers, FilterMatchesByExpression) {
    FilterDealer dealer("tasks", "task");
    Items items(dealer);
    items.add(json::parse(R"(["and", ["==", "team", 7], ["==", "done", false]])"));
    items.add(json::parse(R"(["==", "team", 7])"));
    items.add(json::parse(R"([">", "priority", 2])"));
    items.add(json::parse(R"(["or", ["==", "team", 8], ["==", "owner.name", "ann"]])"));
    EXPECT_EQ(items.matching(json::parse(R"({"team": 7, "done": false, "priority": 1})")), (Tokens{"0", "1"}));
    EXPECT_EQ(items.matching(json::parse(R"({"team": 7, "done": true, "priority": 3})")), (Tokens{"1", "2"}));
    EXPECT_EQ(items.matching(json::parse(R"({"team": 8, "owner": {"name": "bo"}})")), Tokens{"3"});
    EXPECT_EQ(items.matching(json::parse(R"({"team": 9, "owner": {"name": "ann"}})")), Tokens{"3"});
    EXPECT_EQ(items.matching(json::parse(R"({"owner": "ann"})")), Tokens{});
}

TEST(DataSyncDealers, FilterRefusesInvalidQueries) {
    FilterDealer dealer("tasks", "task");
    EXPECT_THROW(dealer.prepare(json::parse(R"(["=", "a", 1])")), InvalidQuery);
    EXPECT_THROW(dealer.prepare("team"), InvalidQuery);
    EXPECT_NO_THROW(dealer.prepare(json::parse(R"(["==", "a", 1])")));
}

TEST(DataSyncDealers, FilterIndexesEqualitiesAndScansTheRest) {
    FilterDealer dealer("tasks", "task");
    Items items(dealer);
    for (int team = 0; team < 10; ++team)
        items.add(json::parse("[\"and\", [\"==\", \"done\", false], [\"==\", \"team\", " + std::to_string(team) + "]]"));
    items.add(json::parse(R"(["<", "team", 3])"));
    items.add(json::parse(R"(["or", ["==", "team", 1], ["==", "team", 2]])"));
    EXPECT_EQ(dealer.scannedGroupCount(), 2u);
    EXPECT_EQ(dealer.itemCount(), 12u);
    // Most filters went to the selective "team" field, not to done=false.
    EXPECT_EQ(dealer.indexedPathCount(), 2u);
    EXPECT_EQ(items.matching(json::parse(R"({"team": 1, "done": false})")), (Tokens{"1", "10", "11"}));
    EXPECT_EQ(items.matching(json::parse(R"({"team": 5, "done": true})")), Tokens{});
    while (!items.subscriptions.empty()) items.remove(0);
    EXPECT_EQ(dealer.indexedPathCount(), 0u);
    EXPECT_EQ(dealer.scannedGroupCount(), 0u);
    EXPECT_EQ(dealer.groupCount(), 0u);
}

TEST(DataSyncDealers, FilterItemsWithTheSameQueryShareAGroup) {
    FilterDealer dealer("tasks", "task");
    Items items(dealer);
    items.add(json::parse(R"(["==", "o", {"a": 1, "b": 2}])"));
    items.add(json::parse(R"(["==", "o", {"b": 2, "a": 1.0}])"));
    items.add(json::parse(R"(["==", "o", {"b": 2, "a": 1}])"));
    items.add(json::parse(R"(["==", "o", {"b": 3, "a": 1}])"));
    EXPECT_EQ(dealer.groupCount(), 2u);
    EXPECT_EQ(dealer.itemCount(), 4u);
    const char* row = R"({"o": {"a": 1, "b": 2}})";
    EXPECT_EQ(items.matching(json::parse(row)), (Tokens{"0", "1", "2"}));
    items.remove(0);  // the group outlives the item that created it
    EXPECT_EQ(items.matching(json::parse(row)), (Tokens{"1", "2"}));
    items.remove(0);
    items.remove(0);
    EXPECT_EQ(dealer.groupCount(), 1u);
    EXPECT_EQ(items.matching(json::parse(row)), Tokens{});
    EXPECT_EQ(items.matching(json::parse(R"({"o": {"a": 1, "b": 3}})")), Tokens{"3"});
}

namespace {
// A custom keyed dealer: the key is computed, not read from one field.
class InitialDealer : public KeyedDealer {
public:
    using KeyedDealer::KeyedDealer;

protected:
    bool keyOf(const json::value& data, std::string& key) const override {
        const json::value* name = findPath(data, "name");
        if (!name || !name->is_string() || name->get_string().empty()) return false;
        key = canonicalJson(json::string(std::string_view(name->get_string()).substr(0, 1)));
        return true;
    }
};
// A custom predicate: rows whose "score" is a multiple of the query.
class MultipleDealer : public PredicateDealer {
public:
    using PredicateDealer::PredicateDealer;
    std::unique_ptr<ItemState> prepare(const json::value& query) const override {
        if (!query.is_int64() || query.get_int64() <= 0) throw InvalidQuery("a positive integer");
        return nullptr;
    }

protected:
    bool matches(const SubscriptionItem& item, const json::value& data) const override {
        const json::value* score = findPath(data, "score");
        return score && score->is_int64() && score->get_int64() % item.query.get_int64() == 0;
    }
};
}  // namespace

TEST(DataSyncDealers, CustomKeyedDealer) {
    InitialDealer dealer("byInitial", "person");
    Items items(dealer);
    items.add("a");
    items.add("b");
    EXPECT_EQ(items.matching(json::parse(R"({"name": "ann"})")), Tokens{"0"});
    EXPECT_EQ(items.matching(json::parse(R"({"name": ""})")), Tokens{});
}

TEST(DataSyncDealers, CustomPredicateDealer) {
    MultipleDealer dealer("multiples", "score");
    Items items(dealer);
    EXPECT_THROW(dealer.prepare("x"), InvalidQuery);
    items.add(2);
    items.add(3);
    EXPECT_EQ(items.matching(json::parse(R"({"score": 6})")), (Tokens{"0", "1"}));
    EXPECT_EQ(items.matching(json::parse(R"({"score": 4})")), Tokens{"0"});
}

// The index must never change a result: the same filters evaluated one by
// one against the same rows give the same sets, while filters come and go.
TEST(DataSyncDealers, FilterIndexAgreesWithNaiveEvaluation) {
    std::mt19937 rng(20261128);
    auto pick = [&rng](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
    const char* fields[] = {"team", "done", "owner", "meta.level", "score"};
    auto value = [&](int field) -> json::value {
        switch (field) {
            case 0: return pick(6) == 0 ? json::value(pick(5) + 0.0) : json::value(pick(5));  // 3 and 3.0
            case 1: return pick(2) == 0;
            case 2: return json::string(std::string(1, static_cast<char>('a' + pick(4))));
            case 3: return pick(3) == 0 ? json::value("x") : json::value(pick(4));
            default: return pick(10) - 3;
        }
    };
    std::function<json::value(int)> expression = [&](int depth) -> json::value {
        int kind = pick(depth > 2 ? 6 : 9);
        int field = pick(5);
        static const char* ops[] = {"==", "==", "==", "<", "<=", ">", ">="};
        if (kind < 6) return json::array{ops[pick(7)], fields[field], value(field)};
        json::array e;
        e.push_back(kind == 6 ? "and" : kind == 7 ? "or" : "not");
        int n = kind == 8 ? 1 : pick(4);
        for (int i = 0; i < n; ++i) e.push_back(expression(depth + 1));
        return e;
    };
    auto row = [&]() {
        json::object data;
        for (int f = 0; f < 5; ++f) {
            if (pick(8) == 0) continue;  // missing fields
            if (f == 3)
                data["meta"] = json::object{{"level", value(3)}};
            else
                data[fields[f]] = value(f);
        }
        return json::value(std::move(data));
    };

    FilterDealer dealer("random", "row");
    Items items(dealer);
    std::vector<Filter> naive;  // parallel to items.subscriptions
    std::size_t matchesSeen = 0, indexedSeen = 0;
    for (int round = 0; round < 300; ++round) {
        for (int i = 0; i < 10; ++i) {
            json::value query = expression(0);
            items.add(query);
            naive.push_back(Filter::compile(query));
        }
        for (int i = 0; i < 4 && !naive.empty(); ++i) {
            std::size_t victim = static_cast<std::size_t>(pick(static_cast<int>(naive.size())));
            items.remove(victim);
            naive.erase(naive.begin() + static_cast<long>(victim));
        }
        indexedSeen += dealer.groupCount() - dealer.scannedGroupCount();
        for (int r = 0; r < 5; ++r) {
            json::value data = row();
            Tokens expected;
            for (std::size_t i = 0; i < naive.size(); ++i)
                if (naive[i].matches(data)) expected.push_back(items.subscriptions[i]->token);
            std::sort(expected.begin(), expected.end());
            ASSERT_EQ(items.matching(data), expected) << json::serialize(data);
            matchesSeen += expected.size();
        }
    }
    // The comparison was not vacuous: rows matched, and through the index too.
    EXPECT_GT(matchesSeen, 1000u);
    EXPECT_GT(indexedSeen, 1000u);
    EXPECT_LT(dealer.groupCount(), dealer.itemCount());  // shared groups were exercised too
}
