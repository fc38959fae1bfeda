#include "snorky/services/auth.hpp"
#include "snorky/services/chat.hpp"

#include <gtest/gtest.h>

#include "support/fake_client.hpp"

using namespace snorky;
using namespace snorky::testing;
using namespace std::chrono_literals;

namespace {
const std::string kSecret = "0123456789abcdef0123456789abcdef";

struct AuthTest : ::testing::Test {
    std::int64_t now = 1'700'000'000;
    IdentityTokensPtr tokens = std::make_shared<IdentityTokens>(kSecret, [this] { return now; });
    TestNode frontend;
    TestNode backend;
    std::shared_ptr<AuthService> auth = std::make_shared<AuthService>("auth", tokens);
    std::shared_ptr<AuthBackend> authBackend;
    FakeClientPtr alice = FakeClient::make();
    FakeClientPtr server = FakeClient::make();

    void SetUp() override {
        frontend.registry.registerService(auth);
        AuthBackend::Options options;
        options.defaultLifetime = 100s;
        options.maxLifetime = 1000s;
        authBackend = std::make_shared<AuthBackend>("auth_backend", *auth, options);
        backend.registry.registerService(authBackend);
        frontend.connect(alice);
    }
    json::value call(TestNode& node, const FakeClientPtr& c, const char* service, const char* command,
                     json::object params) {
        node.call(c, service, command, std::move(params));
        EXPECT_EQ(c->frames.size(), 1u);
        json::value reply = c->last();
        c->frames.clear();
        return reply;
    }
    json::value authenticate(const FakeClientPtr& c, const std::string& token) {
        return call(frontend, c, "auth", "authenticate", {{"token", token}});
    }
    json::value mint(json::object params) { return call(backend, server, "auth_backend", "mintToken", std::move(params)); }
};
}  // namespace

TEST_F(AuthTest, MintThenAuthenticateSetsTheIdentity) {
    json::value minted = mint({{"identity", json::parse(R"({"user":7})")}});
    ASSERT_EQ(minted.at("type"), "response");
    ASSERT_TRUE(minted.at("data").is_string());
    EXPECT_FALSE(alice->authenticated());
    json::value reply = authenticate(alice, std::string(minted.at("data").as_string()));
    EXPECT_EQ(reply.at("data"), json::parse(R"({"user":7})"));
    EXPECT_EQ(alice->identity(), json::parse(R"({"user":7})"));
    EXPECT_EQ(call(frontend, alice, "auth", "whoami", {}).at("data"), json::parse(R"({"user":7})"));
}

TEST_F(AuthTest, WhoamiIsNullForAnonymousClients) {
    EXPECT_EQ(call(frontend, alice, "auth", "whoami", {}).at("data"), nullptr);
}

TEST_F(AuthTest, DefaultAndMaximumLifetime) {
    std::string token(mint({{"identity", "alice"}}).at("data").as_string());
    now += 99;
    EXPECT_EQ(tokens->verify(token).error, "");
    now += 1;
    EXPECT_EQ(tokens->verify(token).error, "Token expired");

    EXPECT_EQ(mint({{"identity", "alice"}, {"lifetime", 1000}}).at("type"), "response");
    EXPECT_EQ(mint({{"identity", "alice"}, {"lifetime", 1001}}).at("message"), "Invalid lifetime");
    EXPECT_EQ(mint({{"identity", "alice"}, {"lifetime", 0}}).at("message"), "Invalid lifetime");
    EXPECT_EQ(mint({{"identity", "alice"}, {"lifetime", -5}}).at("message"), "Invalid lifetime");
    EXPECT_EQ(mint({{"identity", "alice"}, {"lifetime", "long"}}).at("message"), "Invalid params");
}

TEST_F(AuthTest, MintRefusesNullOrHugeIdentities) {
    EXPECT_EQ(mint({{"identity", nullptr}}).at("message"), "Invalid identity");
    EXPECT_EQ(mint({{"identity", std::string(IdentityTokens::kMaxIdentityBytes, 'x')}}).at("message"),
              "Invalid identity");
    EXPECT_EQ(mint({}).at("message"), "Invalid params");
}

TEST_F(AuthTest, ExpiredForgedAndGarbageTokensLeaveTheClientAnonymous) {
    std::string expired = tokens->mint("alice", 10s);
    now += 10;
    EXPECT_EQ(authenticate(alice, expired).at("message"), "Token expired");
    IdentityTokens forger(std::string(32, 'z'), [this] { return now; });
    EXPECT_EQ(authenticate(alice, forger.mint("alice", 60s)).at("message"), "Invalid token");
    EXPECT_EQ(authenticate(alice, "garbage").at("message"), "Invalid token");
    EXPECT_EQ(call(frontend, alice, "auth", "authenticate", {{"token", 42}}).at("message"), "Invalid params");
    EXPECT_FALSE(alice->authenticated());
}

TEST_F(AuthTest, ReauthenticationKeepsTheIdentityOrIsRefused) {
    ASSERT_EQ(authenticate(alice, tokens->mint("alice", 60s)).at("data"), "alice");
    now += 30;
    // A fresh token for the same identity is fine.
    EXPECT_EQ(authenticate(alice, tokens->mint("alice", 60s)).at("data"), "alice");
    // Another identity is refused and the first one stays.
    EXPECT_EQ(authenticate(alice, tokens->mint("mallory", 60s)).at("message"), "Already authenticated");
    EXPECT_EQ(alice->identity(), "alice");
    // A bad token does not touch the identity either.
    EXPECT_EQ(authenticate(alice, "garbage").at("message"), "Invalid token");
    EXPECT_EQ(alice->identity(), "alice");
}

TEST_F(AuthTest, IdentityIsPerConnection) {
    FakeClientPtr phone = FakeClient::make();
    frontend.connect(phone);
    authenticate(alice, tokens->mint("alice", 60s));
    EXPECT_FALSE(phone->authenticated());
}

TEST_F(AuthTest, TheIdentityIsSeenByTheOtherServicesOfTheRegistry) {
    frontend.registry.registerService(std::make_shared<ChatService>("chat", ChatService::Options{}));
    EXPECT_EQ(call(frontend, alice, "chat", "join", {{"channel", "room"}}).at("message"), "Not authenticated");
    authenticate(alice, tokens->mint(json::parse(R"({"user":7})"), 60s));
    EXPECT_EQ(call(frontend, alice, "chat", "join", {{"channel", "room"}}).at("data"),
              json::parse(R"({"members":[{"user":7}]})"));
}
