#pragma once
// IdentityTokens issues and checks the tokens with which a client proves an
// identity: JWT HS256 (signed with a shared secret, through libjwt) carrying
// the identity as the "identity" claim, with "iat" and "exp". Only HS256 is
// accepted; "exp" is required, "nbf" honoured, and every time claim must be
// whole, non-negative Unix seconds. Thread-safe: it holds only the secret.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "snorky/protocol/json.hpp"

namespace snorky {

class IdentityTokens {
public:
    // Unix time in seconds; injectable so tests can mint expired tokens.
    using Clock = std::function<std::int64_t()>;
    static std::int64_t systemClock();

    // HS256 needs a secret at least as long as its output (RFC 7518, 3.2).
    static constexpr std::size_t kMinSecretBytes = 32;
    // Tokens longer than this are refused before any parsing.
    static constexpr std::size_t kMaxTokenBytes = 8192;
    // Largest identity (serialized JSON) a token may carry.
    static constexpr std::size_t kMaxIdentityBytes = 2048;
    // No token is accepted with an exp further ahead than this (ten years):
    // such an exp is a forgery or a bug, not a lifetime.
    static constexpr std::chrono::seconds kMaxHorizon{10LL * 365 * 86400};
    // How far in the future nbf and iat may be: the issuer's clock may be a
    // little ahead of ours. exp is checked strictly.
    static constexpr std::chrono::seconds kClockSkew{30};
    // Environment variable read when the config gives no secret.
    static constexpr const char* kSecretEnvVar = "SNORKY_IDENTITY_SECRET";

    // Throws std::invalid_argument when the secret is shorter than kMinSecretBytes.
    explicit IdentityTokens(std::string secret, Clock clock = systemClock);

    // A token for `identity` (any JSON value but null, at most
    // kMaxIdentityBytes serialized) valid for `lifetime` (> 0, <= kMaxHorizon). Throws
    // std::invalid_argument on bad input.
    std::string mint(const json::value& identity, std::chrono::seconds lifetime) const;

    struct Verdict {
        json::value identity;  // null unless ok()
        std::string error;     // client-facing text (errors.hpp), empty when ok
        std::string detail;    // why, for the server log only
        bool ok() const { return error.empty(); }
    };
    // Checks signature, algorithm (HS256 only), exp, nbf, iat and claims. Never
    // returns a partial identity: either ok() with the identity, or an error.
    Verdict verify(std::string_view token) const;
    // The same, shaped for a transport's connect-time hook
    // (WebSocketOptions::verifyToken): the identity, or nullopt with `error`
    // set to the client-facing text. Callable from any thread.
    std::optional<json::value> verify(std::string_view token, std::string& error) const;

private:
    std::string secret_;
    Clock clock_;
};
using IdentityTokensPtr = std::shared_ptr<const IdentityTokens>;

}  // namespace snorky
