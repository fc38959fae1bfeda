#pragma once
// The HTTP backend: POST <path> with an envelope and X-Backend-Key; the reply
// envelope comes back with status 200 (protocol.md section 3).
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <atomic>
#include <string>
#include <vector>

#include "snorky/service_registry.hpp"
#include "snorky/transport/server.hpp"
#include "transport/worker.hpp"

namespace snorky {

class BackendListener {
public:
    BackendListener(boost::asio::io_context& ioc, std::vector<Worker*> workers, ServiceRegistry& registry,
                    BackendOptions options);
    void start();
    void stop();
    std::uint16_t port() const { return port_; }

    const BackendOptions& options() const { return options_; }
    ServiceRegistry& registry() { return registry_; }
    // Constant-time comparison of a presented key with the configured one.
    bool keyMatches(std::string_view presented) const;
    // Requests read but not yet answered (graceful shutdown waits for them).
    std::atomic<int> inFlight{0};
    bool stopping() const { return stopping_; }

private:
    void doAccept();

    boost::asio::ip::tcp::acceptor acceptor_;
    boost::asio::steady_timer retryTimer_;
    std::vector<Worker*> workers_;
    std::size_t next_ = 0;
    ServiceRegistry& registry_;
    BackendOptions options_;
    unsigned char keyDigest_[32];
    std::uint16_t port_ = 0;
    std::atomic<bool> stopping_{false};
};

}  // namespace snorky
