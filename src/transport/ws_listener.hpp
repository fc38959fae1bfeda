#pragma once
// Accepts TCP connections for one WebSocket listener and spreads them over
// the workers; each becomes a WsSession.
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <vector>

#include "snorky/service_registry.hpp"
#include "snorky/transport/server.hpp"
#include "transport/static_files.hpp"
#include "transport/worker.hpp"

namespace snorky {

class WsListener {
public:
    WsListener(boost::asio::io_context& ioc, std::vector<Worker*> workers, ServiceRegistry& registry,
               WebSocketOptions options);
    void start();
    void stop();
    std::uint16_t port() const { return port_; }

    const WebSocketOptions& options() const { return options_; }
    ServiceRegistry& registry() { return registry_; }
    const StaticFiles* staticFiles() const { return staticFiles_.get(); }

private:
    void doAccept();

    boost::asio::ip::tcp::acceptor acceptor_;
    boost::asio::steady_timer retryTimer_;
    std::vector<Worker*> workers_;
    std::size_t next_ = 0;
    ServiceRegistry& registry_;
    WebSocketOptions options_;
    std::unique_ptr<StaticFiles> staticFiles_;
    std::uint16_t port_ = 0;
};

}  // namespace snorky
