#pragma once
// Accepts TCP connections for one WebSocket listener and spreads them over
// the workers; each becomes a WsSession.
#include <memory>
#include <vector>

#include "snorky/core/service_registry.hpp"
#include "snorky/transport/server.hpp"
#include "transport/acceptor.hpp"
#include "transport/connection_limits.hpp"
#include "transport/published.hpp"
#include "transport/rate_limiter.hpp"
#include "transport/static_files.hpp"
#include "transport/tls_context.hpp"
#include "transport/trusted_proxies.hpp"
#include "transport/worker.hpp"

namespace snorky {

class WsListener {
public:
    WsListener(boost::asio::io_context& ioc, std::vector<Worker*> workers, ServiceRegistry& registry,
               WebSocketOptions options);
    void start();
    void stop();
    std::uint16_t port() const { return acceptor_.port(); }

    // The current settings (a reload may publish new ones; see update()).
    const WebSocketOptions& options() const { return settings_.get().options; }
    ServiceRegistry& registry() { return registry_; }
    const StaticFiles* staticFiles() const { return staticFiles_.get(); }
    const RateLimit& rateLimit() const { return settings_.get().rateLimit; }
    const TrustedProxies& trustedProxies() const { return settings_.get().trustedProxies; }
    // Reload: takes the live keys of `fresh` (limits, origins, timeouts,
    // compression; see liveWebSocketOptions) and keeps the rest. Any thread.
    void update(const WebSocketOptions& fresh);
    ConnectionLimits& limits() { return *limits_; }
    TlsContext* tls() { return tls_.get(); }  // nullptr: plain ws://

private:
    struct Settings {
        WebSocketOptions options;
        RateLimit rateLimit;
        TrustedProxies trustedProxies;
    };
    static Settings settingsOf(WebSocketOptions options);

    Acceptor acceptor_;
    ServiceRegistry& registry_;
    Published<Settings> settings_;
    std::shared_ptr<ConnectionLimits> limits_;
    std::unique_ptr<StaticFiles> staticFiles_;
    std::unique_ptr<TlsContext> tls_;
};

// `running` with the keys a reload may change on a running listener taken
// from `fresh`: what only concerns the next connection, upgrade, message or
// ping. Address, port, path, static files, TLS files and connect tokens stay.
WebSocketOptions liveWebSocketOptions(const WebSocketOptions& running, const WebSocketOptions& fresh);

}  // namespace snorky
