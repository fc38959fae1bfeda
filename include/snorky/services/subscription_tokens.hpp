#pragma once
// SubscriptionTokens: what the backend hands out so that a browser may
// subscribe to PubSub channels the namespace table keeps private
// (subscribe = "token"). A token is a JWT HS256 (libjwt) with the claims
//   {"scope": "pubsub", "service": <PubSub service name>, "channels": [...],
//    "holder": <identity, optional>, "iat", "exp"}
// signed with a shared secret, so every node checks it locally, without a
// round trip to the backend. The channel list is signed: it cannot be
// widened. The bound identity is "holder", not "identity", so a
// subscription token can never be used to authenticate (IdentityTokens
// requires "identity"). Thread-safe: it holds only the secret.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "snorky/protocol/json.hpp"

namespace snorky {

class SubscriptionTokens {
public:
    // Channels one token may name; each channel at most this many bytes as JSON.
    static constexpr std::size_t kMaxChannels = 100;
    static constexpr std::size_t kMaxChannelBytes = 1024;

    // Throws std::invalid_argument when the secret is shorter than
    // IdentityTokens::kMinSecretBytes.
    explicit SubscriptionTokens(std::string secret);

    // A token for `channels` (1..kMaxChannels JSON values) of `service`,
    // bound to `holder` unless it is null, valid for `lifetime` (> 0, within
    // IdentityTokens::kMaxHorizon) from `now` (Unix seconds). Throws
    // std::invalid_argument on bad input.
    std::string mint(std::string_view service, const json::array& channels, const json::value& holder,
                     std::chrono::seconds lifetime, std::int64_t now) const;

    struct Verdict {
        const char* error = nullptr;  // client-facing text (errors.hpp), null when the token admits
        std::string detail;           // why, for the server log only
        bool ok() const { return error == nullptr; }
    };
    // Whether `token` lets a client with `identity` subscribe to the channel
    // whose canonical JSON is `channelKey` in `service` at `now`.
    // "Invalid token" (forged, malformed, not a subscription token), "Token
    // expired", "Token not yet valid", or "Not authorized" (a genuine token
    // for another channel, service or identity).
    Verdict check(std::string_view token, std::string_view service, const std::string& channelKey,
                  const json::value& identity, std::int64_t now) const;

private:
    std::string secret_;
};
using SubscriptionTokensPtr = std::shared_ptr<const SubscriptionTokens>;

}  // namespace snorky
