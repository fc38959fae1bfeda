#include "transport/ws_listener.hpp"

#include <boost/asio/post.hpp>

#include "snorky/core/log.hpp"
#include "transport/ws_session.hpp"

namespace snorky {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

WsListener::WsListener(asio::io_context& ioc, std::vector<Worker*> workers, ServiceRegistry& registry,
                       WebSocketOptions options)
    : acceptor_(ioc, std::move(workers), options.address, options.port),
      registry_(registry),
      options_(std::move(options)),
      rateLimit_{options_.rateLimit, options_.rateBurst, options_.rateLimitDisconnect},
      trustedProxies_(options_.trustedProxies),
      limits_(std::make_shared<ConnectionLimits>(options_.maxHandshakes, options_.maxConnectionsPerIp)) {
    if (!options_.staticDir.empty()) staticFiles_ = std::make_unique<StaticFiles>(options_.staticDir, options_.staticFollowSymlinks);
    if (options_.tlsCert.empty() != options_.tlsKey.empty()) throw std::invalid_argument("give both tls_cert and tls_key");
    if (!options_.tlsCert.empty()) tls_ = std::make_unique<TlsContext>(options_.tlsCert, options_.tlsKey);
}

void WsListener::start() {
    acceptor_.start([this](Worker& worker, tcp::socket socket) {
        // A slowloris (many connections that never finish their request) must
        // not take every descriptor: past the cap, new ones are closed at once.
        auto handshake = limits_->beginHandshake();
        if (!handshake) {
            registry_.node().metrics().handshakesRefused.fetch_add(1, std::memory_order_relaxed);
            static log::RateLimit limit(1, std::chrono::seconds(10));
            std::uint64_t suppressed = 0;
            if (limit.allow(suppressed))
                SNORKY_LOG(Warn, "port " << port() << ": " << options_.maxHandshakes
                                         << " handshakes in progress (max_handshakes), closing new connections");
            return;  // the socket closes here
        }
        boost::system::error_code endpointError;
        auto remote = socket.remote_endpoint(endpointError);
        std::string address = endpointError ? "unknown" : remote.address().to_string() + ":" + std::to_string(remote.port());
        auto session = std::make_shared<WsSession>(std::move(socket), *this, worker, std::move(address),
                                                   std::move(*handshake), tls_ ? tls_->current() : nullptr);
        asio::post(worker.ioc(), [session] { session->start(); });
    });
}

void WsListener::stop() { acceptor_.stop(); }

}  // namespace snorky
