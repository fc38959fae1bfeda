#pragma once
// Subscription tokens: 32 characters of [a-z0-9] from OpenSSL's CSPRNG,
// uniformly distributed (rejection sampling, no modulo bias), about 165 bits.
#include <cstddef>
#include <string>

namespace snorky::datasync {

inline constexpr std::size_t kTokenLength = 32;

// Throws std::runtime_error when the CSPRNG fails (never falls back).
std::string generateToken();

}  // namespace snorky::datasync
