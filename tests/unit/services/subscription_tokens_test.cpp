#include "snorky/services/subscription_tokens.hpp"

#include <gtest/gtest.h>
#include <jwt.h>

#include <cstdlib>

#include "snorky/services/identity_tokens.hpp"

using namespace snorky;
using namespace std::chrono_literals;

namespace {
const std::string kSecret = "0123456789abcdef0123456789abcdef";
const std::string kOtherSecret = "fedcba9876543210fedcba9876543210";
constexpr std::int64_t kNow = 1'700'000'000;

std::string craft(jwt_alg_t alg, const std::string& secret, const std::string& claimsJson) {
    jwt_t* jwt = nullptr;
    EXPECT_EQ(jwt_new(&jwt), 0);
    EXPECT_EQ(
        jwt_set_alg(jwt, alg, alg == JWT_ALG_NONE ? nullptr : reinterpret_cast<const unsigned char*>(secret.data()),
                    alg == JWT_ALG_NONE ? 0 : static_cast<int>(secret.size())),
        0);
    EXPECT_EQ(jwt_add_grants_json(jwt, claimsJson.c_str()), 0);
    char* text = jwt_encode_str(jwt);
    std::string out = text ? text : "";
    std::free(text);
    jwt_free(jwt);
    return out;
}

struct SubscriptionTokensTest : ::testing::Test {
    SubscriptionTokens tokens{kSecret};
    const char* check(const std::string& token, const json::value& channel, const json::value& identity = nullptr,
                      std::int64_t now = kNow, const char* service = "pubsub") {
        auto verdict = tokens.check(token, service, canonicalJson(channel), identity, now);
        return verdict.ok() ? "ok" : verdict.error;
    }
};
}  // namespace

TEST_F(SubscriptionTokensTest, AdmitsEveryNamedChannelAndNoOther) {
    std::string token =
        tokens.mint("pubsub", json::array{"doc:1", json::parse(R"({"a":1,"b":2})")}, nullptr, 60s, kNow);
    EXPECT_STREQ(check(token, "doc:1"), "ok");
    EXPECT_STREQ(check(token, json::parse(R"({"b":2,"a":1})")), "ok");  // any key order
    EXPECT_STREQ(check(token, "doc:2"), "Not authorized");
    EXPECT_STREQ(check(token, "doc:1", nullptr, kNow, "other_pubsub"), "Not authorized");
}

TEST_F(SubscriptionTokensTest, ExpiresStrictlyAtExp) {
    std::string token = tokens.mint("pubsub", json::array{"c"}, nullptr, 60s, kNow);
    EXPECT_STREQ(check(token, "c", nullptr, kNow + 59), "ok");
    EXPECT_STREQ(check(token, "c", nullptr, kNow + 60), "Token expired");
}

TEST_F(SubscriptionTokensTest, BoundTokensAdmitOnlyTheirHolder) {
    std::string token = tokens.mint("pubsub", json::array{"c"}, json::parse(R"({"id":42})"), 60s, kNow);
    EXPECT_STREQ(check(token, "c", json::parse(R"({"id":42})")), "ok");
    EXPECT_STREQ(check(token, "c", json::parse(R"({"id":43})")), "Not authorized");
    EXPECT_STREQ(check(token, "c", nullptr), "Not authorized");
    // Unbound tokens admit anyone, anonymous included.
    EXPECT_STREQ(check(tokens.mint("pubsub", json::array{"c"}, nullptr, 60s, kNow), "c", "bob"), "ok");
}

TEST_F(SubscriptionTokensTest, ForgedWidenedOrForeignTokensAreInvalid) {
    std::string token = tokens.mint("pubsub", json::array{"c"}, nullptr, 60s, kNow);
    SubscriptionTokens other{kOtherSecret};
    EXPECT_STREQ(check(other.mint("pubsub", json::array{"c"}, nullptr, 60s, kNow), "c"), "Invalid token");
    // The payload rewritten to name another channel, signature kept: widening fails.
    std::string widened = craft(JWT_ALG_HS256, kSecret,
                                R"({"scope":"pubsub","service":"pubsub","channels":["c","secret"],"exp":1700000060})");
    std::string header = token.substr(0, token.find('.'));
    std::string signature = token.substr(token.rfind('.'));
    std::string payload = widened.substr(widened.find('.') + 1, widened.rfind('.') - widened.find('.') - 1);
    EXPECT_STREQ(check(header + "." + payload + signature, "secret"), "Invalid token");
    EXPECT_STREQ(
        check(craft(JWT_ALG_NONE, "", R"({"scope":"pubsub","service":"pubsub","channels":["c"],"exp":1700000060})"),
              "c"),
        "Invalid token");
    EXPECT_STREQ(check(craft(JWT_ALG_HS512, kSecret,
                             R"({"scope":"pubsub","service":"pubsub","channels":["c"],"exp":1700000060})"),
                       "c"),
                 "Invalid token");
    EXPECT_STREQ(check("", "c"), "Invalid token");
    EXPECT_STREQ(check("a.b.c", "c"), "Invalid token");
}

TEST_F(SubscriptionTokensTest, MissingClaimsAreInvalid) {
    for (const char* claims : {
             R"({"scope":"pubsub","service":"pubsub","channels":["c"]})",                  // no exp
             R"({"service":"pubsub","channels":["c"],"exp":1700000060})",                  // no scope
             R"({"scope":"pubsub","channels":["c"],"exp":1700000060})",                    // no service
             R"({"scope":"pubsub","service":"pubsub","channels":"c","exp":1700000060})",   // channels not a list
             R"({"scope":"other","service":"pubsub","channels":["c"],"exp":1700000060})",  // another scope
         })
        EXPECT_STREQ(check(craft(JWT_ALG_HS256, kSecret, claims), "c"), "Invalid token") << claims;
}

TEST_F(SubscriptionTokensTest, IdentityAndSubscriptionTokensAreNotInterchangeable) {
    // Same secret: still no confusion in either direction.
    IdentityTokens identities{kSecret, [] { return kNow; }};
    EXPECT_STREQ(check(identities.mint("alice", 60s), "c", "alice"), "Invalid token");
    std::string subscription = tokens.mint("pubsub", json::array{"c"}, "alice", 60s, kNow);
    EXPECT_EQ(identities.verify(subscription).error, "Invalid token");
}

TEST_F(SubscriptionTokensTest, MintRefusesBadInput) {
    EXPECT_THROW(tokens.mint("pubsub", json::array{}, nullptr, 60s, kNow), std::invalid_argument);
    json::array tooMany(SubscriptionTokens::kMaxChannels + 1, json::value("c"));
    EXPECT_THROW(tokens.mint("pubsub", tooMany, nullptr, 60s, kNow), std::invalid_argument);
    EXPECT_THROW(tokens.mint("pubsub", json::array{"c"}, nullptr, 0s, kNow), std::invalid_argument);
    EXPECT_THROW(SubscriptionTokens("short"), std::invalid_argument);
}
