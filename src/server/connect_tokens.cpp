#include "server/connect_tokens.hpp"

#include "snorky/services/auth.hpp"

namespace snorky::server {

TokenVerifier connectTokenVerifier(const Config& config, const Entry& listener, Options& options,
                                   ServiceLookup& lookup) {
    std::string name = options.string("auth", "");
    if (name.empty()) {
        for (const Entry& service : config.services) {
            if (service.type != "auth" || service.registry != listener.registry) continue;
            if (!name.empty())
                options.fail("registry '" + listener.registry + "' has several auth services ('" + name + "', '" +
                             service.name + "'): choose one with auth = \"...\"");
            name = service.name;
        }
        if (name.empty()) return {};
    }
    auto& auth = lookup.serviceAs<AuthService>(name, options, "auth");
    // The verifier runs on I/O threads: it holds the (immutable, thread-safe)
    // token checker itself, not the service.
    return [tokens = auth.sharedTokens()](std::string_view token, std::string& error) {
        return tokens->verify(token, error);
    };
}

}  // namespace snorky::server
