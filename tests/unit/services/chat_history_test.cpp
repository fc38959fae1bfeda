// Chat history and recovery (docs/history.md): a join that asks gets the
// channel's last messages or those after its `since`, its connection sees
// offsets, and the replay meets the live messages with no gap and no
// duplicate, also when the engine answers the read later.
#include <gtest/gtest.h>

#include <set>

#include "snorky/core/memory_broker.hpp"
#include "snorky/services/chat.hpp"
#include "support/fake_client.hpp"

using namespace snorky;
using namespace snorky::testing;

namespace {

// The memory broker, with history reads answered when the test says (as a
// Redis engine answers them later), or never (an engine without history).
class SlowHistoryBroker final : public Broker {
public:
    enum class Reads { Now, Later, Unavailable };
    explicit SlowHistoryBroker(Reads reads) : reads_(reads) {}
    void attach(Node& node) override { inner_.attach(node); }
    void close() override { inner_.close(); }
    json::object health() const override { return inner_.health(); }
    const std::string& nodeId() const override { return inner_.nodeId(); }
    void publish(const std::string& topic, const FramePtr& frame, const Client* sender) override {
        inner_.publish(topic, frame, sender);
    }
    void publishConfirmed(const std::string& topic, const FramePtr& frame, Confirmed confirmed) override {
        inner_.publishConfirmed(topic, frame, std::move(confirmed));
    }
    void subscribe(const std::string& topic, BrokerListener* listener) override { inner_.subscribe(topic, listener); }
    void unsubscribe(const std::string& topic) override { inner_.unsubscribe(topic); }
    void publishWithHistory(const std::string& topic, const FramePtr& frame, const Client* sender,
                            const HistoryOptions& history, Confirmed confirmed) override {
        if (reads_ == Reads::Unavailable) return inner_.publish(topic, frame, sender);
        inner_.publishWithHistory(topic, frame, sender, history, std::move(confirmed));
    }
    void readHistory(const std::string& topic, const HistoryOptions& history, std::optional<std::uint64_t> after,
                     std::size_t limit, HistoryDone done) override {
        if (reads_ == Reads::Unavailable) return done(std::nullopt);
        if (reads_ == Reads::Now) return inner_.readHistory(topic, history, after, limit, std::move(done));
        later_.push_back([this, topic, history, after, limit, done = std::move(done)]() mutable {
            inner_.readHistory(topic, history, after, limit, std::move(done));
        });
    }
    // Answers the reads asked so far, from the stream as it is now.
    void answer() {
        auto reads = std::move(later_);
        later_.clear();
        for (auto& read : reads) read();
    }

private:
    Reads reads_;
    MemoryBroker inner_;
    std::vector<std::function<void()>> later_;
};

ChatService::Options withHistory(std::size_t size) {
    ChatService::Options options;
    options.history = HistoryOptions{size, std::chrono::seconds(60)};
    return options;
}

struct ChatHistoryTest : ::testing::Test {
    explicit ChatHistoryTest(ChatService::Options options = withHistory(5),
                             SlowHistoryBroker::Reads reads = SlowHistoryBroker::Reads::Now)
        : t(Engine{std::make_unique<SlowHistoryBroker>(reads), std::make_unique<MemoryClusterState>()}),
          chat(std::make_shared<ChatService>("chat", options)) {
        t.timers.startWallClockAt(std::chrono::system_clock::time_point{std::chrono::seconds(1'700'000'000)});
        t.registry.registerService(chat);
        for (auto& c : {laptop, phone, bob}) t.connect(c);
    }
    TestNode t;
    std::shared_ptr<ChatService> chat;
    FakeClientPtr laptop = FakeClient::make("alice"), phone = FakeClient::make("alice"), bob = FakeClient::make("bob");

    // The connection drops and a new one comes from the same client object, with nothing received yet.
    void reconnect(const FakeClientPtr& c) {
        t.disconnect(c);
        c->frames.clear();
        t.connect(c);
    }
    SlowHistoryBroker& broker() { return dynamic_cast<SlowHistoryBroker&>(t.node.broker()); }
    // The reply to the call (removed from the client's frames), or null when none came yet.
    json::value call(const FakeClientPtr& c, const char* command, json::object params) {
        std::size_t before = c->frames.size();
        t.call(c, "chat", command, std::move(params));
        return takeReply(c, before);
    }
    static json::value takeReply(const FakeClientPtr& c, std::size_t from = 0) {
        for (std::size_t i = from; i < c->frames.size(); ++i) {
            json::value m = json::parse(c->frames[i]->payload()).as_object().at("message");
            if (m.at("type") == "response" || m.at("type") == "error") {
                c->frames.erase(c->frames.begin() + static_cast<std::ptrdiff_t>(i));
                return m;
            }
        }
        return nullptr;
    }
    json::value join(const FakeClientPtr& c, json::object extra = {}) {
        extra["channel"] = "room";
        return call(c, "join", std::move(extra));
    }
    void send(const FakeClientPtr& c, json::value body) {
        ASSERT_EQ(call(c, "send", {{"channel", "room"}, {"body", std::move(body)}}).at("type"), "response");
    }
    // The offsets (0: none) and bodies of the chat messages a client got, in order; clears them.
    static std::vector<std::pair<std::int64_t, json::value>> received(const FakeClientPtr& c) {
        std::vector<std::pair<std::int64_t, json::value>> out;
        for (const json::value& m : c->messages()) {
            if (m.at("type") != "message") continue;
            const json::value* offset = m.as_object().if_contains("offset");
            out.emplace_back(offset ? offset->to_number<std::int64_t>() : 0, m.at("body"));
        }
        return out;
    }
    static json::object since(std::uint64_t offset, const json::value& epoch) {
        return json::object{{"offset", offset}, {"epoch", epoch}};
    }
};
using Received = std::vector<std::pair<std::int64_t, json::value>>;

}  // namespace

TEST_F(ChatHistoryTest, PlainJoinAndMessagesAreTheOriginalProtocol) {
    EXPECT_EQ(join(bob).at("data"), json::parse(R"({"members":["bob"]})"));
    send(bob, "hi");
    json::value message = bob->last();
    EXPECT_EQ(message.as_object().size(), 5u) << message;  // type, from, channel, body, timestamp
    EXPECT_FALSE(message.as_object().contains("offset"));
}

TEST_F(ChatHistoryTest, JoinWithHistoryGetsTheLastMessagesInOrder) {
    join(bob);
    for (int i = 1; i <= 7; ++i) send(bob, i);
    bob->messages();
    json::value data = join(laptop, {{"history", 3}}).at("data");
    EXPECT_EQ(data.at("members"), json::parse(R"(["alice","bob"])"));
    EXPECT_EQ(data.at("offset"), 7);
    EXPECT_TRUE(data.at("epoch").is_string());
    EXPECT_FALSE(data.as_object().contains("recovered"));
    const json::array& messages = data.at("messages").as_array();
    ASSERT_EQ(messages.size(), 3u);
    for (int i = 0; i < 3; ++i) {
        const json::object& m = messages[i].as_object();
        EXPECT_EQ(m.at("offset"), 5 + i);
        EXPECT_EQ(m.at("body"), 5 + i);
        EXPECT_EQ(m.at("from"), "bob");
        EXPECT_EQ(m.at("type"), "message");
        EXPECT_EQ(m.at("channel"), "room");
        EXPECT_TRUE(m.at("timestamp").is_string());
    }
    // More than the channel keeps: what it keeps.
    EXPECT_EQ(join(phone, {{"history", 1000}}).at("data").at("messages").as_array().size(), 5u);
    // recover alone: the position, no messages.
    reconnect(phone);
    json::value position = join(phone, {{"recover", true}}).at("data");
    EXPECT_EQ(position.at("offset"), 7);
    EXPECT_FALSE(position.as_object().contains("messages"));
}

TEST_F(ChatHistoryTest, OffsetsOnlyForConnectionsThatAskedAndAtMostTwoFrames) {
    join(bob);
    join(laptop, {{"recover", true}});
    join(phone, {{"history", 0}});
    auto carol = FakeClient::make("carol");
    t.connect(carol);
    join(carol);
    for (auto& c : {bob, laptop, phone, carol}) c->frames.clear();
    send(bob, "x");
    std::set<const Frame*> distinct;
    for (auto& c : {bob, laptop, phone, carol}) {
        ASSERT_EQ(c->frames.size(), 1u);
        distinct.insert(c->frames[0].get());
    }
    EXPECT_EQ(distinct.size(), 2u);
    EXPECT_EQ(laptop->frames[0].get(), phone->frames[0].get());
    EXPECT_EQ(bob->frames[0].get(), carol->frames[0].get());
    EXPECT_EQ(received(laptop), (Received{{1, "x"}}));
    EXPECT_EQ(received(bob), (Received{{0, "x"}}));
}

TEST_F(ChatHistoryTest, OnlyMessagesAreKeptNeverPresenceOrReceipts) {
    join(bob);
    join(laptop);  // "joined" to Bob
    join(phone);
    call(phone, "read", {{"channel", "room"}});
    send(bob, "only this");
    reconnect(laptop);
    reconnect(phone);  // "left" to Bob
    json::value data = join(laptop, {{"history", 5}}).at("data");
    EXPECT_EQ(data.at("offset"), 1);
    ASSERT_EQ(data.at("messages").as_array().size(), 1u);
    EXPECT_EQ(data.at("messages").at(0).at("body"), "only this");
}

TEST_F(ChatHistoryTest, SinceRecoversWhatWasMissedThenLive) {
    join(bob);
    json::value epoch = join(laptop, {{"recover", true}}).at("data").at("epoch");
    send(bob, 1);
    EXPECT_EQ(received(laptop), (Received{{1, 1}}));
    reconnect(laptop);
    for (int i = 2; i <= 4; ++i) send(bob, i);
    json::value data = join(laptop, {{"since", since(1, epoch)}}).at("data");
    EXPECT_EQ(data.at("recovered"), true);
    EXPECT_EQ(data.at("offset"), 4);
    std::vector<std::int64_t> offsets;
    for (const json::value& m : data.at("messages").as_array())
        offsets.push_back(m.at("offset").to_number<std::int64_t>());
    EXPECT_EQ(offsets, (std::vector<std::int64_t>{2, 3, 4}));
    send(bob, 5);
    EXPECT_EQ(received(laptop), (Received{{5, 5}}));
}

TEST_F(ChatHistoryTest, BeyondHistorySizeOrAnotherEpochIsNotRecovered) {
    join(bob);
    json::value epoch = join(laptop, {{"recover", true}}).at("data").at("epoch");
    reconnect(laptop);
    for (int i = 1; i <= 6; ++i) send(bob, i);  // history_size 5 + 1
    json::value data = join(laptop, {{"since", since(0, epoch)}}).at("data");
    EXPECT_EQ(data, json::parse(R"({"members":["alice","bob"],"recovered":false,"offset":6,"epoch":)" +
                                json::serialize(epoch) + "}"));
    reconnect(laptop);
    EXPECT_EQ(join(laptop, {{"since", since(1, epoch)}}).at("data").at("recovered"), true);  // 2..6 are held
    reconnect(laptop);
    EXPECT_EQ(join(laptop, {{"since", since(1, "another")}}).at("data").at("recovered"), false);
    reconnect(laptop);
    EXPECT_EQ(join(laptop, {{"since", since(7, epoch)}}).at("data").at("recovered"), false);  // beyond the stream
}

TEST_F(ChatHistoryTest, BadParamsAreRefusedAndTouchNothing) {
    const char* bad[] = {
        R"({"history":"3"})",
        R"({"history":-1})",
        R"({"history":2.5})",
        R"({"history":100001})",
        R"({"history":1e300})",
        R"({"recover":"yes"})",
        R"({"since":"x"})",
        R"({"since":{"offset":1}})",
        R"({"since":{"offset":-1,"epoch":"e"}})",
        R"({"since":{"offset":"1","epoch":"e"}})",
        R"({"since":{"offset":1,"epoch":5}})",
        R"({"since":{"offset":1,"epoch":"e","more":1}})",
        R"({"since":{"offset":1,"epoch":"e"},"history":3})",
        R"({"other":1})",
    };
    for (const char* params : bad) {
        json::object extra = json::parse(params).as_object();
        EXPECT_EQ(join(laptop, extra).at("message"), "Invalid params") << params;
    }
    std::string longEpoch(kMaxEpochBytes + 1, 'e');
    EXPECT_EQ(join(laptop, {{"since", since(1, json::string(longEpoch))}}).at("message"), "Invalid params");
    EXPECT_EQ(chat->channelCount(), 0u);
    EXPECT_TRUE(laptop->frames.empty());
    EXPECT_EQ(join(laptop, {{"history", 100000}}).at("data").at("messages"), json::array());
}

TEST(ChatHistoryOff, ParamsOnAServiceWithoutHistoryAnswerAsToday) {
    TestNode t;
    auto chat = std::make_shared<ChatService>("chat", ChatService::Options{});
    t.registry.registerService(chat);
    auto alice = FakeClient::make("alice");
    t.connect(alice);
    t.call(alice, "chat", "join", {{"channel", "room"}, {"history", 10}, {"recover", true}});
    EXPECT_EQ(alice->last().at("data"), json::parse(R"({"members":["alice"]})"));
    alice->frames.clear();
    t.call(alice, "chat", "send", {{"channel", "room"}, {"body", "x"}});
    EXPECT_FALSE(alice->messages().at(0).as_object().contains("offset"));
}

struct UnavailableHistoryTest : ChatHistoryTest {
    UnavailableHistoryTest() : ChatHistoryTest(withHistory(5), SlowHistoryBroker::Reads::Unavailable) {}
};

// An engine that keeps no history answers nullopt: the original answer and messages.
TEST_F(UnavailableHistoryTest, AnswersAsWithoutHistory) {
    EXPECT_EQ(join(laptop, {{"history", 3}}).at("data"), json::parse(R"({"members":["alice"]})"));
    send(laptop, "x");
    EXPECT_EQ(received(laptop), (Received{{0, "x"}}));
}

struct SlowHistoryTest : ChatHistoryTest {
    SlowHistoryTest() : ChatHistoryTest(withHistory(100), SlowHistoryBroker::Reads::Later) {}
};

// Messages sent while the read is under way are in the read and held: each
// reaches the joiner once, after the answer, in order, and so do presences.
TEST_F(SlowHistoryTest, MessagesDuringTheReadComeOnceAfterTheAnswer) {
    join(bob);
    broker().answer();
    send(bob, 1);
    t.call(laptop, "chat", "join", {{"channel", "room"}, {"history", 10}});
    EXPECT_TRUE(laptop->frames.empty());  // the read is under way
    send(bob, 2);
    auto carol = FakeClient::make("carol");
    t.connect(carol);
    t.call(carol, "chat", "join", {{"channel", "room"}});  // a presence while the laptop waits
    broker().answer();                                     // reads 1 and 2
    send(bob, 3);                                          // live
    ASSERT_FALSE(laptop->frames.empty());
    json::value reply = json::parse(laptop->frames.front()->payload()).at("message");
    ASSERT_EQ(reply.at("type"), "response") << reply;
    EXPECT_EQ(reply.at("data").at("offset"), 2);
    EXPECT_EQ(reply.at("data").at("messages").as_array().size(), 2u);
    laptop->frames.erase(laptop->frames.begin());
    std::vector<json::value> rest = laptop->messages();
    ASSERT_EQ(rest.size(), 2u);
    EXPECT_EQ(rest[0].at("type"), "presence");  // held, in the order it came
    EXPECT_EQ(rest[0].at("from"), "carol");
    EXPECT_EQ(rest[1].at("offset"), 3);
}

TEST_F(SlowHistoryTest, SinceWithMessagesDuringTheRead) {
    join(bob);
    broker().answer();
    t.call(laptop, "chat", "join", {{"channel", "room"}, {"recover", true}});
    broker().answer();
    json::value epoch = takeReply(laptop).at("data").at("epoch");
    send(bob, 1);
    reconnect(laptop);
    send(bob, 2);
    t.call(laptop, "chat", "join", {{"channel", "room"}, {"since", since(1, epoch)}});
    send(bob, 3);  // held, and in the read
    broker().answer();
    send(bob, 4);
    json::value reply = takeReply(laptop);
    EXPECT_EQ(reply.at("data").at("recovered"), true);
    EXPECT_EQ(reply.at("data").at("offset"), 3);
    EXPECT_EQ(reply.at("data").at("messages").as_array().size(), 2u);  // 2 and 3
    EXPECT_EQ(received(laptop), (Received{{4, 4}}));                   // 3 not twice
}

TEST_F(SlowHistoryTest, LeavingWhileTheReadIsUnderWay) {
    join(bob);
    broker().answer();
    t.call(laptop, "chat", "join", {{"channel", "room"}, {"history", 5}});
    t.call(laptop, "chat", "leave", {{"channel", "room"}});
    EXPECT_EQ(takeReply(laptop).at("data"), nullptr);  // the leave
    broker().answer();
    EXPECT_EQ(takeReply(laptop).at("message"), "Not joined");
    // Left and joined again: the first read answers without history, the second with it.
    t.call(phone, "chat", "join", {{"channel", "room"}, {"history", 5}});
    t.call(phone, "chat", "leave", {{"channel", "room"}});
    t.call(phone, "chat", "join", {{"channel", "room"}, {"history", 5}});
    broker().answer();
    std::vector<json::value> replies;
    for (const json::value& m : phone->messages())
        if (m.at("type") == "response") replies.push_back(m.at("data"));
    ASSERT_EQ(replies.size(), 3u);
    EXPECT_EQ(replies[0], nullptr);  // the leave, at once
    EXPECT_FALSE(replies[1].as_object().contains("messages"));
    EXPECT_TRUE(replies[2].as_object().contains("messages"));
}
