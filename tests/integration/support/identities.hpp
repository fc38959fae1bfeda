#pragma once
// Identities in integration tests: the auth services, the secret they sign
// with (given to the server through its environment, as in production) and
// tokens, minted by the backend or signed here.
#include <map>
#include <string>

#include "support/clients.hpp"

namespace snorky::it {

inline const std::string kIdentitySecret = "it-secret-0123456789abcdef0123456789";

// The frontend `auth` and backend `auth_backend` services, as TOML;
// `backendOptions` are more lines of auth_backend's table.
std::string authServices(const std::string& backendOptions = "");
// The server's environment holding kIdentitySecret.
std::map<std::string, std::string> identityEnv();
// auth_backend.mintToken {identity, ...extra}; throws when refused.
std::string mintToken(int backendPort, json::value identity, json::object extra = {});
// Signs any claims (HS256, libjwt), for tokens the server never makes.
std::string signClaims(const std::string& claimsJson, const std::string& secret = kIdentitySecret);

}  // namespace snorky::it
