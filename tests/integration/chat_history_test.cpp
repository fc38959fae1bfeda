// Chat history and recovery through the real binary (memory engine): a join
// that asks shows the channel's last messages; a member whose socket dies
// rejoins with `since` and gets exactly what it missed, then live messages,
// also while others keep sending; a lost stream is recovered: false; a join
// without the params is the original protocol; bad params are refused.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <thread>

#include "support/clients.hpp"
#include "support/identities.hpp"
#include "support/server_process.hpp"

using namespace snorky::it;

namespace {

const std::string kServices = authServices() + R"(
[[service]]
name = "chat"
type = "chat"
registry = "frontend"
history_size = 1000
history_ttl = 60

[[service]]
name = "small"
type = "chat"
registry = "frontend"
history_size = 3

[[service]]
name = "plain"
type = "chat"
registry = "frontend"
)";

json::object since(std::uint64_t offset, const json::value& epoch) {
    return json::object{{"offset", offset}, {"epoch", epoch}};
}

struct ChatHistory : ::testing::Test {
    // The race test's sender (500/s) is faster than the default rate_limit (100/s).
    ServerProcess server{basicConfig(true, "rate_limit = 1000\n", kServices), identityEnv()};
    std::unique_ptr<WsClient> connectAs(const std::string& name) {
        return std::make_unique<WsClient>(server.frontendPort(),
                                          "/ws?token=" + mintToken(server.backendPort(), json::string(name)));
    }
    static void send(WsClient& c, const std::string& service, const json::value& body,
                     const std::string& channel = "room") {
        json::value reply = c.request(service, "send", {{"channel", channel}, {"body", body}});
        ASSERT_EQ(reply.at("type"), "response") << reply;
    }
    // The next chat message (presences skipped).
    static json::value nextMessage(WsClient& c) {
        for (int i = 0; i < 100; ++i) {
            json::value m = c.expectMessage();
            if (m.at("type") == "message") return m;
        }
        throw std::runtime_error("no message");
    }
};

// A call's reply; every chat message that came before it fails the test
// (with history, live messages come after the answer).
json::value replyBeforeAnyMessage(WsClient& c, const std::string& service, const std::string& command,
                                  json::object params) {
    c.call(service, command, std::move(params), 9);
    for (int i = 0; i < 100; ++i) {
        json::value m = c.expectMessage();
        if (m.at("type") == "response" || m.at("type") == "error") return m;
        if (m.at("type") == "message") ADD_FAILURE() << "a message before the answer: " << m;
    }
    throw std::runtime_error("no reply");
}

}  // namespace

TEST_F(ChatHistory, JoinWithHistoryShowsTheLastMessagesInOrder) {
    auto bob = connectAs("bob");
    ASSERT_EQ(bob->request("chat", "join", {{"channel", "room"}}).at("type"), "response");
    for (int i = 1; i <= 10; ++i) send(*bob, "chat", json::string("m" + std::to_string(i)));
    auto alice = connectAs("alice");
    json::value data = alice->request("chat", "join", {{"channel", "room"}, {"history", 4}}).at("data");
    EXPECT_EQ(data.at("members"), json::parse(R"(["alice","bob"])"));
    EXPECT_EQ(data.at("offset"), 10);
    EXPECT_TRUE(data.at("epoch").is_string());
    const json::array& messages = data.at("messages").as_array();
    ASSERT_EQ(messages.size(), 4u);
    for (int i = 0; i < 4; ++i) {
        EXPECT_EQ(messages[i].at("offset"), 7 + i);
        EXPECT_EQ(messages[i].at("body"), json::value(json::string("m" + std::to_string(7 + i))));
        EXPECT_EQ(messages[i].at("from"), "bob");
        EXPECT_EQ(messages[i].at("channel"), "room");
        EXPECT_TRUE(messages[i].at("timestamp").is_string());
    }
    auto carol = connectAs("carol");
    EXPECT_FALSE(carol->request("chat", "join", {{"channel", "room"}}).at("data").as_object().contains("offset"));
    send(*bob, "chat", "live");
    json::value live = nextMessage(*alice);
    EXPECT_EQ(live.at("offset"), 11);
    EXPECT_EQ(live.at("body"), "live");
    EXPECT_FALSE(nextMessage(*carol).as_object().contains("offset"));  // Carol did not ask
}

TEST_F(ChatHistory, AJoinWithoutParamsIsTheOriginalProtocol) {
    auto alice = connectAs("alice");
    EXPECT_EQ(alice->request("chat", "join", {{"channel", "room"}}).at("data"),
              json::parse(R"({"members":["alice"]})"));
    auto bob = connectAs("bob");
    EXPECT_EQ(bob->request("chat", "join", {{"channel", "room"}}).at("data"),
              json::parse(R"({"members":["alice","bob"]})"));
    send(*alice, "chat", "hi");
    json::value message = nextMessage(*bob);
    json::object expected{{"type", "message"},
                          {"from", "alice"},
                          {"channel", "room"},
                          {"body", "hi"},
                          {"timestamp", message.at("timestamp")}};
    EXPECT_EQ(message, expected);
    // The params on a service without history: the same answer.
    EXPECT_EQ(alice->request("plain", "join", {{"channel", "room"}, {"history", 5}}).at("data"),
              json::parse(R"({"members":["alice"]})"));
}

TEST_F(ChatHistory, AbruptDisconnectThenSinceGetsExactlyTheMissedThenLive) {
    auto bob = connectAs("bob");
    bob->request("chat", "join", {{"channel", "room"}});
    auto alice = connectAs("alice");
    json::value first = alice->request("chat", "join", {{"channel", "room"}, {"recover", true}}).at("data");
    json::value epoch = first.at("epoch");
    EXPECT_EQ(first.at("offset"), 0);
    EXPECT_FALSE(first.as_object().contains("messages"));
    send(*bob, "chat", 0);
    EXPECT_EQ(nextMessage(*alice).at("offset"), 1);
    alice.reset();  // the TCP connection dies, no close frame
    for (int i = 1; i <= 100; ++i) send(*bob, "chat", i);

    auto again = connectAs("alice");
    json::value answer =
        replyBeforeAnyMessage(*again, "chat", "join", {{"channel", "room"}, {"since", since(1, epoch)}});
    ASSERT_EQ(answer.at("type"), "response") << answer;
    const json::object& data = answer.at("data").as_object();
    EXPECT_EQ(data.at("recovered"), true);
    EXPECT_EQ(data.at("epoch"), epoch);
    EXPECT_EQ(data.at("offset"), 101);
    const json::array& messages = data.at("messages").as_array();
    ASSERT_EQ(messages.size(), 100u);
    for (int i = 1; i <= 100; ++i) {
        EXPECT_EQ(messages[i - 1].at("offset"), i + 1);
        EXPECT_EQ(messages[i - 1].at("body"), i);
    }
    send(*bob, "chat", "live");
    json::value live = nextMessage(*again);
    EXPECT_EQ(live.at("offset"), 102);
    EXPECT_EQ(live.at("body"), "live");
    EXPECT_TRUE(again->silentFor(std::chrono::milliseconds(100)));
}

// Members keep dropping and rejoining (each time after missing a few) while
// Bob never stops sending (500/s, so history_size is never outrun): each sees
// every offset exactly once, in order, in a rejoin's answer or live.
TEST_F(ChatHistory, RecoveryRacesContinuousSending) {
    auto bob = connectAs("bob");
    bob->request("chat", "join", {{"channel", "race"}});
    std::atomic<bool> stop{false};
    std::atomic<int> sent{0};
    std::atomic<int> replayed{0};
    std::thread sender([&] {
        while (!stop) {
            json::value reply = bob->request("chat", "send", {{"channel", "race"}, {"body", sent.load()}});
            if (reply.at("type") != "response") {
                ADD_FAILURE() << reply;
                stop = true;  // members stop waiting for more
                return;
            }
            ++sent;
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
    });
    auto check = [&](int index) {
        std::uint64_t last = 0;
        json::value epoch;
        for (int round = 0; round < 6; ++round) {
            if (round > 0) {  // the last connection just died: let it miss a few
                int dropped = sent.load();
                while (sent.load() < dropped + 3 && !stop) std::this_thread::sleep_for(std::chrono::milliseconds(1));
            }
            auto client = connectAs("member" + std::to_string(index));
            json::object params{{"channel", "race"}};
            if (epoch.is_null())
                params["recover"] = true;
            else
                params["since"] = since(last, epoch);
            json::value answer = replyBeforeAnyMessage(*client, "chat", "join", params);
            ASSERT_EQ(answer.at("type"), "response") << answer;
            const json::object& data = answer.at("data").as_object();
            if (!epoch.is_null()) {
                ASSERT_EQ(data.at("recovered"), true) << answer;
                for (const json::value& m : data.at("messages").as_array()) {
                    ASSERT_EQ(m.at("offset").to_number<std::uint64_t>(), last + 1);
                    last = m.at("offset").to_number<std::uint64_t>();
                    ++replayed;
                }
            } else {
                epoch = data.at("epoch");
                last = data.at("offset").to_number<std::uint64_t>();
            }
            ASSERT_EQ(data.at("offset").to_number<std::uint64_t>(), last);
            for (int live = 0; live < 10; ++live) {
                json::value message = nextMessage(*client);
                ASSERT_EQ(message.at("offset").to_number<std::uint64_t>(), last + 1) << message;
                ASSERT_EQ(message.at("body").to_number<std::uint64_t>() + 1, last + 1);  // body 0 is offset 1
                ++last;
            }
        }
    };
    std::vector<std::thread> members;
    for (int i = 0; i < 3; ++i) members.emplace_back([&, i] { check(i); });
    for (auto& m : members) m.join();
    stop = true;
    sender.join();
    EXPECT_GT(replayed.load(), 0) << sent.load() << " sent";
}

TEST_F(ChatHistory, OneMoreThanHistorySizeFailsCleanly) {
    auto bob = connectAs("bob");
    bob->request("small", "join", {{"channel", "room"}});
    auto alice = connectAs("alice");
    json::value epoch =
        alice->request("small", "join", {{"channel", "room"}, {"recover", true}}).at("data").at("epoch");
    alice.reset();
    for (int i = 1; i <= 4; ++i) send(*bob, "small", i);  // history_size 3, + 1
    auto again = connectAs("alice");
    json::value data = again->request("small", "join", {{"channel", "room"}, {"since", since(0, epoch)}}).at("data");
    EXPECT_EQ(data, json::parse(R"({"members":["alice","bob"],"recovered":false,"offset":4,"epoch":)" +
                                json::serialize(epoch) + "}"));
    send(*bob, "small", 5);
    EXPECT_EQ(nextMessage(*again).at("offset"), 5);
}

TEST_F(ChatHistory, RestartChangesTheEpoch) {
    auto alice = connectAs("alice");
    json::value epoch = alice->request("chat", "join", {{"channel", "room"}, {"recover", true}}).at("data").at("epoch");
    send(*alice, "chat", 1);
    alice.reset();
    server.restart();
    auto again = connectAs("alice");
    json::value data = again->request("chat", "join", {{"channel", "room"}, {"since", since(1, epoch)}}).at("data");
    EXPECT_EQ(data.at("recovered"), false);
    EXPECT_NE(data.at("epoch"), epoch);
    EXPECT_EQ(data.at("offset"), 0);
    EXPECT_FALSE(data.as_object().contains("messages"));
}

TEST_F(ChatHistory, BadParamsGetClearErrors) {
    auto alice = connectAs("alice");
    for (const char* params : {
             R"({"channel":"room","history":"3"})",
             R"({"channel":"room","history":-1})",
             R"({"channel":"room","history":1.5})",
             R"({"channel":"room","history":100001})",
             R"({"channel":"room","history":18446744073709551616})",
             R"({"channel":"room","recover":1})",
             R"({"channel":"room","since":[1,"e"]})",
             R"({"channel":"room","since":{"offset":-1,"epoch":"e"}})",
             R"({"channel":"room","since":{"offset":1,"epoch":null}})",
             R"({"channel":"room","since":{"epoch":"e"}})",
             R"({"channel":"room","since":{"offset":1,"epoch":"e"},"history":2})",
         }) {
        json::value reply = alice->request("chat", "join", json::parse(params).as_object());
        EXPECT_EQ(reply.at("type"), "error") << params;
        EXPECT_EQ(reply.at("message"), "Invalid params") << params;
    }
    json::value longEpoch = json::string(std::string(65, 'e'));
    EXPECT_EQ(alice->request("chat", "join", {{"channel", "room"}, {"since", since(1, longEpoch)}}).at("message"),
              "Invalid params");
    // Nothing was joined by the refused calls.
    EXPECT_EQ(alice->request("chat", "send", {{"channel", "room"}, {"body", "x"}}).at("message"), "Not joined");
    EXPECT_EQ(alice->request("chat", "join", {{"channel", "room"}, {"history", 3}}).at("data").at("messages"),
              json::array());
}
