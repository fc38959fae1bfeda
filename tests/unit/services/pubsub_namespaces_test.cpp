// PubSub's namespace table, subscription tokens and the server API, against
// fake clients; token times follow the test node's hand-driven clock.
#include <gtest/gtest.h>

#include "snorky/services/pubsub.hpp"
#include "support/fake_client.hpp"

using namespace snorky;
using namespace snorky::testing;
using namespace std::chrono_literals;

namespace {
using Sub = PubSubService::SubscribePolicy;
using Pub = PubSubService::PublishPolicy;
const std::string kSecret = "0123456789abcdef0123456789abcdef";

PubSubService::Namespace row(std::optional<std::string> prefix, Sub subscribe, std::optional<Pub> publish = {}) {
    PubSubService::Namespace ns;
    ns.prefix = std::move(prefix);
    ns.subscribe = subscribe;
    ns.publish = publish;
    return ns;
}

struct PubSubNamespacesTest : ::testing::Test {
    TestNode t;
    std::shared_ptr<PubSubService> pubsub;
    std::shared_ptr<PubSubBackend> backend;
    FakeClientPtr anonymous = FakeClient::make(), alice = FakeClient::make("alice"),
                  bob = FakeClient::make(json::parse(R"({"id":42,"name":"bob"})")), server = FakeClient::make();

    void SetUp() override {
        PubSubService::Options options;
        PubSubService::Namespace user = row("user:", Sub::Owner, Pub::None);
        user.ownerField = "id";
        PubSubService::Namespace small = row("small:", Sub::Public, Pub::Subscribers);
        small.maxSubscribers = 1;
        small.maxMessageBytes = 10;
        options.namespaces = {user,
                              row("doc:", Sub::Token),
                              row("members:", Sub::Authenticated, Pub::Authenticated),
                              row("closed:", Sub::None),
                              small,
                              row("news", Sub::Public, Pub::None),
                              row("open:", Sub::Public)};
        options.tokens = std::make_shared<SubscriptionTokens>(kSecret);
        pubsub = std::make_shared<PubSubService>("pubsub", options);
        backend = std::make_shared<PubSubBackend>("pubsub_backend", *pubsub);
        t.registry.registerService(pubsub);
        t.registry.registerService(backend);
        for (const auto& c : {anonymous, alice, bob}) t.connect(c);
    }
    // The reply to one call: its data, or its error text.
    json::value call(const FakeClientPtr& c, const char* service, const char* command, json::object params) {
        t.call(c, service, command, std::move(params));
        json::value reply = c->last();
        c->frames.pop_back();
        if (reply.at("type") == "error") return json::object{{"error", reply.at("message")}};
        return reply.at("data");
    }
    json::value subscribe(const FakeClientPtr& c, json::value channel, std::optional<std::string> token = {}) {
        json::object params{{"channel", std::move(channel)}};
        if (token) params["token"] = *token;
        return call(c, "pubsub", "subscribe", std::move(params));
    }
    std::string authorize(json::array channels, json::value identity = nullptr, std::int64_t lifetime = 60) {
        json::value token =
            call(server, "pubsub_backend", "authorizeSubscription",
                 {{"channels", std::move(channels)}, {"identity", std::move(identity)}, {"lifetime", lifetime}});
        EXPECT_TRUE(token.is_string()) << token;
        return token.is_string() ? std::string(token.as_string()) : "";
    }
    static json::value error(const char* text) { return json::object{{"error", text}}; }
};
}  // namespace

TEST_F(PubSubNamespacesTest, WithoutATableEveryChannelIsPublicAsBefore) {
    auto plain = std::make_shared<PubSubService>("plain");
    t.registry.registerService(plain);
    for (json::value channel : {json::value("user:42"), json::value(7), json::parse(R"({"a":[1]})")}) {
        EXPECT_EQ(call(anonymous, "plain", "subscribe", {{"channel", channel}}), nullptr) << channel;
        EXPECT_EQ(call(anonymous, "plain", "publish", {{"channel", channel}, {"message", 1}}), nullptr) << channel;
    }
    ASSERT_EQ(plain->options().namespaces.size(), 1u);
    EXPECT_FALSE(plain->options().namespaces[0].prefix);
}

TEST_F(PubSubNamespacesTest, ChannelsNoNamespaceCoversAreRefused) {
    EXPECT_EQ(subscribe(alice, "elsewhere:1"), error("Unknown namespace"));
    EXPECT_EQ(subscribe(alice, 42), error("Unknown namespace"));  // not a string: only an unprefixed row matches
    EXPECT_EQ(call(alice, "pubsub", "publish", {{"channel", "elsewhere:1"}, {"message", 1}}),
              error("Unknown namespace"));
    EXPECT_EQ(call(server, "pubsub_backend", "publish", {{"channel", "elsewhere:1"}, {"message", 1}}),
              error("Unknown namespace"));
    EXPECT_EQ(pubsub->channelCount(), 0u);
}

TEST_F(PubSubNamespacesTest, OwnerChannelsAdmitOnlyTheirOwner) {
    EXPECT_EQ(subscribe(bob, "user:42"), nullptr);  // object identity, owner_field "id"
    EXPECT_EQ(subscribe(alice, "user:42"), error("Not authorized"));
    EXPECT_EQ(subscribe(bob, "user:43"), error("Not authorized"));
    EXPECT_EQ(subscribe(anonymous, "user:42"), error("Not authenticated"));
    EXPECT_EQ(subscribe(alice, "user:alice"), nullptr);  // owner_field is for object identities only
    auto noId = FakeClient::make(json::parse(R"({"name":"carol"})"));
    t.connect(noId);
    EXPECT_EQ(subscribe(noId, "user:carol"), error("Not authorized"));  // an object without "id" owns nothing
    EXPECT_EQ(subscribe(noId, "user:"), error("Not authorized"));
    EXPECT_EQ(pubsub->subscriberCount("user:42"), 1u);
    // publish = "none": the backend only.
    EXPECT_EQ(call(bob, "pubsub", "publish", {{"channel", "user:42"}, {"message", "x"}}), error("Not authorized"));
    EXPECT_EQ(call(server, "pubsub_backend", "publish", {{"channel", "user:42"}, {"message", "x"}}), nullptr);
    EXPECT_EQ(bob->last(), json::parse(R"({"type":"message","channel":"user:42","message":"x"})"));
}

TEST_F(PubSubNamespacesTest, StringAndNumberIdentitiesOwnTheirChannel) {
    PubSubService::Options options;
    options.namespaces = {row("u:", Sub::Owner)};
    t.registry.registerService(std::make_shared<PubSubService>("owners", options));
    auto seven = FakeClient::make(7);
    t.connect(seven);
    EXPECT_EQ(call(alice, "owners", "subscribe", {{"channel", "u:alice"}}), nullptr);
    EXPECT_EQ(call(seven, "owners", "subscribe", {{"channel", "u:7"}}), nullptr);
    EXPECT_EQ(call(seven, "owners", "subscribe", {{"channel", "u:alice"}}), error("Not authorized"));
}

TEST_F(PubSubNamespacesTest, AuthenticatedNamespacesRefuseAnonymousConnections) {
    EXPECT_EQ(subscribe(anonymous, "members:lounge"), error("Not authenticated"));
    EXPECT_EQ(call(anonymous, "pubsub", "publish", {{"channel", "members:lounge"}, {"message", 1}}),
              error("Not authorized"));
    EXPECT_EQ(subscribe(alice, "members:lounge"), nullptr);
    EXPECT_EQ(call(bob, "pubsub", "publish", {{"channel", "members:lounge"}, {"message", 1}}), nullptr);
    EXPECT_EQ(alice->messages().size(), 1u);
}

TEST_F(PubSubNamespacesTest, NoneAdmitsNobodyEvenWithAToken) {
    EXPECT_EQ(subscribe(alice, "closed:x"), error("Not authorized"));
    EXPECT_EQ(subscribe(alice, "closed:x", authorize({"closed:x"})), error("Not authorized"));
}

TEST_F(PubSubNamespacesTest, PrefixOrderDecides) {
    // "news" (publish none) comes before "open:", and matches "newsletter" too.
    EXPECT_EQ(call(alice, "pubsub", "publish", {{"channel", "newsletter"}, {"message", 1}}), error("Not authorized"));
    EXPECT_EQ(call(alice, "pubsub", "publish", {{"channel", "open:x"}, {"message", 1}}), nullptr);
}

TEST_F(PubSubNamespacesTest, SubscribersOnlyPublishAndPerNamespaceLimits) {
    EXPECT_EQ(call(alice, "pubsub", "publish", {{"channel", "small:1"}, {"message", 1}}), error("Not authorized"));
    EXPECT_EQ(subscribe(alice, "small:1"), nullptr);
    EXPECT_EQ(subscribe(bob, "small:1"), error("Channel full"));
    EXPECT_EQ(pubsub->subscriberCount("small:1"), 1u);
    EXPECT_EQ(call(alice, "pubsub", "publish", {{"channel", "small:1"}, {"message", "0123456789"}}),
              error("Message too large"));  // 12 bytes as JSON
    EXPECT_EQ(call(alice, "pubsub", "publish", {{"channel", "small:1"}, {"message", "short"}}), nullptr);
    EXPECT_EQ(alice->messages().size(), 1u);
    EXPECT_EQ(call(alice, "pubsub", "unsubscribe", {{"channel", "small:1"}}), nullptr);
    EXPECT_EQ(subscribe(bob, "small:1"), nullptr);
}

TEST_F(PubSubNamespacesTest, TokenChannelsNeedATokenForThatChannel) {
    EXPECT_EQ(subscribe(alice, "doc:1"), error("Not authorized"));
    EXPECT_EQ(subscribe(alice, "doc:1", authorize({"doc:2"})), error("Not authorized"));  // another channel
    EXPECT_EQ(subscribe(alice, "doc:1", authorize({"doc:1", "doc:2"})), nullptr);
    EXPECT_EQ(subscribe(anonymous, "doc:2", authorize({"doc:2"})), nullptr);  // unbound: anyone holding it
    EXPECT_EQ(pubsub->subscriberCount("doc:1"), 1u);
}

TEST_F(PubSubNamespacesTest, BoundTokensAdmitOnlyTheirIdentity) {
    std::string forBob = authorize({"doc:1"}, json::parse(R"({"id":42,"name":"bob"})"));
    EXPECT_EQ(subscribe(alice, "doc:1", forBob), error("Not authorized"));
    EXPECT_EQ(subscribe(anonymous, "doc:1", forBob), error("Not authorized"));
    EXPECT_EQ(subscribe(bob, "doc:1", forBob), nullptr);
}

TEST_F(PubSubNamespacesTest, TokensExpireOnTheNodeClock) {
    std::string token = authorize({"doc:1"}, nullptr, 60);
    t.timers.advance(59s);
    EXPECT_EQ(subscribe(alice, "doc:1", token), nullptr);
    t.timers.advance(1s);
    EXPECT_EQ(subscribe(bob, "doc:1", token), error("Token expired"));
}

TEST_F(PubSubNamespacesTest, ForgedTokensAreInvalidAndLoseNothing) {
    EXPECT_EQ(subscribe(alice, "open:a"), nullptr);
    SubscriptionTokens forger{"fedcba9876543210fedcba9876543210"};
    std::string forged = forger.mint("pubsub", json::array{"doc:1"}, nullptr, 60s, 1'700'000'000);
    EXPECT_EQ(subscribe(alice, "doc:1", forged), error("Invalid token"));
    EXPECT_EQ(subscribe(alice, "doc:1", "not.a.token"), error("Invalid token"));
    // A bad token is refused wherever it is sent, even on a public channel.
    EXPECT_EQ(subscribe(alice, "open:b", "not.a.token"), error("Invalid token"));
    EXPECT_EQ(pubsub->subscriberCount("open:a"), 1u);
    EXPECT_EQ(pubsub->channelCount(), 1u);
}

TEST_F(PubSubNamespacesTest, RefusalsAreTheSameWhetherTheChannelExistsOrNot) {
    std::string forBob = authorize({"doc:1", "doc:9"}, json::parse(R"({"id":42,"name":"bob"})"));
    EXPECT_EQ(subscribe(bob, "doc:1", forBob), nullptr);
    for (const char* channel : {"doc:1", "doc:9"}) {  // doc:1 has a subscriber, doc:9 none
        EXPECT_EQ(subscribe(alice, channel), error("Not authorized")) << channel;
        EXPECT_EQ(subscribe(alice, channel, forBob), error("Not authorized")) << channel;
        EXPECT_EQ(subscribe(alice, channel, "x.y.z"), error("Invalid token")) << channel;
    }
}

TEST_F(PubSubNamespacesTest, AuthorizeSubscriptionRefusesBadRequests) {
    auto refuse = [this](json::object params) {
        return call(server, "pubsub_backend", "authorizeSubscription", params);
    };
    EXPECT_EQ(refuse({{"channels", json::array{}}}), error("Invalid channels"));
    EXPECT_EQ(refuse({{"channels", json::array{"nowhere"}}}), error("Unknown namespace"));
    EXPECT_EQ(refuse({{"channels", json::array{"doc:1"}}, {"lifetime", 0}}), error("Invalid lifetime"));
    EXPECT_EQ(refuse({{"channels", json::array{"doc:1"}}, {"lifetime", 86401}}), error("Invalid lifetime"));
    EXPECT_EQ(refuse({{"channels", "doc:1"}}), error("Invalid params"));

    auto plain = std::make_shared<PubSubService>("plain");
    auto plainBackend = std::make_shared<PubSubBackend>("plain_backend", *plain);
    t.registry.registerService(plain);
    t.registry.registerService(plainBackend);
    EXPECT_EQ(call(server, "plain_backend", "authorizeSubscription", {{"channels", json::array{"a"}}}),
              error("Subscription tokens are not configured"));
    EXPECT_EQ(call(alice, "plain", "subscribe", {{"channel", "a"}, {"token", "x.y.z"}}), error("Invalid token"));
}

TEST_F(PubSubNamespacesTest, BackendUnsubscribeKicksOneIdentityOrEveryone) {
    auto aliceAgain = FakeClient::make("alice");
    t.connect(aliceAgain);
    for (const auto& c : {alice, aliceAgain, anonymous}) EXPECT_EQ(subscribe(c, "open:room"), nullptr);
    EXPECT_EQ(call(server, "pubsub_backend", "unsubscribe", {{"channel", "open:room"}, {"identity", "alice"}}),
              nullptr);
    auto notice = json::parse(R"({"type":"unsubscribed","channel":"open:room","reason":"unsubscribed by the server"})");
    EXPECT_EQ(alice->messages(), std::vector<json::value>{notice});
    EXPECT_EQ(aliceAgain->messages(), std::vector<json::value>{notice});
    EXPECT_TRUE(anonymous->messages().empty());
    EXPECT_EQ(pubsub->subscriberCount("open:room"), 1u);
    EXPECT_EQ(call(alice, "pubsub", "unsubscribe", {{"channel", "open:room"}}), error("Not subscribed"));

    call(server, "pubsub_backend", "unsubscribe", {{"channel", "open:room"}, {"reason", "closed"}});
    EXPECT_EQ(anonymous->last(), json::parse(R"({"type":"unsubscribed","channel":"open:room","reason":"closed"})"));
    EXPECT_EQ(pubsub->channelCount(), 0u);
    pubsub->publish("open:room", 1);
    EXPECT_EQ(anonymous->messages().size(), 1u);  // the notice only
    // The kicked may come back: nothing was banned, only removed.
    EXPECT_EQ(subscribe(alice, "open:room"), nullptr);
}

TEST_F(PubSubNamespacesTest, ChannelsAndPresenceDescribeThisNode) {
    auto aliceAgain = FakeClient::make("alice");
    t.connect(aliceAgain);
    for (const auto& c : {alice, aliceAgain, anonymous, bob}) subscribe(c, "open:a");
    subscribe(alice, "members:b");
    subscribe(bob, "user:42");
    EXPECT_EQ(call(server, "pubsub_backend", "channels", {}), json::parse(R"([
        {"channel":"members:b","subscribers":1},{"channel":"open:a","subscribers":4},
        {"channel":"user:42","subscribers":1}])"));
    EXPECT_EQ(call(server, "pubsub_backend", "channels", {{"prefix", "open:"}}),
              json::parse(R"([{"channel":"open:a","subscribers":4}])"));
    // Each identity once however many connections; anonymous ones are not listed.
    EXPECT_EQ(call(server, "pubsub_backend", "presence", {{"channel", "open:a"}}),
              json::parse(R"(["alice",{"id":42,"name":"bob"}])"));
    EXPECT_EQ(call(server, "pubsub_backend", "presence", {{"channel", "open:nobody"}}), json::array{});
    t.disconnect(bob);
    EXPECT_EQ(call(server, "pubsub_backend", "presence", {{"channel", "open:a"}}), json::parse(R"(["alice"])"));
}
