// Config entries of the identity, messaging, chat and cursors services.
#include <gtest/gtest.h>

#include <cstdlib>
#include <map>

#include "server/service_factory.hpp"
#include "snorky/services/auth.hpp"
#include "snorky/services/chat.hpp"
#include "snorky/services/cursors.hpp"
#include "snorky/services/messaging.hpp"

using namespace snorky;
using namespace snorky::server;

namespace {
const std::string kSecret = "0123456789abcdef0123456789abcdef";

struct MapLookup : ServiceLookup {
    std::map<std::string, ServicePtr> services;
    Service& service(const std::string& name, const Options& context) override {
        auto it = services.find(name);
        if (it == services.end()) context.fail("no service named '" + name + "'");
        return *it->second;
    }
};

struct FactoryTest : ::testing::Test {
    ServiceFactory factory = ServiceFactory::builtin();
    MapLookup lookup;
    void SetUp() override { ::unsetenv(IdentityTokens::kSecretEnvVar); }
    void TearDown() override { ::unsetenv(IdentityTokens::kSecretEnvVar); }

    ServicePtr build(const std::string& type, const std::string& name, const char* options) {
        Options o(json::parse(options).as_object(), "test.toml:1: service '" + name + "'");
        ServicePtr service = factory.build(type, name, o, lookup);
        lookup.services[name] = service;
        return service;
    }
    std::string error(const std::string& type, const char* options) {
        try {
            build(type, "x", options);
        } catch (const ConfigError& e) {
            return e.what();
        }
        return "no error";
    }
};
}  // namespace

TEST_F(FactoryTest, AuthNeedsASecret) {
    EXPECT_NE(error("auth", "{}").find("no signing secret"), std::string::npos) << error("auth", "{}");
    EXPECT_NE(error("auth", "{}").find("SNORKY_IDENTITY_SECRET"), std::string::npos);
    EXPECT_NE(error("auth", R"({"secret":"short"})").find("at least 32 bytes"), std::string::npos);
    EXPECT_NE(error("auth", R"({"secret":"0123456789abcdef0123456789abcdef","oops":1})").find("unknown option 'oops'"),
              std::string::npos);
}

TEST_F(FactoryTest, AuthSecretFromConfigOrEnvironment) {
    auto auth = std::dynamic_pointer_cast<AuthService>(build("auth", "auth", R"({"secret":"0123456789abcdef0123456789abcdef"})"));
    ASSERT_TRUE(auth);
    IdentityTokens same(kSecret);
    EXPECT_TRUE(same.verify(auth->tokens().mint("alice", std::chrono::seconds(60))).ok());

    ::setenv(IdentityTokens::kSecretEnvVar, "ffffffffffffffffffffffffffffffffff", 1);
    auto fromEnv = std::dynamic_pointer_cast<AuthService>(build("auth", "auth2", "{}"));
    ASSERT_TRUE(fromEnv);
    IdentityTokens envTokens("ffffffffffffffffffffffffffffffffff");
    EXPECT_TRUE(envTokens.verify(fromEnv->tokens().mint("alice", std::chrono::seconds(60))).ok());
    EXPECT_FALSE(same.verify(fromEnv->tokens().mint("alice", std::chrono::seconds(60))).ok());
    ::setenv(IdentityTokens::kSecretEnvVar, "short", 1);
    EXPECT_NE(error("auth", "{}").find("at least 32 bytes"), std::string::npos);
}

TEST_F(FactoryTest, AuthBackendSharesItsAuthServicesSecret) {
    build("auth", "auth", R"({"secret":"0123456789abcdef0123456789abcdef"})");
    EXPECT_TRUE(build("auth_backend", "auth_backend", R"({"auth":"auth","max_lifetime":600,"default_lifetime":60})"));
    EXPECT_NE(error("auth_backend", "{}").find("option 'auth' is required"), std::string::npos);
    EXPECT_NE(error("auth_backend", R"({"auth":"nope"})").find("no service named 'nope'"), std::string::npos);
    EXPECT_NE(error("auth_backend", R"({"auth":"auth","default_lifetime":700,"max_lifetime":600})")
                  .find("'default_lifetime' must not exceed 'max_lifetime'"),
              std::string::npos);
    // Only a small maximum: the default lifetime shrinks to it.
    auto backend = std::dynamic_pointer_cast<AuthBackend>(build("auth_backend", "b2", R"({"auth":"auth","max_lifetime":60})"));
    ASSERT_TRUE(backend);
    build("messaging", "m", "{}");
    EXPECT_NE(error("auth_backend", R"({"auth":"m"})").find("is not a auth service"), std::string::npos);
}

TEST_F(FactoryTest, MessagingChatAndCursorsWithTheirLimits) {
    EXPECT_TRUE(std::dynamic_pointer_cast<MessagingService>(
        build("messaging", "m", R"({"max_names_per_client":4,"max_name_bytes":64,"max_body_bytes":1000})")));
    EXPECT_TRUE(std::dynamic_pointer_cast<ChatService>(
        build("chat", "c", R"({"max_channels_per_client":10,"max_body_bytes":1000})")));
    EXPECT_TRUE(std::dynamic_pointer_cast<CursorsService>(build(
        "cursors", "k", R"({"max_cursors_per_client":4,"max_documents_per_client":2,"max_cursor_bytes":100})")));
    EXPECT_NE(error("chat", R"({"max_channels_per_client":0})").find("must be between 1"), std::string::npos);
    EXPECT_NE(error("cursors", R"({"max_cursor":3})").find("unknown option 'max_cursor'"), std::string::npos);
}
