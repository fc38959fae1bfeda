// PubSub history and recovery through the real binary, on the memory engine
// (one node) and on Redis (two nodes on a private redis-server: the client
// drops from one node and recovers on the other): a subscriber whose socket
// dies gets what it missed on reconnect, exactly once and in order, also
// while messages keep being published; a lost stream (history too short,
// server or Redis restarted, Redis flushed, node killed) is told as
// recovered: false, or recovered from Redis.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <optional>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "support/clients.hpp"
#include "support/redis_process.hpp"
#include "support/server_process.hpp"
#include "support/wait_until.hpp"

using namespace snorky::it;
using snorky::testing::waitUntil;

namespace {

const std::string kServices = R"(
[[service]]
name = "history"
type = "pubsub"
registry = "frontend"
client_publish = false
history_size = 1000
history_ttl = 60

[[service.namespace]]
prefix = "small:"
history_size = 5

[[service.namespace]]

[[service]]
name = "history_backend"
type = "pubsub_backend"
registry = "backend"
pubsub = "history"
)";

// The memory engine: one node, a() and b() are the same.
struct MemoryNodes {
    static const char* missing() { return nullptr; }
    void start() { nodes.push_back(std::make_unique<ServerProcess>(basicConfig(true, "", kServices))); }
    ServerProcess& b() { return *nodes.back(); }
    std::vector<std::unique_ptr<ServerProcess>> nodes;
};

// Redis: two nodes on one redis-server; a client drops from a() and recovers on b().
struct RedisNodes {
    static const char* missing() { return RedisProcess::available() ? nullptr : "redis-server is not installed"; }
    void start() {
        redis = std::make_unique<RedisProcess>();
        for (int i = 0; i < 2; ++i)
            nodes.push_back(std::make_unique<ServerProcess>(withEngine(basicConfig(true, "", kServices), redis->url())));
    }
    ServerProcess& b() { return *nodes.back(); }
    std::unique_ptr<RedisProcess> redis;
    std::vector<std::unique_ptr<ServerProcess>> nodes;
};

template <class Nodes>
struct PubSubHistory : ::testing::Test {
    void SetUp() override {
        if (const char* why = Nodes::missing()) GTEST_SKIP() << why;
        cluster.start();
    }
    ServerProcess& a() { return *cluster.nodes.front(); }
    ServerProcess& b() { return cluster.b(); }
    // Answered once the message is in the stream, on either engine: what
    // follows needs no wait.
    void publish(const std::string& channel, json::value message, ServerProcess* node = nullptr) {
        ASSERT_EQ(backendCall((node ? *node : a()).backendPort(), "history_backend", "publish",
                              {{"channel", channel}, {"message", std::move(message)}})
                      .at("type"),
                  "response");
    }
    std::unique_ptr<WsClient> connect(ServerProcess& node) { return std::make_unique<WsClient>(node.frontendPort()); }
    std::unique_ptr<WsClient> connect() { return connect(a()); }
    Nodes cluster;
};

struct NodesNames {
    template <class T>
    static std::string GetName(int) {
        return std::is_same_v<T, MemoryNodes> ? "Memory" : "Redis";
    }
};
using AllNodes = ::testing::Types<MemoryNodes, RedisNodes>;
TYPED_TEST_SUITE(PubSubHistory, AllNodes, NodesNames);

json::object since(std::uint64_t offset, const json::value& epoch) {
    return json::object{{"offset", offset}, {"epoch", epoch}};
}

}  // namespace

TYPED_TEST(PubSubHistory, AbruptCloseThenAHundredMissedThenLive) {
    auto client = this->connect();
    json::value first = client->request("history", "subscribe", {{"channel", "news"}, {"recover", true}});
    ASSERT_EQ(first.at("type"), "response") << first;
    json::value epoch = first.at("data").at("epoch");
    EXPECT_EQ(first.at("data").at("offset"), 0);
    this->publish("news", 0);
    EXPECT_EQ(client->expectMessage().at("offset"), 1);
    client.reset();  // the TCP connection dies, no close frame
    for (int i = 1; i <= 100; ++i) this->publish("news", i);

    auto again = this->connect(this->b());  // with Redis, another node
    json::value answer = again->request("history", "subscribe", {{"channel", "news"}, {"since", since(1, epoch)}});
    ASSERT_EQ(answer.at("type"), "response") << answer;
    const json::object& data = answer.at("data").as_object();
    EXPECT_EQ(data.at("recovered"), true);
    EXPECT_EQ(data.at("epoch"), epoch);
    EXPECT_EQ(data.at("offset"), 101);
    const json::array& publications = data.at("publications").as_array();
    ASSERT_EQ(publications.size(), 100u);
    for (int i = 1; i <= 100; ++i) {
        EXPECT_EQ(publications[i - 1].at("offset"), i + 1);
        EXPECT_EQ(publications[i - 1].at("message"), i);
    }
    this->publish("news", "live");
    json::value live = again->expectMessage();
    EXPECT_EQ(live.at("offset"), 102);
    EXPECT_EQ(live.at("message"), "live");
    EXPECT_TRUE(again->silentFor(std::chrono::milliseconds(100)));
}

TYPED_TEST(PubSubHistory, ASubscriberWithoutParamsSeesTheOriginalProtocol) {
    auto client = this->connect();
    json::value answer = client->request("history", "subscribe", {{"channel", "news"}});
    EXPECT_EQ(answer.at("data"), nullptr);
    this->publish("news", "hi");
    EXPECT_EQ(client->expectMessage(), json::parse(R"({"type":"message","channel":"news","message":"hi"})"));
}

TYPED_TEST(PubSubHistory, OneMoreThanHistorySizeFailsCleanly) {
    auto client = this->connect();
    json::value epoch = client->request("history", "subscribe", {{"channel", "small:a"}, {"recover", true}})
                            .at("data")
                            .at("epoch");
    client.reset();
    for (int i = 1; i <= 6; ++i) this->publish("small:a", i);
    auto again = this->connect(this->b());
    json::value answer = again->request("history", "subscribe", {{"channel", "small:a"}, {"since", since(0, epoch)}});
    EXPECT_EQ(answer.at("data"), json::parse(R"({"recovered":false,"offset":6,"epoch":)" + json::serialize(epoch) + "}"));
    this->publish("small:a", 7);
    EXPECT_EQ(again->expectMessage().at("offset"), 7);
    // The backend reads what is held: the last five.
    json::value held = backendCall(this->b().backendPort(), "history_backend", "history", {{"channel", "small:a"}});
    EXPECT_EQ(held.at("data").at("publications").as_array().front().at("offset"), 3);
    EXPECT_EQ(held.at("data").at("publications").as_array().size(), 5u);
}

// Memory engine: a restart loses every stream.
TEST(PubSubHistoryOnMemory, RestartChangesTheEpoch) {
    ServerProcess server(basicConfig(true, "", kServices));
    auto client = std::make_unique<WsClient>(server.frontendPort());
    json::value epoch =
        client->request("history", "subscribe", {{"channel", "news"}, {"recover", true}}).at("data").at("epoch");
    ASSERT_EQ(backendCall(server.backendPort(), "history_backend", "publish", {{"channel", "news"}, {"message", 1}})
                  .at("type"),
              "response");
    client.reset();
    server.restart();
    WsClient again(server.frontendPort());
    json::value answer = again.request("history", "subscribe", {{"channel", "news"}, {"since", since(1, epoch)}});
    EXPECT_EQ(answer.at("data").at("recovered"), false);
    EXPECT_NE(answer.at("data").at("epoch"), epoch);
    EXPECT_EQ(answer.at("data").at("offset"), 0);
}

// Clients keep dropping and recovering while a publisher never stops: each
// sees every offset exactly once, in order, whether it came in the recovery
// answer or live. With Redis they alternate between the two nodes.
TYPED_TEST(PubSubHistory, RecoveryRacesContinuousPublishing) {
    std::atomic<bool> stop{false};
    std::atomic<int> published{0};
    std::atomic<int> replayed{0};  // messages that came back in a recovery answer
    std::thread publisher([&] {
        while (!stop) {
            backendCall(this->a().backendPort(), "history_backend", "publish",
                        {{"channel", "race"}, {"message", published.load()}});
            ++published;
        }
    });
    auto check = [&](int clientIndex) {
        std::uint64_t last = 0;
        json::value epoch;
        for (int round = 0; round < 8; ++round) {
            auto client = this->connect(round % 2 ? this->b() : this->a());
            json::object params{{"channel", "race"}};
            if (epoch.is_null())
                params["recover"] = true;
            else
                params["since"] = since(last, epoch);
            json::value answer = client->request("history", "subscribe", params, clientIndex);
            ASSERT_EQ(answer.at("type"), "response") << answer;
            const json::object& data = answer.at("data").as_object();
            if (!epoch.is_null()) {
                ASSERT_EQ(data.at("recovered"), true) << answer;
                for (const json::value& p : data.at("publications").as_array()) {
                    ASSERT_EQ(p.at("offset").to_number<std::uint64_t>(), last + 1);
                    last = p.at("offset").to_number<std::uint64_t>();
                    ++replayed;
                }
            } else {
                epoch = data.at("epoch");
                last = data.at("offset").to_number<std::uint64_t>();
            }
            ASSERT_EQ(data.at("offset").to_number<std::uint64_t>(), last);
            for (int live = 0; live < 15; ++live) {
                json::value message = client->expectMessage();
                ASSERT_EQ(message.at("offset").to_number<std::uint64_t>(), last + 1) << message;
                // The publisher's counter starts at 0 with offset 1.
                ASSERT_EQ(message.at("message").to_number<std::uint64_t>() + 1, last + 1);
                ++last;
            }
        }
    };
    std::vector<std::thread> clients;
    for (int i = 0; i < 4; ++i) clients.emplace_back([&, i] { check(i); });
    for (auto& c : clients) c.join();
    stop = true;
    publisher.join();
    // Publishing went on during the drops: some messages had to be recovered.
    EXPECT_GT(replayed.load(), 0) << published.load() << " published";
}

// ---- Redis only: what the engine itself may lose ----

namespace {
struct PubSubHistoryOnRedis : PubSubHistory<RedisNodes> {
    RedisProcess& redis() { return *this->cluster.redis; }
    bool redisIs(ServerProcess& node, const char* state) {
        return waitUntil(
            [&] { return json::parse(httpRequest(node.backendPort(), "GET", "/health", "").body).at("redis") == state; },
            std::chrono::milliseconds(10000), std::chrono::milliseconds(20));
    }
};
}  // namespace

// Publishes through alternating nodes: numbered in call order, and each
// node's subscriber gets them in that order.
TEST_F(PubSubHistoryOnRedis, PublishesThroughAlternatingNodesAreNumberedInCallOrder) {
    std::vector<std::unique_ptr<WsClient>> clients;
    for (ServerProcess* node : {&a(), &b()}) {
        clients.push_back(connect(*node));
        ASSERT_EQ(clients.back()->request("history", "subscribe", {{"channel", "turns"}, {"recover", true}}).at("type"),
                  "response");
    }
    for (int i = 1; i <= 60; ++i) publish("turns", i, i % 2 ? &a() : &b());
    for (auto& client : clients)
        for (int i = 1; i <= 60; ++i) {
            json::value message = client->expectMessage();
            EXPECT_EQ(message.at("offset"), i);
            EXPECT_EQ(message.at("message"), i);
        }
}

TEST_F(PubSubHistoryOnRedis, RecoversOnAnotherNodeAfterItsNodeWasKilled) {
    auto client = connect();
    json::value epoch =
        client->request("history", "subscribe", {{"channel", "news"}, {"recover", true}}).at("data").at("epoch");
    publish("news", 0);
    EXPECT_EQ(client->expectMessage().at("offset"), 1);
    a().kill9();  // the client's connection dies with its node
    for (int i = 1; i <= 100; ++i) publish("news", i, &b());
    auto again = connect(b());
    json::value answer = again->request("history", "subscribe", {{"channel", "news"}, {"since", since(1, epoch)}});
    const json::object& data = answer.at("data").as_object();
    EXPECT_EQ(data.at("recovered"), true) << answer;
    EXPECT_EQ(data.at("offset"), 101);
    const json::array& publications = data.at("publications").as_array();
    ASSERT_EQ(publications.size(), 100u);
    for (int i = 1; i <= 100; ++i) EXPECT_EQ(publications[i - 1].at("message"), i);
    publish("news", "live", &b());
    EXPECT_EQ(again->expectMessage().at("offset"), 102);
    EXPECT_TRUE(again->silentFor(std::chrono::milliseconds(100)));
}

TEST_F(PubSubHistoryOnRedis, FlushallChangesTheEpoch) {
    auto client = connect();
    json::value epoch =
        client->request("history", "subscribe", {{"channel", "news"}, {"recover", true}}).at("data").at("epoch");
    publish("news", 1);
    EXPECT_EQ(client->expectMessage().at("offset"), 1);
    client.reset();
    redis().command({"FLUSHALL"});
    auto again = connect(b());
    json::value answer = again->request("history", "subscribe", {{"channel", "news"}, {"since", since(1, epoch)}});
    EXPECT_EQ(answer.at("data").at("recovered"), false) << answer;
    EXPECT_NE(answer.at("data").at("epoch"), epoch);
    EXPECT_EQ(answer.at("data").at("offset"), 0);
    publish("news", 2);  // the new stream starts again at 1
    EXPECT_EQ(again->expectMessage().at("offset"), 1);
}

TEST_F(PubSubHistoryOnRedis, RedisRestartChangesTheEpoch) {
    auto client = connect();
    json::value epoch =
        client->request("history", "subscribe", {{"channel", "news"}, {"recover", true}}).at("data").at("epoch");
    publish("news", 1);
    EXPECT_EQ(client->expectMessage().at("offset"), 1);
    client.reset();
    redis().kill9();  // no persistence: the streams are gone
    redis().start();
    ASSERT_TRUE(redisIs(a(), "connected") && redisIs(b(), "connected"));
    auto again = connect(b());
    json::value answer = again->request("history", "subscribe", {{"channel", "news"}, {"since", since(1, epoch)}});
    EXPECT_EQ(answer.at("data").at("recovered"), false) << answer;
    EXPECT_NE(answer.at("data").at("epoch"), epoch);
}

// Redis down: the node serves its clients as without history (answer null,
// messages without offset), as PubSub does when the engine cannot answer.
TEST_F(PubSubHistoryOnRedis, WhileRedisIsDownTheOriginalAnswer) {
    redis().kill9();
    ASSERT_TRUE(redisIs(a(), "down"));
    auto client = connect();
    json::value answer = client->request("history", "subscribe", {{"channel", "news"}, {"since", since(1, "x")}});
    ASSERT_EQ(answer.at("type"), "response") << answer;
    EXPECT_EQ(answer.at("data"), nullptr);
    publish("news", "local");
    json::value message = client->expectMessage();
    EXPECT_EQ(message.at("message"), "local");
    EXPECT_FALSE(message.as_object().contains("offset"));
    json::value history = backendCall(a().backendPort(), "history_backend", "history", {{"channel", "news"}});
    EXPECT_EQ(history.at("type"), "error") << history;
}

TEST_F(PubSubHistoryOnRedis, BackendHistoryReadsTheSharedStream) {
    for (int i = 1; i <= 5; ++i) publish("shared", i);
    auto read = [&](json::object params) {
        params["channel"] = "shared";
        json::value reply = backendCall(b().backendPort(), "history_backend", "history", std::move(params));
        EXPECT_EQ(reply.at("type"), "response") << reply;
        std::vector<json::value> offsets;
        for (const json::value& p : reply.at("data").at("publications").as_array()) offsets.push_back(p.at("offset"));
        return std::make_pair(reply.at("data"), offsets);
    };
    auto [all, offsets] = read({});
    EXPECT_EQ(all.at("offset"), 5);
    EXPECT_EQ(all.at("complete"), true);
    EXPECT_EQ(offsets, (std::vector<json::value>{1, 2, 3, 4, 5}));
    EXPECT_EQ(read({{"limit", 2}}).second, (std::vector<json::value>{4, 5}));
    EXPECT_EQ(read({{"since", 3}}).second, (std::vector<json::value>{4, 5}));
    EXPECT_EQ(read({{"since", 1}, {"limit", 1}}).second, (std::vector<json::value>{2}));
    EXPECT_EQ(read({{"since", 0}}).first.at("complete"), true);
    EXPECT_EQ(read({{"since", 9}}).first.at("complete"), false);  // beyond the stream
    // Kept under the engine's prefix, with the service's ttl (60 s).
    std::string meta = "snorky:history-meta:pubsub:history:\"shared\"";
    std::string stream = "snorky:history:pubsub:history:\"shared\"";
    for (const std::string& key : {meta, stream}) {
        long long ttl = std::stoll(redis().command({"PTTL", key}));
        EXPECT_GT(ttl, 50000) << key;
        EXPECT_LE(ttl, 60000) << key;
    }
    EXPECT_EQ(redis().command({"XLEN", stream}), "5");
}

// An operator's SCRIPT FLUSH: the next history publish meets NOSCRIPT (lost,
// like any message of an outage); the node reconnects, loads the script
// again, and numbered messages flow on.
TEST_F(PubSubHistoryOnRedis, ScriptFlushIsSurvived) {
    auto client = connect();
    ASSERT_EQ(client->request("history", "subscribe", {{"channel", "news"}, {"recover", true}}).at("type"), "response");
    redis().command({"SCRIPT", "FLUSH"});
    std::optional<json::value> numbered;
    ASSERT_TRUE(waitUntil([&] {
        publish("news", "again");
        while (auto envelope = client->receive(std::chrono::milliseconds(50)))
            if (envelope->at("message").as_object().contains("offset")) numbered = envelope->at("message");
        return numbered.has_value();
    }));
    EXPECT_NE(a().logs().find("the history script is gone from Redis"), std::string::npos) << a().logs();
    EXPECT_EQ(numbered->at("message"), "again");
}

// A Redis user without scripting: the node says so at start and serves as
// without history (answer null, messages without offset), nothing breaks.
TEST(PubSubHistoryOnRedisWithoutScripting, ServesWithoutHistory) {
    if (!RedisProcess::available()) GTEST_SKIP() << "redis-server is not installed";
    RedisProcess redis;
    redis.command({"ACL", "SETUSER", "noscript", "on", ">pw", "~*", "&*", "+@all", "-@scripting"});
    ServerProcess node(
        withEngine(basicConfig(true, "", kServices), "redis://noscript:pw@127.0.0.1:" + std::to_string(redis.port())));
    EXPECT_NE(node.logs().find("SCRIPT LOAD refused"), std::string::npos) << node.logs();
    WsClient client(node.frontendPort());
    json::value answer = client.request("history", "subscribe", {{"channel", "news"}, {"recover", true}});
    EXPECT_EQ(answer.at("data"), nullptr) << answer;
    ASSERT_EQ(backendCall(node.backendPort(), "history_backend", "publish", {{"channel", "news"}, {"message", 1}})
                  .at("type"),
              "response");
    json::value message = client.expectMessage();
    EXPECT_EQ(message.at("message"), 1);
    EXPECT_FALSE(message.as_object().contains("offset"));
}
