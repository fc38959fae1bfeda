#pragma once
// Accepts TCP connections for one WebSocket listener and spreads them over
// the workers; each becomes a WsSession.
#include <memory>
#include <vector>

#include "snorky/core/service_registry.hpp"
#include "snorky/transport/server.hpp"
#include "transport/acceptor.hpp"
#include "transport/connection_limits.hpp"
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

    const WebSocketOptions& options() const { return options_; }
    ServiceRegistry& registry() { return registry_; }
    const StaticFiles* staticFiles() const { return staticFiles_.get(); }
    const RateLimit& rateLimit() const { return rateLimit_; }
    const TrustedProxies& trustedProxies() const { return trustedProxies_; }
    ConnectionLimits& limits() { return *limits_; }
    TlsContext* tls() { return tls_.get(); }  // nullptr: plain ws://

private:
    Acceptor acceptor_;
    ServiceRegistry& registry_;
    WebSocketOptions options_;
    RateLimit rateLimit_;
    TrustedProxies trustedProxies_;
    std::shared_ptr<ConnectionLimits> limits_;
    std::unique_ptr<StaticFiles> staticFiles_;
    std::unique_ptr<TlsContext> tls_;
};

}  // namespace snorky
