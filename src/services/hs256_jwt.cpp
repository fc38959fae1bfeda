#include "hs256_jwt.hpp"

#include <jwt.h>

#include <cstdlib>
#include <cstring>
#include <stdexcept>

#include "snorky/protocol/errors.hpp"
#include "snorky/services/identity_tokens.hpp"

namespace snorky::hs256 {

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

Decoded refuse(const char* error, std::string detail) {
    Decoded decoded;
    decoded.error = error;
    decoded.detail = std::move(detail);
    return decoded;
}

// A NumericDate claim (RFC 7519 2) as we accept it: a whole number of
// seconds since the epoch, 0 or more.
std::optional<std::int64_t> unixSeconds(const json::value& claim) {
    auto seconds = exactInteger(claim);
    if (!seconds || *seconds < 0) return std::nullopt;
    return seconds;
}

// Times are whole, non-negative Unix seconds: a fraction, a negative or an
// astronomic value (1e300) is refused, never converted.
Decoded readTimes(json::object claims, std::int64_t now) {
    const json::value* expClaim = claims.if_contains("exp");
    if (!expClaim) return refuse(errors::kInvalidToken, "missing exp claim");
    auto exp = unixSeconds(*expClaim);
    if (!exp) return refuse(errors::kInvalidToken, "exp claim is not whole Unix seconds");
    if (*exp > now + IdentityTokens::kMaxHorizon.count())
        return refuse(errors::kInvalidToken, "exp claim too far in the future (" + std::to_string(*exp) + ")");
    Decoded decoded;
    decoded.exp = *exp;
    if (const json::value* claim = claims.if_contains("iat"); claim && !(decoded.iat = unixSeconds(*claim)))
        return refuse(errors::kInvalidToken, "iat claim is not whole Unix seconds");
    if (const json::value* claim = claims.if_contains("nbf"); claim && !(decoded.nbf = unixSeconds(*claim)))
        return refuse(errors::kInvalidToken, "nbf claim is not whole Unix seconds");
    decoded.claims = std::move(claims);
    return decoded;
}

}  // namespace

std::string sign(const json::object& claims, const std::string& secret) {
    JwtHandle token;
    if (jwt_new(&token.jwt) != 0) throw std::runtime_error("jwt_new failed");
    if (jwt_set_alg(token.jwt, JWT_ALG_HS256, reinterpret_cast<const unsigned char*>(secret.data()),
                    static_cast<int>(secret.size())) != 0)
        throw std::runtime_error("jwt_set_alg failed");
    if (jwt_add_grants_json(token.jwt, json::serialize(claims).c_str()) != 0)
        throw std::runtime_error("jwt_add_grants_json failed");
    CString encoded{jwt_encode_str(token.jwt)};
    if (!encoded.text) throw std::runtime_error("jwt_encode_str failed");
    return encoded.text;
}

Decoded decode(std::string_view text, const std::string& secret, std::int64_t now) {
    if (text.empty()) return refuse(errors::kInvalidToken, "empty token");
    if (text.size() > IdentityTokens::kMaxTokenBytes) return refuse(errors::kInvalidToken, "token too long");
    if (text.find('\0') != std::string_view::npos) return refuse(errors::kInvalidToken, "NUL byte in token");

    // libjwt checks the format and, for HMAC algorithms, the signature with
    // our key. It would accept other algorithms (even "none"), so the
    // algorithm is checked below too.
    JwtHandle token;
    std::string terminated(text);
    int rc = jwt_decode(&token.jwt, terminated.c_str(), reinterpret_cast<const unsigned char*>(secret.data()),
                        static_cast<int>(secret.size()));
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
    return readTimes(std::move(claims.as_object()), now);
}

void checkTimes(Decoded& decoded, std::int64_t now) {
    const std::int64_t skew = IdentityTokens::kClockSkew.count();
    // RFC 7519 4.1.4: the token must not be accepted on or after exp.
    if (now >= decoded.exp) {
        decoded.error = errors::kTokenExpired;
        decoded.detail = "expired";
    } else if (decoded.nbf && *decoded.nbf > now + skew) {  // 4.1.5, the issuer's clock may be a little ahead
        decoded.error = errors::kTokenNotYetValid;
        decoded.detail = "nbf is in the future";
    } else if (decoded.iat && *decoded.iat > now + skew) {  // 4.1.6
        decoded.error = errors::kInvalidToken;
        decoded.detail = "issued in the future (iat)";
    }
}

}  // namespace snorky::hs256
