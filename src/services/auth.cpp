#include "snorky/services/auth.hpp"

#include "snorky/protocol/errors.hpp"

namespace snorky {

AuthService::AuthService(std::string name, IdentityTokensPtr tokens)
    : RpcService(std::move(name)), tokens_(std::move(tokens)) {
    command("authenticate", {required("token", ParamType::String)}, [this](Request& req) {
        IdentityTokens::Verdict verdict = tokens_->verify(req.string("token"));
        if (!verdict.ok()) {
            // Clients can trigger this at will: rate-limited, and never the token itself.
            std::uint64_t suppressed = 0;
            if (failureLog_.allow(suppressed))
                SNORKY_LOG(Info, "auth: token refused from " << req.client()->remoteAddress() << ": " << verdict.detail
                                                             << (suppressed ? " (" + std::to_string(suppressed) +
                                                                                  " similar lines suppressed)"
                                                                            : std::string()));
            throw RpcError(verdict.error);
        }
        const ClientPtr& client = req.client();
        if (client->authenticated() && client->identity() != verdict.identity)
            throw RpcError(errors::kAlreadyAuthenticated);
        client->setIdentity(verdict.identity);
        return verdict.identity;
    });
    command("whoami", {}, [](Request& req) { return req.client()->identity(); });
}

AuthBackend::AuthBackend(std::string name, AuthService& auth, Options options)
    : RpcService(std::move(name)), tokens_(auth.sharedTokens()), options_(options) {
    command("mintToken", {required("identity"), optional("lifetime", ParamType::Integer)}, [this](Request& req) {
        const json::value& identity = req.param("identity");
        if (identity.is_null() || json::serialize(identity).size() > IdentityTokens::kMaxIdentityBytes)
            throw RpcError(errors::kInvalidIdentity);
        std::chrono::seconds lifetime = options_.defaultLifetime;
        if (!req.param("lifetime").is_null()) {
            std::int64_t requested = req.integer("lifetime");
            if (requested <= 0 || requested > options_.maxLifetime.count()) throw RpcError(errors::kInvalidLifetime);
            lifetime = std::chrono::seconds(requested);
        }
        return json::value(tokens_->mint(identity, lifetime));
    });
}

}  // namespace snorky
