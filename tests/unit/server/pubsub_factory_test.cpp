#include <gtest/gtest.h>

#include <cstdlib>
#include <map>

#include "server/config.hpp"
#include "server/service_factory.hpp"
#include "snorky/services/pubsub.hpp"

using namespace snorky;
using namespace snorky::server;

namespace {

constexpr const char* kSecret = "0123456789abcdef0123456789abcdef";

struct Built : ServiceLookup {
    std::map<std::string, ServicePtr> services;
    Service& service(const std::string& name, const Options& context) override {
        auto it = services.find(name);
        if (it == services.end()) context.fail("no service named '" + name + "'");
        return *it->second;
    }
    ServicePtr build(const std::string& type, const std::string& name, const std::string& options) {
        Options o(json::parse(options).as_object(), "test.toml:3: service '" + name + "'");
        ServicePtr s = ServiceFactory::builtin().build(type, name, o, *this);
        services[name] = s;
        return s;
    }
    std::string error(const std::string& options) {
        try {
            build("pubsub", "bad", options);
        } catch (const ConfigError& e) {
            return e.what();
        }
        return "no error";
    }
};

::testing::AssertionResult has(const std::string& text, const std::string& part) {
    if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << text;
}

}  // namespace

TEST(PubSubFactory, ReadsTheNamespaceTable) {
    Built built;
    auto service =
        built.build("pubsub", "pubsub",
                    std::string(R"({"client_publish": false, "token_secret": ")") + kSecret + R"(", "namespace": [
        {"prefix": "user:", "subscribe": "owner", "owner_field": "id"},
        {"prefix": "doc:", "subscribe": "token", "publish": "subscribers", "max_subscribers": 5,
         "max_message_bytes": 100},
        {"subscribe": "authenticated", "publish": "authenticated"}]})");
    const auto& options = dynamic_cast<PubSubService&>(*service).options();
    ASSERT_EQ(options.namespaces.size(), 3u);
    using Sub = PubSubService::SubscribePolicy;
    using Pub = PubSubService::PublishPolicy;
    EXPECT_EQ(options.namespaces[0].prefix, "user:");
    EXPECT_EQ(options.namespaces[0].subscribe, Sub::Owner);
    EXPECT_EQ(options.namespaces[0].ownerField, "id");
    EXPECT_EQ(options.namespaces[0].publish, Pub::None);  // client_publish = false is the shorthand
    EXPECT_EQ(options.namespaces[1].subscribe, Sub::Token);
    EXPECT_EQ(options.namespaces[1].publish, Pub::Subscribers);
    EXPECT_EQ(options.namespaces[1].maxSubscribers, 5u);
    EXPECT_EQ(options.namespaces[1].maxMessageBytes, 100u);
    EXPECT_FALSE(options.namespaces[2].prefix);
    EXPECT_EQ(options.namespaces[2].publish, Pub::Authenticated);
    EXPECT_NE(options.tokens, nullptr);
    auto backend = built.build("pubsub_backend", "pubsub_backend",
                               R"({"pubsub": "pubsub", "default_token_lifetime": 60, "max_token_lifetime": 600})");
    EXPECT_NE(dynamic_cast<PubSubBackend*>(backend.get()), nullptr);
}

TEST(PubSubFactory, MistakesAreClearErrors) {
    ::unsetenv("SNORKY_IDENTITY_SECRET");
    EXPECT_TRUE(has(Built().error(R"({"namespace": [{"subscribe": "friends"}]})"),
                    "test.toml:3: service 'bad': namespace #1: subscribe must be \"public\""));
    EXPECT_TRUE(has(Built().error(R"({"namespace": [{"publish": "all"}]})"), "publish must be \"none\""));
    EXPECT_TRUE(has(Built().error(R"({"namespace": [{"subscribe": "owner"}]})"), "needs a prefix"));
    EXPECT_TRUE(
        has(Built().error(R"({"namespace": [{"prefix": "a", "owner_field": "id"}]})"), "owner_field only applies"));
    EXPECT_TRUE(has(Built().error(R"({"namespace": [{"prefix": "a", "subscrbe": "none"}]})"),
                    "namespace #1: unknown option 'subscrbe'"));
    EXPECT_TRUE(has(Built().error(R"({"namespace": [{"subscribe": "public"}, {"prefix": "a"}]})"),
                    "namespace #2: never applies: namespace #1 (prefix unset)"));
    EXPECT_TRUE(has(Built().error(R"({"namespace": [{"prefix": "user"}, {"prefix": "user:"}]})"),
                    "namespace #2: never applies: namespace #1 (prefix \"user\")"));
    EXPECT_TRUE(has(Built().error(R"({"namespace": []})"), "is empty"));
    EXPECT_TRUE(has(Built().error(R"({"namespace": {"prefix": "a"}})"), "must be an array of tables"));
    EXPECT_TRUE(
        has(Built().error(R"({"namespace": [{"prefix": "d", "subscribe": "token"}]})"), "needs a signing secret"));
    EXPECT_TRUE(has(Built().error(R"({"token_secret": "short", "namespace": [{"prefix": "d", "subscribe": "token"}]})"),
                    "at least 32 bytes"));
}

TEST(PubSubFactory, ErrorsNameTheLineOfTheNamespace) {
    Config config = parseConfig(R"([[listener]]
type = "websocket"
registry = "f"
port = 0
[[service]]
name = "pubsub"
type = "pubsub"
registry = "f"
[[service.namespace]]
prefix = "user:"
subscribe = "owner"
[[service.namespace]]
prefix = "doc:"
subscribe = "everyone"
)",
                                "t.toml");
    Server server(1);
    try {
        apply(config, server, ServiceFactory::builtin(), "");
        FAIL() << "accepted";
    } catch (const ConfigError& e) {
        EXPECT_TRUE(has(e.what(), "t.toml:12: service 'pubsub': namespace #2: subscribe must be")) << e.what();
    }
}

TEST(PubSubFactory, ReadsHistoryPerServiceAndNamespace) {
    Built built;
    auto service = built.build("pubsub", "pubsub", R"({"history_size": 50, "history_ttl": 30, "namespace": [
        {"prefix": "ticker:", "history_size": 0},
        {"prefix": "long:", "history_ttl": 600},
        {}]})");
    const auto& options = dynamic_cast<PubSubService&>(*service).options();
    EXPECT_EQ(options.history.size, 50u);
    EXPECT_EQ(options.namespaces[0].historySize, 0u);
    EXPECT_EQ(options.namespaces[0].historyTtl, std::chrono::seconds(30));
    EXPECT_EQ(options.namespaces[1].historySize, 50u);
    EXPECT_EQ(options.namespaces[1].historyTtl, std::chrono::seconds(600));
    EXPECT_EQ(options.namespaces[2].historySize, 50u);
    // Without the options: no history.
    auto plain = built.build("pubsub", "plain", "{}");
    EXPECT_EQ(dynamic_cast<PubSubService&>(*plain).options().namespaces[0].historySize, 0u);
}

TEST(PubSubFactory, RefusesHistoryOutOfRange) {
    Built built;
    EXPECT_TRUE(has(built.error(R"({"history_size": -1})"), "history_size"));
    EXPECT_TRUE(has(built.error(R"({"history_size": 100001})"), "history_size"));
    EXPECT_TRUE(has(built.error(R"({"history_size": "10"})"), "history_size"));
    EXPECT_TRUE(has(built.error(R"({"history_ttl": 0})"), "history_ttl"));
    EXPECT_TRUE(has(built.error(R"({"history_ttl": 2592001})"), "history_ttl"));
    EXPECT_TRUE(has(built.error(R"({"namespace": [{"history_ttl": 0}]})"), "history_ttl"));
}
