#include "server/connect_tokens.hpp"

#include <gtest/gtest.h>

#include <map>

#include "snorky/services/auth.hpp"
#include "snorky/services/chat.hpp"

using namespace snorky;
using namespace snorky::server;

namespace {
struct MapLookup : ServiceLookup {
    std::map<std::string, ServicePtr> services;
    Service& service(const std::string& name, const Options& context) override {
        auto it = services.find(name);
        if (it == services.end()) context.fail("no service named '" + name + "'");
        return *it->second;
    }
};

struct ConnectTokensTest : ::testing::Test {
    Config config;
    MapLookup lookup;
    IdentityTokensPtr tokensA = std::make_shared<IdentityTokens>(std::string(32, 'a'));
    IdentityTokensPtr tokensB = std::make_shared<IdentityTokens>(std::string(32, 'b'));

    void addService(const std::string& type, const std::string& name, const std::string& registry, ServicePtr s) {
        config.services.push_back(Entry{type, name, registry, Options({}, "")});
        lookup.services[name] = std::move(s);
    }
    Entry listener(const std::string& registry, json::object options = {}) {
        return Entry{"websocket", "", registry, Options(std::move(options), "test.toml:1: listener")};
    }
    TokenVerifier verifier(Entry entry) { return connectTokenVerifier(config, entry, entry.options, lookup); }
};
}  // namespace

TEST_F(ConnectTokensTest, UsesTheOnlyAuthServiceOfTheRegistry) {
    addService("auth", "auth", "frontend", std::make_shared<AuthService>("auth", tokensA));
    addService("auth", "other", "backend", std::make_shared<AuthService>("other", tokensB));
    TokenVerifier verify = verifier(listener("frontend"));
    ASSERT_TRUE(verify);
    std::string error;
    EXPECT_EQ(verify(tokensA->mint("alice", std::chrono::seconds(60)), error), json::value("alice"));
    EXPECT_FALSE(verify(tokensB->mint("alice", std::chrono::seconds(60)), error).has_value());
    EXPECT_EQ(error, "Invalid token");
}

TEST_F(ConnectTokensTest, NoAuthServiceLeavesTheHookUnset) {
    addService("chat", "chat", "frontend", std::make_shared<ChatService>("chat"));
    addService("auth", "auth", "backend", std::make_shared<AuthService>("auth", tokensA));
    EXPECT_FALSE(verifier(listener("frontend")));
}

TEST_F(ConnectTokensTest, SeveralAuthServicesMustBeNamed) {
    addService("auth", "a", "frontend", std::make_shared<AuthService>("a", tokensA));
    addService("auth", "b", "frontend", std::make_shared<AuthService>("b", tokensB));
    try {
        verifier(listener("frontend"));
        ADD_FAILURE() << "no error";
    } catch (const ConfigError& e) {
        EXPECT_NE(std::string(e.what()).find("several auth services"), std::string::npos) << e.what();
    }
    TokenVerifier verify = verifier(listener("frontend", {{"auth", "b"}}));
    ASSERT_TRUE(verify);
    std::string error;
    EXPECT_TRUE(verify(tokensB->mint(1, std::chrono::seconds(60)), error).has_value());
}

TEST_F(ConnectTokensTest, TheNamedServiceMustBeAnAuthService) {
    addService("chat", "chat", "frontend", std::make_shared<ChatService>("chat"));
    EXPECT_THROW(verifier(listener("frontend", {{"auth", "chat"}})), ConfigError);
    EXPECT_THROW(verifier(listener("frontend", {{"auth", "missing"}})), ConfigError);
}
