#pragma once
// Accepts TCP connections for one WebSocket listener and spreads them over
// the workers; each becomes a WsSession.
#include <memory>
#include <vector>

#include "snorky/service_registry.hpp"
#include "snorky/transport/server.hpp"
#include "transport/acceptor.hpp"
#include "transport/static_files.hpp"
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

private:
    Acceptor acceptor_;
    ServiceRegistry& registry_;
    WebSocketOptions options_;
    std::unique_ptr<StaticFiles> staticFiles_;
};

}  // namespace snorky
