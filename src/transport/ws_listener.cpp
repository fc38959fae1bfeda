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
      settings_(settingsOf(std::move(options))),
      limits_(std::make_shared<ConnectionLimits>(this->options().maxHandshakes, this->options().maxConnectionsPerIp)) {
    const WebSocketOptions& o = this->options();
    if (!o.staticDir.empty()) staticFiles_ = std::make_unique<StaticFiles>(o.staticDir, o.staticFollowSymlinks);
    if (o.tlsCert.empty() != o.tlsKey.empty()) throw std::invalid_argument("give both tls_cert and tls_key");
    if (!o.tlsCert.empty()) tls_ = std::make_unique<TlsContext>(o.tlsCert, o.tlsKey);
}

WsListener::Settings WsListener::settingsOf(WebSocketOptions options) {
    RateLimit rate{options.rateLimit, options.rateBurst, options.rateLimitDisconnect};
    TrustedProxies proxies(options.trustedProxies);
    return Settings{std::move(options), rate, std::move(proxies)};
}

void WsListener::update(const WebSocketOptions& fresh) {
    WebSocketOptions next = liveWebSocketOptions(options(), fresh);
    limits_->setCaps(next.maxHandshakes, next.maxConnectionsPerIp);
    settings_.publish(settingsOf(std::move(next)));
}

WebSocketOptions liveWebSocketOptions(const WebSocketOptions& running, const WebSocketOptions& fresh) {
    WebSocketOptions next = running;
    next.pingInterval = fresh.pingInterval;
    next.idleTimeout = fresh.idleTimeout;
    next.handshakeTimeout = fresh.handshakeTimeout;
    next.maxMessageSize = fresh.maxMessageSize;
    next.maxQueueBytes = fresh.maxQueueBytes;
    next.allowedOrigins = fresh.allowedOrigins;
    next.rateLimit = fresh.rateLimit;
    next.rateBurst = fresh.rateBurst;
    next.rateLimitDisconnect = fresh.rateLimitDisconnect;
    next.maxConnectionsPerIp = fresh.maxConnectionsPerIp;
    next.trustedProxies = fresh.trustedProxies;
    next.maxHandshakes = fresh.maxHandshakes;
    next.compression = fresh.compression;
    next.compressionThreshold = fresh.compressionThreshold;
    return next;
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
                SNORKY_LOG(Warn, "port " << port() << ": " << options().maxHandshakes
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
