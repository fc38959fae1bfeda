#include "snorky/services/identity_tokens.hpp"

#include <jwt.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

#include "snorky/protocol/errors.hpp"

namespace snorky {

namespace {

// Owns a jwt_t so that every exit path frees it.
struct JwtHandle {
    jwt_t* jwt = nullptr;
    ~JwtHandle() { jwt_free(jwt); }
};

// Owns a string libjwt allocated with malloc.
struct CString {
    char* text = nullptr;
    ~CString() { std::free(text); }
};

IdentityTokens::Verdict refuse(const char* error, std::string detail) {
    IdentityTokens::Verdict verdict;
    verdict.error = error;
    verdict.detail = std::move(detail);
    return verdict;
}

// A NumericDate claim (RFC 7519 2) as we accept it: a whole number of
// seconds since the epoch, 0 or more.
std::optional<std::int64_t> unixSeconds(const json::value& claim) {
    auto seconds = exactInteger(claim);
    if (!seconds || *seconds < 0) return std::nullopt;
    return seconds;
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

    JwtHandle token;
    if (jwt_new(&token.jwt) != 0) throw std::runtime_error("jwt_new failed");
    if (jwt_set_alg(token.jwt, JWT_ALG_HS256, reinterpret_cast<const unsigned char*>(secret_.data()),
                    static_cast<int>(secret_.size())) != 0)
        throw std::runtime_error("jwt_set_alg failed");
    if (jwt_add_grants_json(token.jwt, json::serialize(claims).c_str()) != 0)
        throw std::runtime_error("jwt_add_grants_json failed");
    CString encoded{jwt_encode_str(token.jwt)};
    if (!encoded.text) throw std::runtime_error("jwt_encode_str failed");
    return encoded.text;
}

IdentityTokens::Verdict IdentityTokens::verify(std::string_view text) const {
    if (text.empty()) return refuse(errors::kInvalidToken, "empty token");
    if (text.size() > kMaxTokenBytes) return refuse(errors::kInvalidToken, "token too long");
    if (text.find('\0') != std::string_view::npos) return refuse(errors::kInvalidToken, "NUL byte in token");

    // libjwt checks the format and, for HMAC algorithms, the signature with
    // our key. It would accept other algorithms (even "none"), so the
    // algorithm is checked below too.
    JwtHandle token;
    std::string terminated(text);
    int rc = jwt_decode(&token.jwt, terminated.c_str(), reinterpret_cast<const unsigned char*>(secret_.data()),
                        static_cast<int>(secret_.size()));
    if (rc != 0 || !token.jwt)
        return refuse(errors::kInvalidToken, "malformed token or bad signature (" + std::string(std::strerror(rc)) + ")");
    if (jwt_get_alg(token.jwt) != JWT_ALG_HS256)
        return refuse(errors::kInvalidToken,
                      std::string("algorithm ") + jwt_alg_str(jwt_get_alg(token.jwt)) + " is not accepted");

    CString grants{jwt_get_grants_json(token.jwt, nullptr)};
    if (!grants.text) return refuse(errors::kInvalidToken, "no claims");
    boost::system::error_code ec;
    json::value claims = json::parse(grants.text, ec);
    if (ec || !claims.is_object()) return refuse(errors::kInvalidToken, "claims are not a JSON object");
    if (!allNumbersFinite(claims)) return refuse(errors::kInvalidToken, "a number in the claims is out of range");
    const json::object& object = claims.as_object();

    // Times are whole, non-negative Unix seconds: a fraction, a negative or
    // an astronomic value (1e300) is refused, never converted.
    const std::int64_t now = clock_();
    const json::value* expClaim = object.if_contains("exp");
    if (!expClaim) return refuse(errors::kInvalidToken, "missing exp claim");
    auto exp = unixSeconds(*expClaim);
    if (!exp) return refuse(errors::kInvalidToken, "exp claim is not whole Unix seconds");
    if (*exp > now + kMaxHorizon.count())
        return refuse(errors::kInvalidToken, "exp claim too far in the future (" + std::to_string(*exp) + ")");
    std::optional<std::int64_t> iat, nbf;
    if (const json::value* claim = object.if_contains("iat"); claim && !(iat = unixSeconds(*claim)))
        return refuse(errors::kInvalidToken, "iat claim is not whole Unix seconds");
    if (const json::value* claim = object.if_contains("nbf"); claim && !(nbf = unixSeconds(*claim)))
        return refuse(errors::kInvalidToken, "nbf claim is not whole Unix seconds");
    const json::value* identity = object.if_contains("identity");
    if (!identity || identity->is_null()) return refuse(errors::kInvalidToken, "missing identity claim");

    // RFC 7519 4.1.4: the token must not be accepted on or after exp.
    if (now >= *exp) return refuse(errors::kTokenExpired, "expired");
    // 4.1.5 and 4.1.6, give or take the issuer's clock being a little ahead of ours.
    if (nbf && *nbf > now + kClockSkew.count()) return refuse(errors::kTokenNotYetValid, "nbf is in the future");
    if (iat && *iat > now + kClockSkew.count()) return refuse(errors::kInvalidToken, "issued in the future (iat)");

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
