#include "snorky/services/subscription_tokens.hpp"

#include <algorithm>
#include <stdexcept>

#include "hs256_jwt.hpp"
#include "snorky/protocol/errors.hpp"
#include "snorky/services/identity_tokens.hpp"

namespace snorky {

namespace {

constexpr const char* kScope = "pubsub";

SubscriptionTokens::Verdict refuse(const char* error, std::string detail) {
    return SubscriptionTokens::Verdict{error, std::move(detail)};
}

}  // namespace

SubscriptionTokens::SubscriptionTokens(std::string secret) : secret_(std::move(secret)) {
    if (secret_.size() < IdentityTokens::kMinSecretBytes)
        throw std::invalid_argument("the subscription token secret must be at least " +
                                    std::to_string(IdentityTokens::kMinSecretBytes) + " bytes long");
}

std::string SubscriptionTokens::mint(std::string_view service, const json::array& channels, const json::value& holder,
                                     std::chrono::seconds lifetime, std::int64_t now) const {
    if (channels.empty() || channels.size() > kMaxChannels)
        throw std::invalid_argument("a token names 1 to " + std::to_string(kMaxChannels) + " channels");
    for (const json::value& channel : channels)
        if (json::serialize(channel).size() > kMaxChannelBytes)
            throw std::invalid_argument("a channel is larger than " + std::to_string(kMaxChannelBytes) + " bytes");
    if (json::serialize(holder).size() > IdentityTokens::kMaxIdentityBytes)
        throw std::invalid_argument("the identity is too large");
    if (lifetime.count() <= 0 || lifetime > IdentityTokens::kMaxHorizon)
        throw std::invalid_argument("the token lifetime is out of range");
    json::object claims;
    claims["scope"] = kScope;
    claims["service"] = service;
    claims["channels"] = channels;
    if (!holder.is_null()) claims["holder"] = holder;
    claims["iat"] = now;
    claims["exp"] = now + lifetime.count();
    return hs256::sign(claims, secret_);
}

SubscriptionTokens::Verdict SubscriptionTokens::check(std::string_view token, std::string_view service,
                                                      const std::string& channelKey, const json::value& identity,
                                                      std::int64_t now) const {
    hs256::Decoded decoded = hs256::decode(token, secret_, now);
    if (!decoded.ok()) return refuse(decoded.error, std::move(decoded.detail));
    const json::object& claims = decoded.claims;
    const json::value* scope = claims.if_contains("scope");
    const json::value* channels = claims.if_contains("channels");
    const json::value* forService = claims.if_contains("service");
    // An identity token, signed with the same secret, stops here.
    if (!scope || *scope != kScope || !channels || !channels->is_array() || !forService || !forService->is_string())
        return refuse(errors::kInvalidToken, "not a subscription token");
    hs256::checkTimes(decoded, now);
    if (!decoded.ok()) return refuse(decoded.error, std::move(decoded.detail));
    if (forService->as_string() != service) return refuse(errors::kNotAuthorized, "token for another service");
    const json::array& list = channels->as_array();
    bool named = std::any_of(list.begin(), list.end(), [&channelKey](const json::value& channel) {
        return canonicalJson(channel) == channelKey;
    });
    if (!named) return refuse(errors::kNotAuthorized, "token for other channels");
    if (const json::value* holder = claims.if_contains("holder"); holder && *holder != identity)
        return refuse(errors::kNotAuthorized, "token for another identity");
    return {};
}

}  // namespace snorky
