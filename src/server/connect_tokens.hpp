#pragma once
// Connect-time identity for WebSocket listeners (ws://host/ws?token=...).
// A listener checks tokens with the auth service named by its `auth` option,
// else with the only service of type "auth" in its registry. Without one, the
// hook stays unset and the listener refuses any token (401).
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "server/config.hpp"
#include "server/service_factory.hpp"

namespace snorky::server {

using TokenVerifier = std::function<std::optional<json::value>(std::string_view token, std::string& error)>;

// Reads the listener's `auth` option from `options`. Throws ConfigError when
// it names a service that is not an auth service, or when the registry holds
// several auth services and none is named.
TokenVerifier connectTokenVerifier(const Config& config, const Entry& listener, Options& options, ServiceLookup& lookup);

}  // namespace snorky::server
