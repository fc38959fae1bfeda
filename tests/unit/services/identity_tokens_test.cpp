#include "snorky/services/identity_tokens.hpp"

#include <gtest/gtest.h>
#include <jwt.h>

#include <cstdlib>

using namespace snorky;
using namespace std::chrono_literals;

namespace {
const std::string kSecret = "0123456789abcdef0123456789abcdef";  // exactly 32 bytes
const std::string kOtherSecret = "fedcba9876543210fedcba9876543210";

// Signs arbitrary claims with libjwt, to build tokens mint() would never make.
std::string craft(jwt_alg_t alg, const std::string& secret, const std::string& claimsJson) {
    jwt_t* jwt = nullptr;
    EXPECT_EQ(jwt_new(&jwt), 0);
    EXPECT_EQ(jwt_set_alg(jwt, alg, alg == JWT_ALG_NONE ? nullptr : reinterpret_cast<const unsigned char*>(secret.data()),
                          alg == JWT_ALG_NONE ? 0 : static_cast<int>(secret.size())),
              0);
    EXPECT_EQ(jwt_add_grants_json(jwt, claimsJson.c_str()), 0);
    char* text = jwt_encode_str(jwt);
    std::string out = text ? text : "";
    std::free(text);
    jwt_free(jwt);
    return out;
}

struct IdentityTokensTest : ::testing::Test {
    std::int64_t now = 1'700'000'000;
    IdentityTokens tokens{kSecret, [this] { return now; }};
};
}  // namespace

TEST_F(IdentityTokensTest, RoundTripsAnyIdentity) {
    for (const char* identity : {R"("alice")", R"(42)", R"({"user":7,"name":"Bob"})", R"([1,"x"])", R"(true)"}) {
        auto verdict = tokens.verify(tokens.mint(json::parse(identity), 60s));
        ASSERT_TRUE(verdict.ok()) << identity << ": " << verdict.detail;
        EXPECT_EQ(verdict.identity, json::parse(identity));
    }
}

TEST_F(IdentityTokensTest, TokenIsHs256WithIdentityIatAndExp) {
    std::string token = tokens.mint("alice", 90s);
    jwt_t* jwt = nullptr;
    ASSERT_EQ(jwt_decode(&jwt, token.c_str(), reinterpret_cast<const unsigned char*>(kSecret.data()),
                         static_cast<int>(kSecret.size())),
              0);
    EXPECT_EQ(jwt_get_alg(jwt), JWT_ALG_HS256);
    EXPECT_EQ(jwt_get_grant_int(jwt, "iat"), now);
    EXPECT_EQ(jwt_get_grant_int(jwt, "exp"), now + 90);
    EXPECT_STREQ(jwt_get_grant(jwt, "identity"), "alice");
    jwt_free(jwt);
}

TEST_F(IdentityTokensTest, ExpiredTokensAreRefused) {
    std::string token = tokens.mint("alice", 10s);
    now += 9;
    EXPECT_TRUE(tokens.verify(token).ok());
    now += 1;  // exactly exp: no longer valid
    auto verdict = tokens.verify(token);
    EXPECT_EQ(verdict.error, "Token expired");
    EXPECT_TRUE(verdict.identity.is_null());
}

TEST_F(IdentityTokensTest, TokensFromAnotherSecretAreForged) {
    IdentityTokens other{kOtherSecret, [this] { return now; }};
    auto verdict = tokens.verify(other.mint("alice", 60s));
    EXPECT_EQ(verdict.error, "Invalid token");
    EXPECT_TRUE(verdict.identity.is_null());
}

TEST_F(IdentityTokensTest, TamperedPayloadIsRefused) {
    std::string token = tokens.mint("alice", 60s);
    std::string bob = tokens.mint("bob", 60s);
    // Alice's header and signature around Bob's payload.
    auto dot1 = token.find('.'), dot2 = token.rfind('.');
    auto bdot1 = bob.find('.'), bdot2 = bob.rfind('.');
    std::string spliced = token.substr(0, dot1) + bob.substr(bdot1, bdot2 - bdot1) + token.substr(dot2);
    EXPECT_EQ(tokens.verify(spliced).error, "Invalid token");
}

TEST_F(IdentityTokensTest, AlgNoneIsRefused) {
    std::string token = craft(JWT_ALG_NONE, "", R"({"identity":"alice","iat":1700000000,"exp":1900000000})");
    ASSERT_FALSE(token.empty());
    auto verdict = tokens.verify(token);
    EXPECT_EQ(verdict.error, "Invalid token");
    EXPECT_TRUE(verdict.identity.is_null());
}

TEST_F(IdentityTokensTest, OtherAlgorithmsAreRefusedEvenWithTheRightSecret) {
    for (jwt_alg_t alg : {JWT_ALG_HS384, JWT_ALG_HS512}) {
        std::string token = craft(alg, kSecret, R"({"identity":"alice","iat":1700000000,"exp":1900000000})");
        auto verdict = tokens.verify(token);
        EXPECT_EQ(verdict.error, "Invalid token") << jwt_alg_str(alg);
        EXPECT_NE(verdict.detail.find("algorithm"), std::string::npos) << verdict.detail;
    }
}

TEST_F(IdentityTokensTest, MissingOrBadClaimsAreRefused) {
    // The same signer as the service, so only the claims are at fault.
    EXPECT_TRUE(tokens.verify(craft(JWT_ALG_HS256, kSecret, R"({"identity":"a","exp":1900000000})")).ok());
    for (const char* claims : {
             R"({"identity":"a","iat":1700000000})",                   // no exp
             R"({"identity":"a","exp":"1900000000"})",                 // exp not a number
             R"({"iat":1700000000,"exp":1900000000})",                 // no identity
             R"({"identity":null,"exp":1900000000})",                  // null identity (= anonymous)
             R"({"identity":"a","iat":"yesterday","exp":1900000000})"  // iat not a number
         }) {
        auto verdict = tokens.verify(craft(JWT_ALG_HS256, kSecret, claims));
        EXPECT_EQ(verdict.error, "Invalid token") << claims;
        EXPECT_TRUE(verdict.identity.is_null()) << claims;
    }
}

TEST_F(IdentityTokensTest, GarbageIsRefused) {
    std::string valid = tokens.mint("alice", 60s);
    for (std::string garbage : {std::string(), std::string("not a token"), std::string("a.b.c"), std::string("...."),
                                valid.substr(0, valid.size() / 2), valid + "x", std::string("e30.e30.e30"),
                                std::string(IdentityTokens::kMaxTokenBytes + 1, 'a'), valid + std::string(1, '\0')}) {
        auto verdict = tokens.verify(garbage);
        EXPECT_EQ(verdict.error, "Invalid token") << garbage.substr(0, 40);
        EXPECT_TRUE(verdict.identity.is_null());
    }
}

TEST_F(IdentityTokensTest, MintRefusesBadInput) {
    EXPECT_THROW(tokens.mint(nullptr, 60s), std::invalid_argument);
    EXPECT_THROW(tokens.mint("alice", 0s), std::invalid_argument);
    EXPECT_THROW(tokens.mint(json::value(std::string(IdentityTokens::kMaxIdentityBytes, 'x')), 60s),
                 std::invalid_argument);
}

TEST(IdentityTokensSecret, ShortSecretsAreRefused) {
    EXPECT_THROW(IdentityTokens(std::string(31, 'k')), std::invalid_argument);
    EXPECT_NO_THROW(IdentityTokens(std::string(32, 'k')));
}

TEST(IdentityTokensClock, SystemClockIsUnixSeconds) {
    IdentityTokens tokens(kSecret);
    auto verdict = tokens.verify(tokens.mint("alice", 60s));
    EXPECT_TRUE(verdict.ok()) << verdict.detail;
    EXPECT_GT(IdentityTokens::systemClock(), 1'600'000'000);
}

TEST_F(IdentityTokensTest, HookShapedOverloadForTransports) {
    std::string error;
    auto identity = tokens.verify(tokens.mint("alice", 60s), error);
    ASSERT_TRUE(identity.has_value());
    EXPECT_EQ(*identity, "alice");
    EXPECT_EQ(error, "");
    EXPECT_FALSE(tokens.verify("garbage", error).has_value());
    EXPECT_EQ(error, "Invalid token");
    std::string expired = tokens.mint("alice", 1s);
    now += 1;
    EXPECT_FALSE(tokens.verify(expired, error).has_value());
    EXPECT_EQ(error, "Token expired");
}

TEST_F(IdentityTokensTest, NotBeforeIsHonouredWithASmallClockSkew) {
    const auto skew = IdentityTokens::kClockSkew.count();
    auto withNbf = [&](std::int64_t nbf) {
        return craft(JWT_ALG_HS256, kSecret,
                     R"({"identity":"a","exp":)" + std::to_string(now + 3600) + R"(,"nbf":)" + std::to_string(nbf) + "}");
    };
    EXPECT_TRUE(tokens.verify(withNbf(now - 10)).ok());
    EXPECT_TRUE(tokens.verify(withNbf(now)).ok());
    EXPECT_TRUE(tokens.verify(withNbf(now + skew)).ok());  // the issuer's clock is a little ahead
    std::string later = withNbf(now + 600);
    auto verdict = tokens.verify(later);
    EXPECT_EQ(verdict.error, "Token not yet valid");
    EXPECT_TRUE(verdict.identity.is_null());
    EXPECT_EQ(tokens.verify(withNbf(now + skew + 1)).error, "Token not yet valid");
    now += 600;  // its time has come
    EXPECT_TRUE(tokens.verify(later).ok());
}

TEST_F(IdentityTokensTest, TokensIssuedInTheFutureAreRefused) {
    const auto skew = IdentityTokens::kClockSkew.count();
    auto withIat = [&](std::int64_t iat) {
        return craft(JWT_ALG_HS256, kSecret,
                     R"({"identity":"a","exp":)" + std::to_string(now + 3600) + R"(,"iat":)" + std::to_string(iat) + "}");
    };
    EXPECT_TRUE(tokens.verify(withIat(now + skew)).ok());
    EXPECT_EQ(tokens.verify(withIat(now + 3000)).error, "Invalid token");
    // A signer whose clock runs an hour ahead mints such tokens.
    IdentityTokens ahead{kSecret, [this] { return now + 3600; }};
    EXPECT_EQ(tokens.verify(ahead.mint("a", 7200s)).error, "Invalid token");
}

TEST_F(IdentityTokensTest, AbsurdTimeClaimsAreRefused) {
    auto claims = [&](const std::string& extra) { return craft(JWT_ALG_HS256, kSecret, R"({"identity":"a",)" + extra + "}"); };
    const std::string exp = R"("exp":)" + std::to_string(now + 3600);
    for (const std::string& bad : {
             std::string(R"("exp":1e300)"),                  // converted, this was undefined behaviour
             std::string(R"("exp":-1)"),                     // before the epoch
             std::string(R"("exp":1900000000.5)"),           // not whole seconds
             std::string(R"("exp":9223372036854775807)"),    // year 292 billion
             R"("exp":)" + std::to_string(now + IdentityTokens::kMaxHorizon.count() + 1),  // past the horizon
             exp + R"(,"nbf":1e300)", exp + R"(,"nbf":-5)", exp + R"(,"nbf":"soon")", exp + R"(,"nbf":1.5)",
             exp + R"(,"iat":-1)", exp + R"(,"iat":1e300)", exp + R"(,"iat":1700000000.25)"}) {
        auto verdict = tokens.verify(claims(bad));
        EXPECT_EQ(verdict.error, "Invalid token") << bad;
        EXPECT_TRUE(verdict.identity.is_null()) << bad;
    }
    EXPECT_TRUE(tokens.verify(claims(R"("exp":)" + std::to_string(now + IdentityTokens::kMaxHorizon.count()))).ok());
    EXPECT_TRUE(tokens.verify(claims(exp + R"(,"iat":0,"nbf":0)")).ok());
}

TEST_F(IdentityTokensTest, MintStaysWithinTheHorizon) {
    EXPECT_NO_THROW(tokens.mint("a", IdentityTokens::kMaxHorizon));
    EXPECT_THROW(tokens.mint("a", IdentityTokens::kMaxHorizon + 1s), std::invalid_argument);
    EXPECT_THROW(tokens.mint("a", std::chrono::seconds(INT64_MAX)), std::invalid_argument);
}
