// Identity token verification (src/services/identity_tokens.cpp; the
// connect-time hook of src/server/connect_tokens.cpp calls the same verify).
// The first byte picks what the rest is:
//   0: a whole token, verified as is (format, base64, signature);
//   1: the claims, signed with the right key under an HS256 header, so the
//      fuzzer gets past the signature to the claims checks;
//   2: the header, with valid claims and a signature by the right key, for
//      the algorithm checks ("none", RS256...).
// Never a partial identity: either ok() with a non-null identity, or an error.
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <string>

#include "fuzz_check.hpp"
#include "snorky/protocol/errors.hpp"
#include "snorky/services/identity_tokens.hpp"

using namespace snorky;

namespace {
constexpr std::string_view kSecret = "fuzz-secret-fuzz-secret-fuzz-secret!";
constexpr std::int64_t kNow = 1'700'000'000;

std::string base64url(std::string_view in) {
    static const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string out;
    std::size_t i = 0;
    for (; i + 2 < in.size(); i += 3) {
        unsigned n = (std::uint8_t(in[i]) << 16) | (std::uint8_t(in[i + 1]) << 8) | std::uint8_t(in[i + 2]);
        for (int shift = 18; shift >= 0; shift -= 6) out += alphabet[(n >> shift) & 63];
    }
    if (i + 1 == in.size()) {
        unsigned n = std::uint8_t(in[i]) << 16;
        out += alphabet[(n >> 18) & 63];
        out += alphabet[(n >> 12) & 63];
    } else if (i + 2 == in.size()) {
        unsigned n = (std::uint8_t(in[i]) << 16) | (std::uint8_t(in[i + 1]) << 8);
        out += alphabet[(n >> 18) & 63];
        out += alphabet[(n >> 12) & 63];
        out += alphabet[(n >> 6) & 63];
    }
    return out;
}

std::string signedToken(std::string_view header, std::string_view claims) {
    std::string input = base64url(header) + "." + base64url(claims);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    HMAC(EVP_sha256(), kSecret.data(), static_cast<int>(kSecret.size()),
         reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &length);
    return input + "." + base64url(std::string_view(reinterpret_cast<const char*>(mac), length));
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const IdentityTokens tokens(std::string(kSecret), [] { return kNow; });
    if (size == 0) return 0;
    std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
    std::string token;
    switch (data[0] % 3) {
        case 0: token = rest; break;
        case 1: token = signedToken(R"({"alg":"HS256","typ":"JWT"})", rest); break;
        case 2: token = signedToken(rest, R"({"identity":{"user":"alice"},"iat":1699999000,"exp":1700001000})"); break;
    }
    IdentityTokens::Verdict verdict = tokens.verify(token);
    if (verdict.ok()) {
        FUZZ_CHECK(!verdict.identity.is_null());
        FUZZ_CHECK(verdict.detail.empty());
    } else {
        FUZZ_CHECK(verdict.identity.is_null());
        FUZZ_CHECK(verdict.error == errors::kInvalidToken || verdict.error == errors::kTokenExpired ||
                   verdict.error == errors::kTokenNotYetValid);
    }
    std::string error;
    auto identity = tokens.verify(token, error);
    FUZZ_CHECK(identity.has_value() == verdict.ok());
    FUZZ_CHECK(identity.has_value() == error.empty());
    return 0;
}
