// The chat service's config: history_size and history_ttl, with pubsub's bounds.
#include <gtest/gtest.h>

#include "server/config.hpp"
#include "server/service_factory.hpp"
#include "snorky/services/chat.hpp"

using namespace snorky;
using namespace snorky::server;

namespace {

struct NoLookup : ServiceLookup {
    Service& service(const std::string& name, const Options& context) override {
        context.fail("no service named '" + name + "'");
    }
};

ServicePtr buildChat(const std::string& options) {
    NoLookup lookup;
    Options o(json::parse(options).as_object(), "test.toml:3: service 'chat'");
    return ServiceFactory::builtin().build("chat", "chat", o, lookup);
}

std::string errorOf(const std::string& options) {
    try {
        buildChat(options);
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "no error";
}

}  // namespace

TEST(ChatFactory, ReadsHistory) {
    auto chat = buildChat(R"({"history_size": 50, "history_ttl": 30})");
    const auto& options = dynamic_cast<ChatService&>(*chat).options();
    EXPECT_EQ(options.history.size, 50u);
    EXPECT_EQ(options.history.ttl, std::chrono::seconds(30));
    // Without the options: no history.
    EXPECT_EQ(dynamic_cast<ChatService&>(*buildChat("{}")).options().history.size, 0u);
}

TEST(ChatFactory, RefusesHistoryOutOfRange) {
    for (const char* bad : {R"({"history_size": -1})", R"({"history_size": 100001})", R"({"history_size": "10"})",
                            R"({"history_size": 1.5})"})
        EXPECT_NE(errorOf(bad).find("history_size"), std::string::npos) << bad << ": " << errorOf(bad);
    for (const char* bad : {R"({"history_ttl": 0})", R"({"history_ttl": 2592001})"})
        EXPECT_NE(errorOf(bad).find("history_ttl"), std::string::npos) << bad << ": " << errorOf(bad);
}
