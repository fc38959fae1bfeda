// PubSub history and recovery through the real binary (memory engine): a
// subscriber whose socket dies gets what it missed on reconnect, exactly once
// and in order, also while messages keep being published; a lost stream
// (history too short, server restarted) is told as recovered: false.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <thread>

#include "support/clients.hpp"
#include "support/redis_process.hpp"
#include "support/server_process.hpp"

using namespace snorky::it;

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

struct PubSubHistory : ::testing::Test {
    ServerProcess server{basicConfig(true, "", kServices)};
    void publish(const std::string& channel, json::value message) {
        ASSERT_EQ(backendCall(server.backendPort(), "history_backend", "publish",
                              {{"channel", channel}, {"message", std::move(message)}})
                      .at("type"),
                  "response");
    }
    std::unique_ptr<WsClient> connect() { return std::make_unique<WsClient>(server.frontendPort()); }
};

json::object since(std::uint64_t offset, const json::value& epoch) {
    return json::object{{"offset", offset}, {"epoch", epoch}};
}

}  // namespace

TEST_F(PubSubHistory, AbruptCloseThenAHundredMissedThenLive) {
    auto client = connect();
    json::value first = client->request("history", "subscribe", {{"channel", "news"}, {"recover", true}});
    ASSERT_EQ(first.at("type"), "response") << first;
    json::value epoch = first.at("data").at("epoch");
    EXPECT_EQ(first.at("data").at("offset"), 0);
    publish("news", 0);
    EXPECT_EQ(client->expectMessage().at("offset"), 1);
    client.reset();  // the TCP connection dies, no close frame
    for (int i = 1; i <= 100; ++i) publish("news", i);

    auto again = connect();
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
    publish("news", "live");
    json::value live = again->expectMessage();
    EXPECT_EQ(live.at("offset"), 102);
    EXPECT_EQ(live.at("message"), "live");
    EXPECT_TRUE(again->silentFor(std::chrono::milliseconds(100)));
}

TEST_F(PubSubHistory, ASubscriberWithoutParamsSeesTheOriginalProtocol) {
    auto client = connect();
    json::value answer = client->request("history", "subscribe", {{"channel", "news"}});
    EXPECT_EQ(answer.at("data"), nullptr);
    publish("news", "hi");
    EXPECT_EQ(client->expectMessage(), json::parse(R"({"type":"message","channel":"news","message":"hi"})"));
}

TEST_F(PubSubHistory, OneMoreThanHistorySizeFailsCleanly) {
    auto client = connect();
    json::value epoch = client->request("history", "subscribe", {{"channel", "small:a"}, {"recover", true}})
                            .at("data")
                            .at("epoch");
    client.reset();
    for (int i = 1; i <= 6; ++i) publish("small:a", i);
    auto again = connect();
    json::value answer = again->request("history", "subscribe", {{"channel", "small:a"}, {"since", since(0, epoch)}});
    EXPECT_EQ(answer.at("data"), json::parse(R"({"recovered":false,"offset":6,"epoch":)" + json::serialize(epoch) + "}"));
    publish("small:a", 7);
    EXPECT_EQ(again->expectMessage().at("offset"), 7);
    // The backend reads what is held: the last five.
    json::value held = backendCall(server.backendPort(), "history_backend", "history", {{"channel", "small:a"}});
    EXPECT_EQ(held.at("data").at("publications").as_array().front().at("offset"), 3);
}

TEST_F(PubSubHistory, RestartChangesTheEpoch) {
    auto client = connect();
    json::value epoch =
        client->request("history", "subscribe", {{"channel", "news"}, {"recover", true}}).at("data").at("epoch");
    publish("news", 1);
    client.reset();
    server.restart();
    auto again = connect();
    json::value answer = again->request("history", "subscribe", {{"channel", "news"}, {"since", since(1, epoch)}});
    EXPECT_EQ(answer.at("data").at("recovered"), false);
    EXPECT_NE(answer.at("data").at("epoch"), epoch);
    EXPECT_EQ(answer.at("data").at("offset"), 0);
}

// Clients keep dropping and recovering while a publisher never stops: each
// sees every offset exactly once, in order, whether it came in the recovery
// answer or live.
TEST_F(PubSubHistory, RecoveryRacesContinuousPublishing) {
    std::atomic<bool> stop{false};
    std::atomic<int> published{0};
    std::atomic<int> replayed{0};  // messages that came back in a recovery answer
    std::thread publisher([&] {
        while (!stop) {
            backendCall(server.backendPort(), "history_backend", "publish", {{"channel", "race"}, {"message", published.load()}});
            ++published;
        }
    });
    auto check = [&](int clientIndex) {
        std::uint64_t last = 0;
        json::value epoch;
        for (int round = 0; round < 8; ++round) {
            auto client = connect();
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

// The Redis engine keeps no history yet: an operator who asks for it is told
// at start, not left to find out from clients that never recover.
TEST(PubSubHistoryOnRedis, IsReportedAsNotKeptAtStart) {
    if (!RedisProcess::available()) GTEST_SKIP() << "redis-server is not installed";
    RedisProcess redis;
    ServerProcess server(withEngine(basicConfig(true, "", kServices), redis.url()));
    EXPECT_NE(server.logs().find("service 'history': history_size is set, but the Redis engine keeps no history yet"),
              std::string::npos)
        << server.logs();
    EXPECT_EQ(server.logs().find("service 'pubsub': history_size"), std::string::npos);  // it asked for none
}
