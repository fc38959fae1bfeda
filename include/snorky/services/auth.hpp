#pragma once
// Identity over RPC (protocol.md section 6). The frontend AuthService lets a
// client prove an identity with a token; the backend AuthBackend mints tokens
// for applications that have no JWT library. Both use the same IdentityTokens
// (the same secret): an AuthBackend is bound to one AuthService, as a
// PubSubBackend is bound to its PubSubService.
//
// Identity is per connection (Client::setIdentity) and seen by every service
// of the registry. Re-authentication: a client may authenticate again with a
// token for the identity it already has (e.g. a fresh token; nothing changes);
// a token for a different identity is refused ("Already authenticated"), so
// services such as Chat never see a connection change who it is. A client
// that wants another identity opens another connection.
#include <chrono>
#include <string>

#include "snorky/core/log.hpp"
#include "snorky/core/rpc_service.hpp"
#include "snorky/services/identity_tokens.hpp"

namespace snorky {

class AuthService : public RpcService {
public:
    // Commands: authenticate {token} -> identity; whoami {} -> identity or null.
    AuthService(std::string name, IdentityTokensPtr tokens);

    const IdentityTokens& tokens() const { return *tokens_; }
    // Shared with the transport for connect-time tokens (?token=...).
    const IdentityTokensPtr& sharedTokens() const { return tokens_; }

private:
    IdentityTokensPtr tokens_;
    log::RateLimit failureLog_;
};

class AuthBackend : public RpcService {
public:
    struct Options {
        std::chrono::seconds defaultLifetime{3600};  // when mintToken has no lifetime
        std::chrono::seconds maxLifetime{86400};     // longest lifetime mintToken grants
    };
    // Commands: mintToken {identity, lifetime?} -> token (a string).
    AuthBackend(std::string name, AuthService& auth, Options options);
    AuthBackend(std::string name, AuthService& auth) : AuthBackend(std::move(name), auth, Options{}) {}

private:
    IdentityTokensPtr tokens_;
    Options options_;
};

}  // namespace snorky
