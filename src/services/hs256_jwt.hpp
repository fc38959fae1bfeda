#pragma once
// The JWT HS256 mechanics shared by identity tokens and PubSub subscription
// tokens (libjwt underneath): signing a claims object, and checking a token's
// signature, algorithm and time claims. What the claims must say beyond the
// times is the caller's business. Private to the services layer.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "snorky/protocol/json.hpp"

namespace snorky::hs256 {

// Signs `claims` with `secret`; throws std::runtime_error if libjwt fails.
std::string sign(const json::object& claims, const std::string& secret);

struct Decoded {
    json::object claims;
    std::int64_t exp = 0;
    std::optional<std::int64_t> iat, nbf;
    const char* error = nullptr;  // client-facing text (errors.hpp), null when ok
    std::string detail;           // why, for the server log only
    bool ok() const { return error == nullptr; }
};

// Signature with `secret`, HS256 only, a JSON object of finite numbers, a
// required exp and optional iat/nbf that are whole non-negative Unix seconds,
// exp no further than IdentityTokens::kMaxHorizon from `now`. Does not check
// whether the token is already expired: see checkTimes.
Decoded decode(std::string_view token, const std::string& secret, std::int64_t now);

// Expiry (exp, strict), nbf and iat (with IdentityTokens::kClockSkew) of a
// decoded token at `now`: `decoded` unchanged, or with error and detail set.
void checkTimes(Decoded& decoded, std::int64_t now);

}  // namespace snorky::hs256
