// How many deltas per second DataSync routes with 100,000 filter
// subscriptions spread over 1,000 teams, against a naive scan of the same
// filters. Run: ./build/bench/datasync/datasync_bench
#include <benchmark/benchmark.h>

#include <memory>
#include <random>
#include <vector>

#include "snorky/core/broker.hpp"
#include "snorky/core/node.hpp"
#include "snorky/core/service_registry.hpp"
#include "snorky/services/datasync/datasync_service.hpp"

using namespace snorky;
using namespace snorky::datasync;

namespace {

constexpr int kSubscriptions = 100'000;
constexpr int kTeams = 1'000;

// Half the views are "open tasks of team t", half "tasks of team t with
// priority at least p": every filter has a team equality the index can use.
// Shared: 6,000 distinct views, each watched by ~17 subscriptions (many
// browsers on the same page). Distinct: a condition that is always true
// (id < 1,000,000 + i) makes all 100,000 filters different, same matches.
enum Mode { kShared = 0, kDistinct = 1 };
json::value queryFor(int i, Mode mode) {
    std::string team = "[\"==\", \"team\", " + std::to_string(i % kTeams) + "]";
    std::string second = i % 2 == 0 ? "[\"==\", \"done\", false]"
                                    : "[\">=\", \"priority\", " + std::to_string(i / kTeams % 5) + "]";
    std::string unique = mode == kDistinct ? ", [\"<\", \"id\", " + std::to_string(1'000'000 + i) + "]" : "";
    return json::parse("[\"and\", " + team + ", " + second + unique + "]");
}

std::vector<json::value> rows(std::size_t n) {
    std::mt19937 rng(42);
    std::vector<json::value> out;
    for (std::size_t i = 0; i < n; ++i) {
        json::object row;
        row["id"] = i;
        row["title"] = "task " + std::to_string(i);
        row["team"] = static_cast<int>(rng() % kTeams);
        row["done"] = rng() % 2 == 0;
        row["priority"] = static_cast<int>(rng() % 5);
        out.emplace_back(std::move(row));
    }
    return out;
}

struct CountingSink : MatchSink {
    std::size_t matches = 0;
    void match(SubscriptionItem&) override { ++matches; }
};

// The filters, held once by the indexed dealer and once in a plain list.
struct Filters {
    FilterDealer dealer{"tasks", "task"};
    std::vector<std::unique_ptr<Subscription>> subscriptions;
    std::vector<Filter> naive;
    explicit Filters(Mode mode) {
        for (int i = 0; i < kSubscriptions; ++i) {
            auto s = std::make_unique<Subscription>();
            json::value query = queryFor(i, mode);
            s->items.reserve(1);
            s->items.emplace_back(*s, dealer, query, dealer.prepare(query));
            dealer.add(s->items.back());
            subscriptions.push_back(std::move(s));
            naive.push_back(Filter::compile(query));
        }
    }
    static Filters& get(std::int64_t mode) {
        static Filters shared(kShared), distinct(kDistinct);
        return mode == kShared ? shared : distinct;
    }
};

void BM_FilterDealerIndexed(benchmark::State& state) {
    Filters& f = Filters::get(state.range(0));
    auto data = rows(1024);
    std::size_t i = 0, matches = 0;
    for (auto _ : state) {
        CountingSink sink;
        f.dealer.collect(data[i++ & 1023], sink);
        matches += sink.matches;
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
    state.counters["matches_per_delta"] = static_cast<double>(matches) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_FilterDealerIndexed)->ArgName("distinct")->Arg(kShared)->Arg(kDistinct);

void BM_NaiveScan(benchmark::State& state) {
    Filters& f = Filters::get(state.range(0));
    auto data = rows(1024);
    std::size_t i = 0, matches = 0;
    for (auto _ : state) {
        const json::value& row = data[i++ & 1023];
        for (const Filter& filter : f.naive) matches += filter.matches(row);
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
    state.counters["matches_per_delta"] = static_cast<double>(matches) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_NaiveScan)->ArgName("distinct")->Arg(kShared)->Arg(kDistinct)->Unit(benchmark::kMillisecond);

// The whole path: backend publish -> broker -> dealers -> per-subscription
// dedup and update routing -> one shared frame per recipient.
class NullClient : public Client {
public:
    NullClient() : Client("bench") {}
    void send(const FramePtr&) override { ++frames; }
    std::size_t frames = 0;
};

class NoTimers : public Timers {
public:
    Handle schedule(std::chrono::milliseconds, std::function<void()>) override { return ++last_; }
    void cancel(Handle) override {}

private:
    Handle last_ = 0;
};

struct Service {
    NoTimers timers;
    Node node{Engine::memory(), timers};
    ServiceRegistry registry{"bench", node};
    std::shared_ptr<DataSyncService> datasync;
    std::vector<std::shared_ptr<NullClient>> clients;
    explicit Service(Mode mode) {
        DataSyncService::Options options;
        options.maxPendingSubscriptions = kSubscriptions;
        options.maxSubscriptionsPerClient = kSubscriptions;
        datasync = std::make_shared<DataSyncService>("datasync", options);
        datasync->emplaceDealer<FilterDealer>("tasks", "task");
        registry.registerService(datasync);
        for (int c = 0; c < 1000; ++c) clients.push_back(std::make_shared<NullClient>());
        for (int i = 0; i < kSubscriptions; ++i) {
            json::array items{json::object{{"dealer", "tasks"}, {"query", queryFor(i, mode)}}};
            std::string token = datasync->authorize(items);
            json::object message{{"command", "acquireSubscription"}, {"params", {{"token", token}}}};
            auto& client = clients[static_cast<std::size_t>(i) % clients.size()];
            registry.dispatch(client, "datasync", message);
        }
    }
    std::size_t frames() const {
        std::size_t n = 0;
        for (auto& c : clients) n += c->frames;
        return n;
    }
    static Service& get(std::int64_t mode) {
        static std::unique_ptr<Service> services[2];
        auto& service = services[mode];
        if (!service) service = std::make_unique<Service>(static_cast<Mode>(mode));
        return *service;
    }
};

void BM_ServicePublishInsert(benchmark::State& state) {
    Service& s = Service::get(state.range(0));
    auto data = rows(1024);
    std::vector<Delta> deltas;
    for (auto& row : data) deltas.push_back(Delta::insert("task", row));
    std::size_t i = 0, framesBefore = s.frames();
    for (auto _ : state) s.datasync->publish(deltas[i++ & 1023]);
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
    state.counters["frames_per_delta"] =
        static_cast<double>(s.frames() - framesBefore) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_ServicePublishInsert)->ArgName("distinct")->Arg(kShared)->Arg(kDistinct);

void BM_ServicePublishUpdate(benchmark::State& state) {
    Service& s = Service::get(state.range(0));
    auto data = rows(1025);
    std::vector<Delta> deltas;
    for (std::size_t k = 0; k < 1024; ++k) deltas.push_back(Delta::update("task", data[k + 1], data[k]));
    std::size_t i = 0, framesBefore = s.frames();
    for (auto _ : state) s.datasync->publish(deltas[i++ & 1023]);
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
    state.counters["frames_per_delta"] =
        static_cast<double>(s.frames() - framesBefore) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_ServicePublishUpdate)->ArgName("distinct")->Arg(kShared)->Arg(kDistinct);

}  // namespace

BENCHMARK_MAIN();
