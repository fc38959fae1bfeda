#include "snorky/services/datasync/token.hpp"

#include <openssl/rand.h>

#include <array>
#include <stdexcept>

namespace snorky::datasync {

std::string generateToken() {
    static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    static constexpr unsigned kSymbols = 36;
    // 252 = 7 * 36: bytes at or above it would favour the first symbols.
    static constexpr unsigned kLimit = 256 - 256 % kSymbols;
    std::string token;
    token.reserve(kTokenLength);
    std::array<unsigned char, 64> bytes;
    while (token.size() < kTokenLength) {
        if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1)
            throw std::runtime_error("RAND_bytes failed: no randomness for a subscription token");
        for (unsigned char b : bytes) {
            if (b >= kLimit) continue;
            token.push_back(kAlphabet[b % kSymbols]);
            if (token.size() == kTokenLength) break;
        }
    }
    return token;
}

}  // namespace snorky::datasync
