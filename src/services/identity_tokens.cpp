#include "snorky/services/identity_tokens.hpp"

#include <stdexcept>

#include "hs256_jwt.hpp"
#include "snorky/protocol/errors.hpp"

namespace snorky {

namespace {

IdentityTokens::Verdict refuse(const char* error, std::string detail) {
    IdentityTokens::Verdict verdict;
    verdict.error = error;
    verdict.detail = std::move(detail);
    return verdict;
}

}  // namespace

std::int64_t IdentityTokens::systemClock() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

IdentityTokens::IdentityTokens(std::string secret, Clock clock) : secret_(std::move(secret)), clock_(std::move(clock)) {
    if (secret_.size() < kMinSecretBytes)
        throw std::invalid_argument("the identity secret must be at least " + std::to_string(kMinSecretBytes) +
                                    " bytes long");
}

std::string IdentityTokens::mint(const json::value& identity, std::chrono::seconds lifetime) const {
    if (identity.is_null()) throw std::invalid_argument("the identity must not be null");
    if (json::serialize(identity).size() > kMaxIdentityBytes)
        throw std::invalid_argument("the identity is larger than " + std::to_string(kMaxIdentityBytes) + " bytes");
    if (lifetime.count() <= 0 || lifetime > kMaxHorizon)
        throw std::invalid_argument("the token lifetime must be positive and at most " +
                                    std::to_string(kMaxHorizon.count()) + " seconds");

    std::int64_t now = clock_();
    json::object claims;
    claims["identity"] = identity;
    claims["iat"] = now;
    claims["exp"] = now + lifetime.count();
    return hs256::sign(claims, secret_);
}

IdentityTokens::Verdict IdentityTokens::verify(std::string_view text) const {
    const std::int64_t now = clock_();
    hs256::Decoded decoded = hs256::decode(text, secret_, now);
    if (!decoded.ok()) return refuse(decoded.error, std::move(decoded.detail));
    const json::value* identity = decoded.claims.if_contains("identity");
    if (!identity || identity->is_null()) return refuse(errors::kInvalidToken, "missing identity claim");
    hs256::checkTimes(decoded, now);
    if (!decoded.ok()) return refuse(decoded.error, std::move(decoded.detail));

    Verdict verdict;
    verdict.identity = *identity;
    return verdict;
}

std::optional<json::value> IdentityTokens::verify(std::string_view token, std::string& error) const {
    Verdict verdict = verify(token);
    if (verdict.ok()) return std::move(verdict.identity);
    error = std::move(verdict.error);
    return std::nullopt;
}

}  // namespace snorky
